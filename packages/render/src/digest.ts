import {
  type Exemption,
  expiringWithin,
  type Finding,
  headline,
  headlineText,
  isExpired,
  parseFindingId,
  plural,
  principalLabel,
  type ScanReport,
  SEVERITIES,
  type Severity,
  withoutMfaKnown,
} from "@orgmfa/core";
import { accountOf, userOf } from "./report-index";

/** SNS's limit for a whole message; the digest stays well inside it. */
export const SNS_MAX_BYTES = 256 * 1024;
const DEFAULT_MAX_BYTES = SNS_MAX_BYTES - 6 * 1024;
const DAY_MS = 86_400_000;

export interface DigestOptions {
  now: Date;
  /** The configured exemptions (for "expiring within 14 days" and "expired"). */
  exemptions: readonly Exemption[];
  /** Where the full report is (an s3:// URI or a path); null when it was not stored. */
  reportLocation: string | null;
  /** "Riskiest users" are console users without MFA who signed in within this many days. @default 30 */
  recentSignInDays?: number;
  /**
   * What did not land (e.g. an account whose Security Hub is not enabled): listed, so that nobody
   * takes silence in Security Hub for a clean account. The report itself is complete.
   */
  deliveryProblems?: ReadonlyArray<{ target: string; message: string }>;
  /** Entries shown per list before "… and N more". @default 25 */
  listLimit?: number;
  /** UTF-8 size limit of the body. @default 250 KiB */
  maxBytes?: number;
}

export interface Digest {
  /** ASCII, under 100 characters (SNS e-mail subject rules). */
  subject: string;
  message: string;
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** Makes a string safe for an SNS subject: printable ASCII, no line breaks, under 100 characters. */
export function snsSubject(s: string): string {
  const ascii = s.replace(/[^\x20-\x7e]/g, "?").trim();
  return ascii.length < 100 ? ascii : `${ascii.slice(0, 96)}...`;
}

/**
 * `orgmfa: 12 users without MFA (1 exempted) in 4 of 57 accounts (2 new)`, plus coverage when
 * incomplete. The number is the headline's (see `headline`).
 */
export function digestSubject(report: ScanReport): string {
  const w = headline(report).withoutMfa;
  const s = report.summary.accounts;
  const fresh = report.changes?.new.length ?? 0;
  if (!withoutMfaKnown(s))
    return snsSubject(
      s.inScope === 0
        ? "orgmfa: users without MFA unknown - no account in scope"
        : `orgmfa: users without MFA unknown - none of ${plural(s.inScope, "account")} audited`,
    );
  const head =
    w.total === 0
      ? `orgmfa: no users without MFA in ${plural(s.audited, "audited account")}`
      : `orgmfa: ${plural(w.total, "user")} without MFA${w.exempted ? ` (${w.exempted} exempted)` : ""} in ${w.accounts} of ${plural(s.inScope, "account")}`;
  const parts = [head];
  if (report.changes) parts.push(` (${fresh} new)`);
  if (s.failed > 0) parts.push(`, ${s.failed} not audited`);
  return snsSubject(parts.join(""));
}

/**
 * Renders with at most `start` lines per list, halving that until the text fits in `maxBytes` (UTF-8)
 * or the limit reaches `floor`: the digest's, the per-account messages' and the sweep announcement's
 * one way to stay under SNS's 256 KB. The text may still be over `maxBytes` at the floor.
 */
export function shrinkToFit<T>(
  render: (limit: number) => T,
  text: (rendered: T) => string,
  o: { start: number; maxBytes: number; floor?: number },
): T {
  let limit = o.start;
  let rendered = render(limit);
  while (bytes(text(rendered)) > o.maxBytes && limit > (o.floor ?? 0)) {
    limit = Math.floor(limit / 2);
    rendered = render(limit);
  }
  return rendered;
}

/** A titled list of at most `limit` lines, then "… and N more" (the digest's lists, and the quarantine sweep's). */
export function section(title: string, lines: string[], limit: number, total = lines.length): string[] {
  if (total === 0) return [];
  const shown = lines.slice(0, limit);
  if (total > shown.length) shown.push(`  … and ${total - shown.length} more`);
  return ["", title, ...shown];
}

function describeFinding(f: Finding, report: ScanReport): string {
  const who = principalLabel(f, "(account)");
  const acct = accountOf(report, f.accountId);
  return `  - ${f.severity} ${f.checkId}: ${who} in ${f.accountName} (${f.accountId})${acct ? `, ${acct.ouPath}` : ""}`;
}

function describeId(id: string): string {
  const p = parseFindingId(id);
  if (!p) return `  - ${id}`;
  const who = p.principal.kind === "user" ? p.principal.userName : p.principal.kind;
  return `  - ${p.checkId}: ${who} in ${p.accountId}`;
}

/** `Coverage 87.5%: 7 of 8 in-scope accounts audited, 1 failed, 1 skipped (9 listed).` (the digests' one wording) */
export function coverageSentence(report: Pick<ScanReport, "summary">): string {
  const s = report.summary;
  return `Coverage ${(s.coverage * 100).toFixed(s.coverage === 1 ? 0 : 1)}%: ${s.accounts.audited} of ${plural(s.accounts.inScope, "in-scope account")} audited, ${s.accounts.failed} failed, ${s.accounts.skipped} skipped (${s.accounts.listed} listed).`;
}

/**
 * The accounts with open findings, worst first: most open findings, then the highest severity, then
 * the account id (the digests' "top accounts", e-mail and chat alike).
 */
export function topAccounts(report: Pick<ScanReport, "findings">): Array<[accountId: string, open: Finding[]]> {
  const perAccount = new Map<string, Finding[]>();
  for (const f of report.findings)
    if (f.status === "OPEN") {
      const list = perAccount.get(f.accountId);
      if (list) list.push(f);
      else perAccount.set(f.accountId, [f]);
    }
  return [...perAccount.entries()].sort(
    (a, b) => b[1].length - a[1].length || worst(a[1]) - worst(b[1]) || a[0].localeCompare(b[0]),
  );
}

function body(report: ScanReport, o: DigestOptions, limit: number): string {
  const s = report.summary;
  const h = headlineText(report);
  const sev = SEVERITIES.filter((k) => s.findings.bySeverity[k] > 0)
    .map((k) => `${k} ${s.findings.bySeverity[k]}`)
    .join(", ");
  const lines: string[] = [
    `orgmfa scan ${report.scanId}, finished ${report.finishedAt}${report.organizationId ? `, organization ${report.organizationId}` : ""}`,
    "",
    `${h.users}.`,
    `${h.findings}.${sev ? ` By severity: ${sev}.` : ""}`,
    "",
    coverageSentence(report),
  ];
  const failed = report.accounts.filter((a) => a.status === "FAILED");
  lines.push(
    ...section(
      `Not audited (${failed.length}) — their users' MFA is unknown:`,
      failed.map(
        (a) => `  - ${a.accountName} (${a.accountId}), ${a.ouPath}: ${a.reason}${a.error ? ` — ${a.error.code}` : ""}`,
      ),
      limit,
    ),
  );
  const problems = o.deliveryProblems ?? [];
  lines.push(
    ...section(
      `Not delivered (${problems.length}) — the report has these findings, the target does not:`,
      problems.map((p) => `  - ${p.target}: ${p.message}`),
      limit,
    ),
  );
  const skipped = report.accounts.filter((a) => a.status === "SKIPPED");
  lines.push(
    ...section(
      `Skipped (${skipped.length}):`,
      skipped.map((a) => `  - ${a.accountName} (${a.accountId}): ${a.reason}`),
      limit,
    ),
  );

  if (report.changes) {
    const byId = new Map(report.findings.map((f) => [f.id, f]));
    const fresh = report.changes.new.map((id) => byId.get(id)).filter((f): f is Finding => f !== undefined);
    lines.push(
      ...section(
        `New since scan ${report.changes.previousScanId} (${fresh.length}):`,
        fresh.map((f) => describeFinding(f, report)),
        limit,
      ),
      ...section(
        `Resolved since scan ${report.changes.previousScanId} (${report.changes.resolved.length}):`,
        report.changes.resolved.map(describeId),
        limit,
      ),
    );
    if (fresh.length === 0 && report.changes.resolved.length === 0)
      lines.push("", `No change since scan ${report.changes.previousScanId}.`);
  }

  const top = topAccounts(report);
  lines.push(
    ...section(
      "Top accounts by open findings:",
      top.map(([id, fs]) => {
        const acct = accountOf(report, id);
        return `  - ${acct?.accountName ?? id} (${id}), ${acct?.ouPath ?? ""}: ${fs.length} open (${severityCounts(fs)})`;
      }),
      Math.min(limit, 10),
    ),
  );

  const recentMs = (o.recentSignInDays ?? 30) * DAY_MS;
  const risky = report.findings
    .filter((f) => f.status === "OPEN" && f.checkId === "USER_CONSOLE_NO_MFA")
    .map((f) => ({
      f,
      last: userOf(report, f.accountId, f.userName)?.passwordLastUsed,
    }))
    .filter((r): r is { f: Finding; last: string } => !!r.last && o.now.getTime() - Date.parse(r.last) <= recentMs)
    .sort((a, b) => b.last.localeCompare(a.last));
  lines.push(
    ...section(
      `Riskiest users — console password, no MFA, signed in within ${o.recentSignInDays ?? 30} days (${risky.length}):`,
      risky.map((r) => `  - ${r.f.userName} in ${r.f.accountName} (${r.f.accountId}), last sign-in ${r.last}`),
      limit,
    ),
  );

  const expiring = expiringWithin(o.exemptions, o.now, 14);
  const exemptionLine = (e: Exemption) =>
    `  - ${e.principal} in ${e.account === "*" ? "every account" : e.account} (${e.checks === "*" ? "all checks" : e.checks.join(", ")}) expires ${e.expires}: ${e.reason}`;
  lines.push(
    ...section(`Exemptions expiring within 14 days (${expiring.length}):`, expiring.map(exemptionLine), limit),
  );
  const expired = o.exemptions.filter((e) => isExpired(e, o.now));
  lines.push(
    ...section(`Expired exemptions — no longer applied (${expired.length}):`, expired.map(exemptionLine), limit),
  );

  lines.push("", o.reportLocation ? `Full report: ${o.reportLocation}` : "The full report was not stored.");
  return `${lines.join("\n")}\n`;
}

const RANK: Record<Severity, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3, INFORMATIONAL: 4 };
const worst = (fs: readonly Finding[]) => Math.min(...fs.map((f) => RANK[f.severity]));

/** `2 CRITICAL, 1 HIGH`: how many of `fs` at each severity, highest first. */
export function severityCounts(fs: readonly Finding[]): string {
  return SEVERITIES.map((k) => [k, fs.filter((f) => f.severity === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
}

/**
 * The scan digest for SNS (docs/delivery.md): an ASCII subject under 100 characters with the headline
 * numbers and a plain-text body that never exceeds `maxBytes` — long lists end in "… and N more",
 * and the lists shrink further when a body would still be too large.
 */
export function buildDigest(report: ScanReport, o: DigestOptions): Digest {
  const max = o.maxBytes ?? DEFAULT_MAX_BYTES;
  let message = shrinkToFit(
    (limit) => body(report, o, limit),
    (m) => m,
    { start: o.listLimit ?? 25, maxBytes: max },
  );
  if (bytes(message) > max) {
    // Only pathological names get here (every list already cut to nothing).
    const cut = Buffer.from(message, "utf8")
      .subarray(0, max - 64)
      .toString("utf8")
      .replace(/\uFFFD$/, "");
    message = `${cut}\n… (digest cut at ${max} bytes)\n`;
  }
  return { subject: digestSubject(report), message };
}

/** A message for one account's owners; `severity` is the highest open severity. */
export interface AccountMessage extends Digest {
  accountId: string;
  severity: Severity;
}

/**
 * Optional per-account messages: one per account with open findings. Published with the
 * `accountId` and `severity` message attributes so owners can subscribe with a filter policy.
 */
export function accountMessages(
  report: ScanReport,
  o: Pick<DigestOptions, "reportLocation" | "maxBytes">,
): AccountMessage[] {
  const max = o.maxBytes ?? DEFAULT_MAX_BYTES;
  const out: AccountMessage[] = [];
  for (const acct of report.accounts) {
    const open = report.findings.filter((f) => f.accountId === acct.accountId && f.status === "OPEN");
    if (open.length === 0) continue;
    const severity = SEVERITIES[worst(open)] ?? "INFORMATIONAL";
    const render = (limit: number) =>
      [
        `orgmfa scan ${report.scanId}: ${plural(open.length, "open finding")} in ${acct.accountName} (${acct.accountId}), ${acct.ouPath}`,
        ...section(
          "Findings:",
          open.map((f) => describeFinding(f, report)),
          limit,
        ),
        "",
        o.reportLocation ? `Full report: ${o.reportLocation}` : "",
      ].join("\n");
    const message = shrinkToFit(render, (m) => m, { start: 100, maxBytes: max, floor: 1 });
    out.push({
      accountId: acct.accountId,
      severity,
      subject: snsSubject(`orgmfa: ${plural(open.length, "open finding")} in account ${acct.accountId} (${severity})`),
      message: `${message.trimEnd()}\n`,
    });
  }
  return out;
}
