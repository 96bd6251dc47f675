// report.html's tables: findings, exemptions (with their config warnings), checks, accounts and users.
import {
  CHECK_INFO,
  type CheckId,
  describeDevice,
  type ExemptionSubject,
  exemptionMatches,
  expiryInstant,
  type Finding,
  plural,
  principalLabel,
  type ReportAccount,
  type ReportUser,
  RULES,
  type ScanReport,
} from "@orgmfa/core";
import { checkName, cols, DAY_MS, h, headerRow, severityBadge, soft, when } from "./format";

/** Each check's defaults, to tell a configured severity or switch from the default one. */
const DEFAULTS = new Map(RULES.map((r) => [r.checkId as string, r]));

/** How an account's users were collected, in words. */
function collectionText(a: ReportAccount): string {
  if (a.collection === "FULLY_LIVE") return "every user read live from IAM";
  if (a.collection === "REPORT_CONFIRMED_LIVE")
    return `credential report of ${when(a.credentialReportGeneratedAt)}; users it does not clear were read live`;
  return a.credentialReportGeneratedAt ? `credential report of ${when(a.credentialReportGeneratedAt)}` : "";
}

/** One account of the ledger; `users` is its number of users when already counted (packed users are then not read). */
export function accountRow(
  a: ReportAccount,
  open: number,
  users = a.status === "AUDITED" ? a.users.length : 0,
): string {
  const notes = a.notes?.length ? `<ul class="notes">${a.notes.map((n) => `<li>${h(n)}</li>`).join("")}</ul>` : "";
  const detail =
    a.status === "FAILED"
      ? soft(`${a.reason}: ${a.error?.code ?? ""} — ${a.error?.message ?? ""}`)
      : a.status === "AUDITED"
        ? `<span class="muted">${collectionText(a)}</span>${notes}`
        : h(a.reason ?? "");
  return (
    `<tr class="status-${h(a.status.toLowerCase())}"><td>${h(a.accountName)}<div class="muted">${h(a.accountId)}</div></td>` +
    `<td>${soft(a.ouPath)}</td><td>${soft(a.owner ?? "")}</td><td><span class="badge ${h(a.status.toLowerCase())}">${h(a.status)}</span></td>` +
    `<td>${a.root ? rootCell(a.root) : "—"}</td>` +
    `<td class="num">${a.status === "AUDITED" ? users : "—"}</td><td class="num">${open}</td><td>${detail}</td></tr>`
  );
}

/** Root in the accounts table: credentials / MFA, how root was read, and its devices by class. */
function rootCell(root: NonNullable<ReportAccount["root"]>): string {
  const devices = root.devices?.length ? root.devices.map((d) => describeDevice(d)).join(", ") : "";
  const how = root.via === "ASSUME_ROOT" ? "read through a root session (every device)" : "";
  const detail = [how, devices].filter(Boolean).join("; ");
  return `${h(root.credentials)} / ${h(root.mfa)}${detail ? `<div class="muted">${h(detail)}</div>` : ""}`;
}

export function findingRow(f: Finding, ouPath: string): string {
  const status =
    f.status === "EXEMPTED"
      ? `EXEMPTED until ${h(f.exemption?.expires)}<div class="muted">${h(f.exemption?.reason)}</div>`
      : f.enrolBy
        ? `OPEN<div class="muted">enrol by ${h(f.enrolBy.slice(0, 10))}</div>`
        : "OPEN";
  return (
    `<tr><td>${severityBadge(f.severity)}</td>` +
    `<td>${checkName(f.checkId)}</td><td>${h(f.accountName)}<div class="muted">${h(f.accountId)} · ${soft(ouPath)}</div></td>` +
    `<td>${h(principalLabel(f))}</td><td>${h(f.title)}<div class="muted">${h(CHECK_INFO[f.checkId]?.remediation)}</div></td><td>${status}</td></tr>`
  );
}

/** Where a user's verdict came from (reports before 0.2 only say whether it was read live). */
export const verdictSource = (u: ReportUser) => u.verdictSource ?? (u.verifiedLive ? "LIVE" : "CREDENTIAL_REPORT");

/**
 * One account's users under a group heading: the first `shown` of them (all by default), the heading
 * saying how many are left out when not all are shown.
 */
export function userRows(
  a: ReportAccount,
  findingsOf: Map<string, Finding[]>,
  shown = Number.POSITIVE_INFINITY,
): string {
  const all = a.users;
  const users = shown < all.length ? all.slice(0, shown) : all;
  const cut =
    users.length < all.length
      ? ` · <strong class="partial">${users.length} of ${plural(all.length, "user")} shown, ${all.length - users.length} left out (users.csv)</strong>`
      : "";
  const group =
    `<tr class="group"><th colspan="7" scope="rowgroup">${h(a.accountName)} <span class="muted">${h(a.accountId)} · ${h(a.ouPath)}` +
    `${a.collection || a.credentialReportGeneratedAt ? ` · ${collectionText(a)}` : ""}</span>${cut}` +
    `${a.notes?.length ? `<ul class="notes">${a.notes.map((n) => `<li>${h(n)}</li>`).join("")}</ul>` : ""}</th></tr>`;
  const rows = users.map((u) => {
    const source = verdictSource(u);
    const asOf =
      u.verdictAsOf !== undefined
        ? u.verdictAsOf
        : source === "CREDENTIAL_REPORT"
          ? a.credentialReportGeneratedAt
          : null;
    const credentials = [u.consoleAccess ? "console" : "", u.activeAccessKeys ? plural(u.activeAccessKeys, "key") : ""]
      .filter(Boolean)
      .join(", ");
    const devices = u.mfaDevices.length
      ? u.mfaDevices.map((d) => h(describeDevice(d))).join(", ")
      : u.mfaActive
        ? "on (not a virtual device; not listed)"
        : "none";
    const complete =
      u.mfaDevicesComplete === undefined
        ? `<span class="muted">not recorded</span>`
        : u.mfaDevicesComplete
          ? "complete"
          : `<span class="partial">partial</span><div class="muted">${u.mfaDevices.length ? "virtual devices only" : "MFA on, device not listed"}</div>`;
    const findings = (findingsOf.get(u.arn) ?? [])
      .map(
        (f) =>
          `<div>${checkName(f.checkId)}${f.status === "EXEMPTED" ? ` <span class="muted">(exempted)</span>` : ""}</div>`,
      )
      .join("");
    return (
      `<tr><td>${h(u.userName)}<div class="muted">${soft(u.arn)}</div></td><td>${credentials || "none"}</td><td>${devices}</td>` +
      `<td>${findings || `<span class="muted">none</span>`}</td>` +
      `<td class="source">${source === "LIVE" ? "live IAM read" : "credential report"}</td><td>${when(asOf)}</td><td>${complete}</td></tr>`
    );
  });
  return `<tbody>${group}${rows.join("")}</tbody>`;
}

/** Whom a finding is about, as exemptions match it. */
function subjectOf(f: Finding): ExemptionSubject {
  return {
    accountId: f.accountId,
    checkId: f.checkId,
    principal:
      f.principalArn === null
        ? { kind: "account" }
        : f.userName === null
          ? { kind: "root" }
          : { kind: "user", userName: f.userName },
  };
}

type ReportExemption = NonNullable<ScanReport["exemptions"]>[number];
export type Warning = NonNullable<ScanReport["warnings"]>[number];

export function exemptionsTable(report: ScanReport, warningsFor: (i: number) => Warning[]): string {
  const exemptions = report.exemptions;
  if (!exemptions)
    return `<p id="exemptions" class="muted">The exemptions in force are not recorded in this report (written before orgmfa 0.2).</p>`;
  if (!exemptions.length) return `<p id="exemptions">No exemptions configured: every finding is open.</p>`;
  const finished = new Date(report.finishedAt).getTime();
  const names = new Map(report.accounts.map((a) => [a.accountId, a.accountName]));
  // Each exempted finding is counted against the first exemption in force that matches it, as evaluation picks it.
  const covered = exemptions.map(() => 0);
  for (const f of report.findings) {
    const matches = (e: ReportExemption) => exemptionMatches(e, subjectOf(f));
    if (f.status === "EXEMPTED") {
      const i = exemptions.findIndex((e) => e.status === "ACTIVE" && matches(e));
      if (i >= 0) covered[i] = (covered[i] ?? 0) + 1;
    } else {
      exemptions.forEach((e, i) => {
        if (e.status === "EXPIRED" && matches(e)) covered[i] = (covered[i] ?? 0) + 1;
      });
    }
  }
  const rows = exemptions.map((e, i) => {
    const expiry = expiryInstant(e.expires).getTime();
    const flags: string[] = [];
    if (e.status === "EXPIRED") flags.push(`<span class="badge failed">EXPIRED</span> no longer applies`);
    else {
      flags.push(`<span class="badge audited">ACTIVE</span>`);
      if (expiry - finished > 365 * DAY_MS)
        flags.push(`<span class="flag">runs ${Math.floor((expiry - finished) / DAY_MS)} days, more than a year</span>`);
      else if (expiry - finished <= 14 * DAY_MS) flags.push(`<span class="flag">expires within 14 days</span>`);
    }
    const n = covered[i] ?? 0;
    const scope = e.status === "EXPIRED" ? plural(n, "open finding") : `${plural(n, "finding")} exempted`;
    const account =
      e.account === "*" ? "every account" : `${h(names.get(e.account) ?? "")}<div class="muted">${h(e.account)}</div>`;
    const who =
      e.principal === "*"
        ? 'everyone <span class="muted">(root, users and the account)</span>'
        : e.principal === "root"
          ? "root user"
          : `<code>${h(e.principal)}</code>`;
    const checks = e.checks === "*" ? "every check" : e.checks.map((c) => `<div>${checkName(c)}</div>`).join("");
    const warnings = warningsFor(i)
      .map(
        (w) =>
          `<tr class="warn-row"><td colspan="6"><span class="warn-label">Warning</span> <code>${h(w.field)}</code>: ${h(w.message)}</td></tr>`,
      )
      .join("");
    return (
      `<tbody data-exemption="${i}"><tr><td>${account}</td><td>${who}</td><td>${checks}</td><td>${h(e.reason)}</td>` +
      `<td>${h(e.expires)}</td><td>${flags.join(" ")}<div class="muted">${scope}</div></td></tr>${warnings}</tbody>`
    );
  });
  return (
    `<table id="exemptions">${cols(17, 13, 20, 23, 11, 16)}${headerRow("Account", "Principal", "Checks", "Reason", "Expires", "Status")}` +
    `${rows.join("")}</table>`
  );
}

export function checksTable(report: ScanReport): string {
  if (!report.checks)
    return `<p id="checks" class="muted">The checks this scan ran are not recorded in this report (written before orgmfa 0.2).</p>`;
  const count = (id: CheckId, status: Finding["status"]) =>
    report.findings.filter((f) => f.checkId === id && f.status === status).length;
  const rows = report.checks.map((c) => {
    const d = DEFAULTS.get(c.id);
    const configured = (v: boolean) => (v ? ` <span class="muted">(set by the config)</span>` : "");
    const severity =
      severityBadge(c.severity) +
      `${d && d.severity !== c.severity ? `<div class="muted">default ${h(d.severity)}</div>` : ""}`;
    const controls = c.controls.length
      ? c.controls.map((k) => `<span class="control">${h(k)}</span>`).join(" ")
      : `<span class="muted">${c.id === "ACCOUNT_NOT_AUDITED" ? "none: the scan's own coverage" : "none"}</span>`;
    return (
      `<tr class="${c.enabled ? "" : "off"}" data-check="${h(c.id)}"><td>${checkName(c.id)}<div class="muted">${h(CHECK_INFO[c.id]?.description)}</div></td>` +
      `<td>${c.enabled ? "ran" : "off"}${configured(!!d && d.enabledByDefault !== c.enabled)}</td><td>${severity}</td><td>${controls}</td>` +
      `<td class="num">${c.enabled ? count(c.id, "OPEN") : "—"}</td><td class="num">${c.enabled ? count(c.id, "EXEMPTED") : "—"}</td></tr>`
    );
  });
  return (
    `<p class="muted legend">Related controls: <strong>IAM.n</strong> are AWS Security Hub controls (AWS Foundational Security Best Practices), ` +
    `<strong>CIS n.n</strong> are recommendations of the CIS AWS Foundations Benchmark. A principal a check flags fails every control listed with it.</p>` +
    `<table id="checks">${cols(44, 11, 13, 16, 8, 8)}${headerRow("Check", "Ran", "Severity", "Related controls", "Open", "Exempted")}` +
    `<tbody>${rows.join("")}</tbody></table>`
  );
}
