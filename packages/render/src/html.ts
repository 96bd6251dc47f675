import {
  CHECK_INFO,
  type CheckId,
  type ExemptionSubject,
  exemptionMatches,
  expiryInstant,
  type Finding,
  headline,
  headlineText,
  plural,
  principalLabel,
  type ReportAccount,
  type ReportUser,
  RULES,
  type ScanReport,
  SEVERITIES,
  type Severity,
  unknownBecause,
  verdictSentence,
  withoutMfaKnown,
} from "@orgmfa/core";
import escapeHtml from "escape-html";

/** Escapes text for HTML and SVG, attribute values included (`&`, `<`, `>`, `"`, `'`). */
const h = (v: unknown): string => escapeHtml(v === null || v === undefined ? "" : String(v));

const SEVERITY_COLOUR: Record<Severity, string> = {
  CRITICAL: "#8b0000",
  HIGH: "#d1352b",
  MEDIUM: "#e08a00",
  LOW: "#2f7fc1",
  INFORMATIONAL: "#6b7280",
};

interface Bar {
  label: string;
  value: number;
  colour?: string;
}

/** A horizontal bar chart as inline SVG (no script, no external resource). */
export function barChart(title: string, bars: readonly Bar[], options: { id: string; max?: number } = { id: "chart" }) {
  const rowH = 22;
  const labelW = 230;
  const barW = 220;
  const height = Math.max(1, bars.length) * rowH + 8;
  const max = options.max ?? Math.max(1, ...bars.map((b) => b.value));
  const rows = bars.length
    ? bars
        .map((b, i) => {
          const y = i * rowH + 4;
          const w = b.value === 0 ? 0 : Math.max(2, Math.round((b.value / max) * barW));
          const label = b.label.length > 34 ? `…${b.label.slice(-33)}` : b.label;
          return (
            `<g><title>${h(b.label)}: ${b.value}</title>` +
            `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${h(label)}</text>` +
            `<rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 8}" fill="${b.colour ?? "#4b5563"}" rx="2"/>` +
            `<text x="${labelW + w + 6}" y="${y + 15}">${b.value}</text></g>`
          );
        })
        .join("")
    : `<text x="8" y="18">Nothing to show</text>`;
  return (
    `<figure class="chart" id="${h(options.id)}"><figcaption>${h(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${h(title)}" width="${labelW + barW + 50}" height="${height}" viewBox="0 0 ${labelW + barW + 50} ${height}" font-size="12" font-family="system-ui, sans-serif">${rows}</svg></figure>`
  );
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function topBars(entries: Array<[string, number]>, limit: number): Bar[] {
  const bars = entries.slice(0, limit).map(([label, value]) => ({ label, value }));
  const rest = entries.slice(limit).reduce((n, [, v]) => n + v, 0);
  if (rest > 0) bars.push({ label: `${entries.length - limit} more`, value: rest });
  return bars;
}

const pct = (n: number) => `${(n * 100).toFixed(n === 1 ? 0 : 1)}%`;
const DAY_MS = 86_400_000;
const NOT_RECORDED = `<span class="muted">not recorded (report written before orgmfa 0.2)</span>`;

/** Each check's defaults, to tell a configured severity or switch from the default one. */
const DEFAULTS = new Map(RULES.map((r) => [r.checkId as string, r]));

/** A check id that may wrap at its underscores in a narrow column. */
const checkName = (id: string) => h(id).replace(/_/g, "_<wbr>");

/** Escaped text that may also wrap after `/`, `:` and `@` (OU paths, ARNs, e-mail addresses). */
const soft = (v: unknown) => h(v).replace(/[/:@]/g, (c) => `${c}<wbr>`);

/** An instant for people (`2026-11-22 00:33:56 UTC`), machine-readable in `datetime`. */
function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return `<time datetime="${h(iso)}">${h(m ? `${m[1]} ${m[2]} UTC` : iso)}</time>`;
}

/** A CSS string literal that cannot end the string or the style element, whatever `v` holds. */
const cssString = (v: string) =>
  `"${[...v].map((c) => (/[A-Za-z0-9 ._:/-]/.test(c) ? c : `\\${(c.codePointAt(0) ?? 32).toString(16)} `)).join("")}"`;

/** Column widths (percent), so a table lays out the same on screen and on an A4 page. */
const cols = (...widths: number[]) => `<colgroup>${widths.map((w) => `<col style="width:${w}%">`).join("")}</colgroup>`;

function card(label: string, value: string, detail: string, cls = ""): string {
  return `<div class="card ${cls}"><div class="label">${h(label)}</div><div class="value">${h(value)}</div><div class="detail">${h(detail)}</div></div>`;
}

/** How an account's users were collected, in words. */
function collectionText(a: ReportAccount): string {
  if (a.collection === "FULLY_LIVE") return "every user read live from IAM";
  if (a.collection === "REPORT_CONFIRMED_LIVE")
    return `credential report of ${when(a.credentialReportGeneratedAt)}; users it does not clear were read live`;
  return a.credentialReportGeneratedAt ? `credential report of ${when(a.credentialReportGeneratedAt)}` : "";
}

function accountRow(a: ReportAccount, open: number): string {
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
    `<td>${a.root ? `${h(a.root.credentials)} / ${h(a.root.mfa)}` : "—"}</td>` +
    `<td class="num">${a.status === "AUDITED" ? a.users.length : "—"}</td><td class="num">${open}</td><td>${detail}</td></tr>`
  );
}

function findingRow(f: Finding, ouPath: string): string {
  const status =
    f.status === "EXEMPTED"
      ? `EXEMPTED until ${h(f.exemption?.expires)}<div class="muted">${h(f.exemption?.reason)}</div>`
      : "OPEN";
  return (
    `<tr><td><span class="sev" style="background:${SEVERITY_COLOUR[f.severity]}">${h(f.severity)}</span></td>` +
    `<td>${checkName(f.checkId)}</td><td>${h(f.accountName)}<div class="muted">${h(f.accountId)} · ${soft(ouPath)}</div></td>` +
    `<td>${h(principalLabel(f))}</td><td>${h(f.title)}<div class="muted">${h(CHECK_INFO[f.checkId]?.remediation)}</div></td><td>${status}</td></tr>`
  );
}

/** Where a user's verdict came from (reports before 0.2 only say whether it was read live). */
const verdictSource = (u: ReportUser) => u.verdictSource ?? (u.verifiedLive ? "LIVE" : "CREDENTIAL_REPORT");

function userRows(a: ReportAccount, findingsOf: Map<string, Finding[]>): string {
  const group =
    `<tr class="group"><th colspan="7">${h(a.accountName)} <span class="muted">${h(a.accountId)} · ${h(a.ouPath)}` +
    `${a.collection || a.credentialReportGeneratedAt ? ` · ${collectionText(a)}` : ""}</span>` +
    `${a.notes?.length ? `<ul class="notes">${a.notes.map((n) => `<li>${h(n)}</li>`).join("")}</ul>` : ""}</th></tr>`;
  const rows = a.users.map((u) => {
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
      ? u.mfaDevices.map((d) => h(d.type)).join(", ")
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
type Warning = NonNullable<ScanReport["warnings"]>[number];

function exemptionsTable(report: ScanReport, warningsFor: (i: number) => Warning[]): string {
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
    `<table id="exemptions">${cols(17, 13, 20, 23, 11, 16)}<thead><tr><th>Account</th><th>Principal</th><th>Checks</th><th>Reason</th><th>Expires</th><th>Status</th></tr></thead>` +
    `${rows.join("")}</table>`
  );
}

function checksTable(report: ScanReport): string {
  if (!report.checks)
    return `<p id="checks" class="muted">The checks this scan ran are not recorded in this report (written before orgmfa 0.2).</p>`;
  const count = (id: CheckId, status: Finding["status"]) =>
    report.findings.filter((f) => f.checkId === id && f.status === status).length;
  const rows = report.checks.map((c) => {
    const d = DEFAULTS.get(c.id);
    const configured = (v: boolean) => (v ? ` <span class="muted">(set by the config)</span>` : "");
    const severity =
      `<span class="sev" style="background:${SEVERITY_COLOUR[c.severity] ?? "#4b5563"}">${h(c.severity)}</span>` +
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
    `<table id="checks">${cols(44, 11, 13, 16, 8, 8)}<thead><tr><th>Check</th><th>Ran</th><th>Severity</th><th>Related controls</th><th>Open</th><th>Exempted</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table>`
  );
}

/** The facts an auditor signs off: who scanned what, where, when, with which filters and config. */
/** What the page says about every user, counted in one pass (each account's users read once). */
interface UserStats {
  total: number;
  partial: number;
  bySource: Array<[string, number]>;
  /** Audited accounts with at least one user, in ledger order. */
  withUsers: ReportAccount[];
}

function userStats(report: ScanReport): UserStats {
  const sources = new Map<string, number>();
  const withUsers: ReportAccount[] = [];
  let total = 0;
  let partial = 0;
  for (const a of report.accounts) {
    if (a.status !== "AUDITED") continue;
    const users = a.users;
    if (users.length) withUsers.push(a);
    for (const u of users) {
      total++;
      if (u.mfaDevicesComplete === false) partial++;
      const s = verdictSource(u);
      sources.set(s, (sources.get(s) ?? 0) + 1);
    }
  }
  const bySource = [...sources.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  return { total, partial, bySource, withUsers };
}

function scanFacts(
  report: ScanReport,
  stats: UserStats,
  generalWarnings: Warning[],
  exemptionWarnings: number,
): string {
  const run = report.run;
  const a = report.summary.accounts;
  const audited = report.accounts.filter((x) => x.status === "AUDITED");
  const seconds = Math.max(0, (new Date(report.finishedAt).getTime() - new Date(report.startedAt).getTime()) / 1000);

  const filters = (() => {
    if (!run) return NOT_RECORDED;
    const parts = (
      [
        ["only accounts", run.filters.accounts],
        ["excluding accounts", run.filters.excludeAccounts],
        ["only OUs", run.filters.ous],
        ["excluding OUs", run.filters.excludeOus],
      ] as const
    )
      .filter(([, ids]) => ids.length)
      .map(([label, ids]) => `${label} <code>${ids.map(h).join(", ")}</code>`);
    return parts.length ? parts.join(" · ") : "none: every account of the organization";
  })();

  const { bySource, partial } = stats;
  const inventory = !run
    ? NOT_RECORDED
    : run.completeInventory
      ? "complete: every user's MFA devices were listed live (--complete-inventory)"
      : `as each verdict needed: ${partial ? `${plural(partial, "user's device list is", "users' device lists are")} partial (only what the verdict needed: the virtual devices that prove MFA, or the report's word that MFA is on)` : "every user's device list is complete"}`;
  const verdicts = stats.total
    ? bySource.map(([s, n]) => `${n} from ${s === "LIVE" ? "live IAM reads" : "the credential report"}`).join(" · ")
    : "no IAM users in the audited accounts";
  const fallback = audited.filter((x) => x.collection === "FULLY_LIVE").length;
  const noted = audited.filter((x) => x.notes?.length).length;
  const collection =
    `${plural(audited.length, "account")} audited` +
    (fallback ? ` · ${plural(fallback, "account")} read fully live (credential report fallback)` : "") +
    (noted
      ? ` · <span class="partial">${plural(noted, "account has", "accounts have")} collection notes (see Accounts)</span>`
      : "");

  const warningCount = report.warnings?.length ?? 0;
  const warnings = !warningCount
    ? run
      ? "none"
      : `<span class="muted">none recorded</span>`
    : `<span class="partial">${plural(warningCount, "config warning")}</span>` +
      (exemptionWarnings ? ` (${exemptionWarnings} shown with the exemption it concerns, under Exemptions)` : "") +
      (generalWarnings.length
        ? `<ul class="notes">${generalWarnings.map((w) => `<li><code>${h(w.field)}</code>: ${h(w.message)}</li>`).join("")}</ul>`
        : "");

  const facts: Array<[string, string]> = [
    ["Scanned by", run ? (run.callerArn ? `<code>${soft(run.callerArn)}</code>` : "unknown") : NOT_RECORDED],
    ["Organization", `${h(report.organizationId ?? "unknown")} · partition ${h(report.partition)}`],
    ["Region", run ? h(run.region ?? "unknown") : NOT_RECORDED],
    [
      "Scan",
      `<code>${h(report.scanId)}</code> · ${when(report.startedAt)} → ${when(report.finishedAt)} (${seconds.toFixed(0)} s)`,
    ],
    [
      "Scope",
      `${plural(a.listed, "account")} listed · ${a.inScope} in scope · ${a.audited} audited · ${a.failed} failed · ${a.skipped} skipped`,
    ],
    ["Filters", filters],
    [
      "Config",
      !run
        ? NOT_RECORDED
        : run.configSha256
          ? `SHA-256 <code class="hash">${h(run.configSha256)}</code>`
          : "none: built-in defaults",
    ],
    ["Collection", collection],
    ["Verdicts", verdicts],
    ["Device inventory", inventory],
    ["Warnings", warnings],
  ];
  return `<section id="scan"><h2 class="facts-title">Scan</h2><dl class="facts">${facts
    .map(([k, v]) => `<dt>${h(k)}</dt><dd>${v}</dd>`)
    .join("")}</dl></section>`;
}

const STYLE = `
:root{color-scheme:light;--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bad:#b91c1c;--ok:#047857;--warn:#92400e}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.muted{color:var(--muted);font-size:12px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 16px;min-width:200px;flex:1}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:28px;font-weight:700}
.card.bad .value{color:var(--bad)}.card.ok .value{color:var(--ok)}.charts{display:flex;flex-wrap:wrap;gap:16px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px;max-width:100%}figcaption{font-weight:600;margin-bottom:4px}
figure.chart svg{max-width:100%;height:auto}
#scan h2.facts-title{margin-top:16px}
.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:3px 16px;margin:0}
.facts dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em;padding-top:2px}
.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
th{background:#f9fafb;font-size:12px;text-transform:uppercase;letter-spacing:.03em;overflow-wrap:break-word}td.num{text-align:right}
thead{display:table-header-group}
tr.group th{background:#f3f4f6;text-transform:none;letter-spacing:0;font-size:13px;padding-top:10px}
tr.group th .muted{font-weight:400}tr.off td{color:var(--muted)}
.sev{color:#fff;border-radius:4px;padding:1px 6px;font-size:12px;font-weight:600;white-space:nowrap;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.badge{border-radius:4px;padding:1px 6px;font-size:12px;border:1px solid var(--line)}.badge.failed{background:#fee2e2;color:var(--bad);border-color:#fecaca}
.badge.audited{background:#ecfdf5;color:var(--ok)}.badge.skipped{color:var(--muted)}
.control{display:inline-block;border:1px solid var(--line);border-radius:4px;padding:0 5px;margin:0 2px 2px 0;font-size:12px;white-space:nowrap}
.flag,.partial{color:var(--warn);font-weight:600}.flag{display:inline-block}
tr.warn-row td{background:#fffbeb;color:var(--warn);border-bottom:1px solid #fde68a;font-size:12px}
.warn-label{font-weight:700;text-transform:uppercase;font-size:11px;letter-spacing:.04em}
ul.notes{margin:4px 0 0;padding-left:18px;color:var(--warn);font-size:12px;font-weight:400}
.alert{border:1px solid #fecaca;background:#fef2f2;border-radius:8px;padding:12px 16px;margin:16px 0}
.badge,.control,tr.warn-row td,tr.group th,.alert{-webkit-print-color-adjust:exact;print-color-adjust:exact}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@page{size:A4;margin:12mm 11mm 14mm}
@media print{
body{padding:0;max-width:none;font-size:9.5px;line-height:1.35}
h1{font-size:16px}h2{font-size:12.5px;margin:14px 0 6px;break-after:avoid}#scan h2.facts-title{margin-top:8px}
.muted,.facts dt,.badge,.sev,.control,ul.notes,tr.warn-row td,footer{font-size:8px}.warn-label{font-size:7.5px}
th{font-size:7.5px}th,td{padding:3px 4px}tr.group th{font-size:9px;padding-top:6px}
.cards{gap:6px;margin:10px 0;flex-wrap:nowrap}.card{min-width:0;padding:6px 8px}.card .label{font-size:7.5px}.card .value{font-size:17px}
.card .detail{font-size:8px}.alert{padding:6px 10px;margin:10px 0}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:8px}figure.chart{padding:4px}figure.chart svg{width:100%;height:auto}
tr,figure,.card,.facts dd,#checks{break-inside:avoid}.legend,tr.group{break-after:avoid}footer{margin-top:16px}
}
`;

/**
 * `report.html`: one self-contained page for auditors (docs/delivery.md). No script and no network
 * fetch (a Content-Security-Policy forbids both); every organization-supplied string is escaped.
 * First the facts of the scan (who ran it, where, scope and filters, config SHA-256), the headline
 * figures and inline SVG charts; then the findings, the exemptions in force (with the config warnings
 * that concern them), the checks as run with their related controls, the accounts with their
 * collection notes, and every user with the source and time of its verdict. Prints on A4.
 */
export function renderHtml(report: ScanReport): string {
  return [...htmlChunks(report)].join("");
}

/**
 * `report.html` in pieces, in order (their concatenation is {@link renderHtml}'s page): the long
 * tables a row or an account at a time, so a report of 10,000 accounts is written without the page
 * ever being one string, and each account's users are read (inflated) only while they are written.
 */
export function* htmlChunks(report: ScanReport): Generator<string> {
  const s = report.summary;
  const head = headline(report);
  const w = head.withoutMfa;
  const open = report.findings.filter((f) => f.status === "OPEN");
  const ouOf = new Map(report.accounts.map((a) => [a.accountId, a.ouPath]));
  const openByAccount = new Map<string, number>();
  for (const f of open) openByAccount.set(f.accountId, (openByAccount.get(f.accountId) ?? 0) + 1);
  const findingsOf = new Map<string, Finding[]>();
  for (const f of report.findings)
    if (f.principalArn) findingsOf.set(f.principalArn, [...(findingsOf.get(f.principalArn) ?? []), f]);
  const failed = report.accounts.filter((a) => a.status === "FAILED");
  const sevDetail = SEVERITIES.filter((k) => s.findings.bySeverity[k] > 0)
    .map((k) => `${k} ${s.findings.bySeverity[k]}`)
    .join(" · ");

  // Config warnings about an exemption are shown with it; the others in the scan facts.
  const warnings = report.warnings ?? [];
  const exemptionOf = (wn: Warning) => {
    const m = /^exemptions\[(\d+)\]/.exec(wn.field);
    return m && report.exemptions && Number(m[1]) < report.exemptions.length ? Number(m[1]) : null;
  };
  const general = warnings.filter((wn) => exemptionOf(wn) === null);

  const known = withoutMfaKnown(s.accounts);
  const notAuditedDetail = s.accounts.failed ? ` · ${plural(s.accounts.failed, "account")} not audited` : "";
  const cards = [
    known
      ? card(
          "Users without MFA",
          String(w.total),
          `${w.iam} IAM, ${w.root} root, in ${plural(w.accounts, "account")}${w.exempted ? ` · ${w.exempted} exempted` : ""}${notAuditedDetail}`,
          w.open || s.accounts.failed ? "bad" : "ok",
        )
      : card("Users without MFA", "unknown", unknownBecause(s.accounts), "bad"),
    card(
      "Open findings",
      String(s.findings.open),
      `${headlineText(report).findings.replace(/^\d+ open findings?:? ?/, "") || "none"}${sevDetail ? ` · ${sevDetail}` : ""}`,
      s.findings.open ? "bad" : "ok",
    ),
    card(
      "Coverage",
      pct(s.coverage),
      `${s.accounts.audited} of ${s.accounts.inScope} in-scope accounts audited · ${s.accounts.failed} failed · ${s.accounts.skipped} skipped`,
      s.accounts.failed ? "bad" : "ok",
    ),
    card("Exempted", String(s.findings.exempted), "accepted with a reason and an expiry"),
  ];
  if (report.changes) {
    cards.push(
      card(
        "Since previous scan",
        `+${report.changes.new.length} / −${report.changes.resolved.length}`,
        `new / resolved since ${report.changes.previousScanId}`,
      ),
    );
  }

  const charts = [
    barChart(
      "Open findings by severity",
      SEVERITIES.map((k) => ({ label: k, value: s.findings.bySeverity[k], colour: SEVERITY_COLOUR[k] })),
      { id: "chart-severity" },
    ),
    barChart(
      "Open findings by OU",
      topBars(
        countBy(open, (f) => ouOf.get(f.accountId) ?? "?"),
        10,
      ),
      { id: "chart-ou" },
    ),
    barChart(
      "Open findings by account",
      topBars(
        countBy(open, (f) => `${f.accountName} (${f.accountId})`),
        10,
      ),
      { id: "chart-account" },
    ),
  ];

  const failedAlert = failed.length
    ? `<div class="alert" id="not-audited"><strong>${failed.length} account${failed.length === 1 ? " was" : "s were"} not audited</strong> — their users' MFA state is unknown:<ul>${failed
        .map(
          (a) =>
            `<li>${h(a.accountName)} (${h(a.accountId)}), ${h(a.ouPath)}: ${h(a.reason)} — ${h(a.error?.code)}</li>`,
        )
        .join("")}</ul></div>`
    : "";

  const stats = userStats(report);
  const pageFooter = `orgmfa · organization ${report.organizationId ?? "unknown"} · scan ${report.scanId}`;

  yield `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>orgmfa report ${h(report.scanId)}</title><style>${STYLE}
@page{@bottom-left{content:${cssString(pageFooter)};font:8px system-ui,sans-serif;color:#6b7280}@bottom-right{content:"page " counter(page) " of " counter(pages);font:8px system-ui,sans-serif;color:#6b7280}}
</style></head>
<body>
<header><h1>MFA across the organization</h1>
<div class="muted">orgmfa report for auditors · organization ${h(report.organizationId ?? "unknown")} · ${when(report.finishedAt)}</div></header>
${scanFacts(report, stats, general, warnings.length - general.length)}
<section class="cards" id="headline">${cards.join("")}</section>
${failedAlert}
<section class="charts" id="charts">${charts.join("")}</section>
<h2 id="findings-heading">Findings (${report.findings.length})</h2>
`;
  if (report.findings.length) {
    yield `<table id="findings">${cols(11, 15, 18, 12, 30, 14)}<thead><tr><th>Severity</th><th>Check</th><th>Account</th><th>Principal</th><th>Finding and fix</th><th>Status</th></tr></thead><tbody>`;
    for (const f of report.findings) yield findingRow(f, ouOf.get(f.accountId) ?? "");
    yield "</tbody></table>";
  } else yield `<p id="verdict">${h(verdictSentence(report))}</p>`;
  yield `
<h2 id="exemptions-heading">Exemptions (${report.exemptions?.length ?? "not recorded"})</h2>
${exemptionsTable(report, (i) => warnings.filter((wn) => exemptionOf(wn) === i))}
<h2 id="checks-heading">Checks</h2>
${checksTable(report)}
<h2 id="accounts-heading">Accounts (${report.accounts.length})</h2>
<table id="accounts">${cols(15, 15, 16, 9, 11, 6, 6, 22)}<thead><tr><th>Account</th><th>OU</th><th>Owner</th><th>Status</th><th>Root credentials / MFA</th><th>Users</th><th>Open</th><th>Detail</th></tr></thead><tbody>`;
  for (const a of report.accounts) yield accountRow(a, openByAccount.get(a.accountId) ?? 0);
  yield `</tbody></table>
<h2 id="users-heading">Users (${stats.total})</h2>
`;
  if (stats.withUsers.length) {
    yield `<p class="muted legend">Each verdict comes from the account's credential report or from a live IAM read, true as of the time shown. A partial device list shows only what the verdict needed: the virtual devices that prove the user has MFA, or, for a user whose MFA is a hardware or FIDO device, the fresh credential report's word that MFA is on; run with --complete-inventory to list every device.</p>` +
      `<table id="users">${cols(24, 11, 12, 19, 11, 13, 10)}<thead><tr><th>User</th><th>Credentials</th><th>MFA devices</th><th>Findings</th><th>Verdict from</th><th>As of</th><th>Device list</th></tr></thead>`;
    for (const a of stats.withUsers) yield userRows(a, findingsOf);
    yield "</table>";
  } else yield `<p id="users">No IAM users in the audited accounts.</p>`;
  yield `
<footer>Generated by orgmfa ${h(report.tool.version)} (report schema ${h(report.schemaVersion)}). This file is self-contained: it loads nothing from the network.</footer>
</body></html>
`;
}
