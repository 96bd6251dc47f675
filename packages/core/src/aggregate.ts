import { deflateRawSync, inflateRawSync } from "node:zlib";
import { CHECK_IDS } from "./checks";
import { CHECK_DEFAULTS, type Policy } from "./config";
import { evaluateAccount } from "./evaluate";
import { isExpired } from "./exemptions";
import type { AccountOutcome, AccountTarget, RootFacts } from "./facts";
import { withoutMfaFindings } from "./headline";
import { deadlineDaysFor, quarantineModeFor } from "./quarantine";
import type { Finding, ReportAccount, ReportRun, ScanReport } from "./report-model";
import type { PreviousScan } from "./report-schema";
import { rootDevices, rootMfaKind } from "./root";
import { SEVERITIES, type Severity } from "./severity";

export interface BuildReportInput {
  scanId: string;
  toolVersion: string;
  startedAt: Date;
  finishedAt: Date;
  organizationId: string | null;
  partition: string;
  /** Every account the organization lists, in scope or skipped. */
  targets: readonly AccountTarget[];
  /** The outcome of every in-scope target, by account id (those not already in `entries`). */
  outcomes?: ReadonlyMap<string, AccountOutcome>;
  /**
   * Accounts already evaluated as they finished ({@link accountEntry}), by account id: a scan of
   * thousands of accounts keeps each account's report entry, not its raw facts beside it.
   */
  entries?: ReadonlyMap<string, AccountEntry>;
  policy: Policy;
  /** The previous scan (only its id and findings are read), for the changes since it. */
  previous?: PreviousScan | null;
  /** Suspicious settings to record in the report. */
  warnings?: ReadonlyArray<{ field: string; message: string }>;
  /** Who ran the scan, where, with which filters and config. */
  run?: ReportRun;
}

const SEVERITY_RANK: Record<Severity, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3, INFORMATIONAL: 4 };
const CHECK_RANK = Object.fromEntries(CHECK_IDS.map((c, i) => [c, i])) as Record<string, number>;

function reportAccount(target: AccountTarget, outcome: AccountOutcome | undefined): ReportAccount {
  const base = {
    accountId: target.accountId,
    accountName: target.accountName,
    ouPath: target.ouPath,
    owner: target.owner,
    credentialReportGeneratedAt: null,
    root: null,
    users: [],
  };
  if (target.skip) return { ...base, status: "SKIPPED", reason: target.skip, error: null };
  if (!outcome) {
    // Fail closed: an in-scope account with no outcome was not audited.
    return {
      ...base,
      status: "FAILED",
      reason: "ERROR",
      error: { code: "NoOutcome", message: "the scan produced no result for this account" },
    };
  }
  if (outcome.kind === "failure") {
    const failed = {
      ...base,
      status: "FAILED" as const,
      reason: outcome.reason,
      error: outcome.error,
      ...(outcome.notes?.length ? { notes: outcome.notes } : {}),
    };
    if (!outcome.root) return failed;
    // The member role failed; an sts:AssumeRoot session read root.
    return {
      ...failed,
      root: reportRoot(outcome.root),
      audited: { users: null, root: outcome.root.via ?? "MEMBER_ROLE" },
    };
  }
  return {
    ...base,
    status: "AUDITED",
    reason: null,
    error: null,
    credentialReportGeneratedAt: outcome.credentialReportGeneratedAt,
    root: reportRoot(outcome.root),
    audited: { users: "MEMBER_ROLE", root: outcome.root.via ?? "MEMBER_ROLE" },
    users: outcome.users.map((u) => ({
      userName: u.userName,
      arn: u.arn,
      createdAt: u.createdAt,
      consoleAccess: u.consoleAccess,
      passwordLastUsed: u.passwordLastUsed,
      activeAccessKeys: u.activeAccessKeys,
      mfaDevices: u.mfaDevices,
      verifiedLive: u.verifiedLive,
      verdictSource: u.verifiedLive ? "LIVE" : "CREDENTIAL_REPORT",
      verdictAsOf: u.verdictAsOf,
      mfaDevicesComplete: u.mfaDevicesComplete,
      ...(u.mfaActive && u.mfaDevices.length === 0 ? { mfaActive: true } : {}),
    })),
    collection: outcome.collection,
    notes: outcome.notes,
  };
}

/** Root as the report's ledger shows it. */
function reportRoot(root: RootFacts): NonNullable<ReportAccount["root"]> {
  return {
    credentials: root.credentials,
    mfa: rootMfaKind(root),
    devicesComplete: root.devicesComplete === true,
    via: root.via ?? "MEMBER_ROLE",
    password: root.password,
    activeAccessKeys: root.activeAccessKeys,
    activeSigningCertificates: root.activeSigningCertificates,
    devices: rootDevices(root),
  };
}

/** One account's place in the report: its ledger entry (with its users) and its findings. */
export interface AccountEntry {
  account: ReportAccount;
  findings: Finding[];
}

/**
 * The same ledger entry with its users kept deflated, off the JS heap: reading `users` inflates them
 * (a new array at each read; the entry is read-only). A report of 10,000 accounts × 50 users holds
 * ~4 KB per account this way instead of ~35 KB of objects; everything that reads the report —
 * renderers, `JSON.stringify` — sees an ordinary array.
 */
export function withPackedUsers(account: ReportAccount): ReportAccount {
  if (account.users.length === 0) return account;
  // A copy of exactly its size: zlib's result can be a view of a larger working buffer.
  const packed = Uint8Array.prototype.slice.call(deflateRawSync(JSON.stringify(account.users)));
  const entry = { ...account };
  // Redefined in place, so the key keeps its position (and the report its field order).
  Object.defineProperty(entry, "users", {
    enumerable: true,
    configurable: false,
    get: () => JSON.parse(inflateRawSync(packed).toString("utf8")) as ReportAccount["users"],
  });
  return entry;
}

/**
 * Evaluates one account as of `now`: its ledger entry and its findings. A skipped account has no
 * findings; an in-scope account without an outcome is FAILED (fail closed). `packUsers` keeps the
 * entry's users deflated ({@link withPackedUsers}).
 */
export function accountEntry(
  target: AccountTarget,
  outcome: AccountOutcome | undefined,
  policy: Policy,
  now: Date,
  options: { packUsers?: boolean } = {},
): AccountEntry {
  const plain = reportAccount(target, outcome);
  const account = options.packUsers ? withPackedUsers(plain) : plain;
  if (account.status === "SKIPPED") return { account, findings: [] };
  const effective: AccountOutcome = outcome ?? {
    kind: "failure",
    accountId: target.accountId,
    reason: "ERROR",
    error: account.error ?? { code: "NoOutcome", message: "no result" },
  };
  return { account, findings: evaluateAccount(target, effective, policy, now) };
}

/** New and resolved findings against the previous report (resolved only where this scan looked). */
export function diffReports(
  previous: PreviousScan,
  findings: readonly Finding[],
  accounts: readonly ReportAccount[],
  policy: Policy,
): { previousScanId: string; new: string[]; resolved: string[] } {
  const before = new Set(previous.findings.filter((f) => f.status === "OPEN").map((f) => f.id));
  const present = new Set(findings.map((f) => f.id));
  const audited = new Set(accounts.filter((a) => a.status === "AUDITED").map((a) => a.accountId));
  const fresh = findings.filter((f) => f.status === "OPEN" && !before.has(f.id)).map((f) => f.id);
  const resolved = previous.findings
    .filter((f) => f.status === "OPEN" && !present.has(f.id))
    .filter(
      (f) => f.checkId === "ACCOUNT_NOT_AUDITED" || (audited.has(f.accountId) && policy.checks[f.checkId].enabled),
    )
    .map((f) => f.id);
  return { previousScanId: previous.scanId, new: fresh.sort(), resolved: resolved.sort() };
}

/**
 * When each gap was first found (carried from the previous report: its `firstSeenAt`, or the previous
 * scan's start for a report written before the field; this scan's start for a new gap), and a console
 * user's enrolment deadline where the quarantine has one for the account (first found + its days, in
 * a mode that is not off): the sweep quarantines only after it.
 */
function datedFindings(findings: Finding[], input: BuildReportInput): void {
  const before = new Map((input.previous?.findings ?? []).map((f) => [f.id, f]));
  const startedAt = input.startedAt.toISOString();
  const q = input.policy.quarantine;
  const ancestry = new Map(input.targets.map((t) => [t.accountId, t.ouIds ?? []]));
  // Few distinct dates: one string each, shared by every finding that has it.
  const interned = new Map<string, string>();
  const intern = (t: string) => {
    const known = interned.get(t);
    if (known !== undefined) return known;
    interned.set(t, t);
    return t;
  };
  for (const f of findings) {
    const prev = before.get(f.id);
    f.firstSeenAt = intern(prev?.firstSeenAt ?? (prev ? (input.previous?.startedAt ?? startedAt) : startedAt));
    if (f.checkId !== "USER_CONSOLE_NO_MFA" || !q) continue;
    const path = ancestry.get(f.accountId) ?? [];
    const days = deadlineDaysFor(q, path);
    if (days > 0 && quarantineModeFor(q, f.accountId, path) !== "off")
      f.enrolBy = intern(new Date(Date.parse(f.firstSeenAt) + days * 86_400_000).toISOString());
  }
}

/**
 * Aggregates every account into the report (report-model.ts, docs/checks.md): the coverage ledger (each listed account
 * exactly once), the findings, the summary, and the changes since `previous`.
 */
export function buildReport(input: BuildReportInput): ScanReport {
  const now = input.finishedAt;
  const accounts: ReportAccount[] = [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const target of input.targets) {
    if (seen.has(target.accountId)) continue;
    seen.add(target.accountId);
    const entry =
      input.entries?.get(target.accountId) ??
      accountEntry(target, input.outcomes?.get(target.accountId), input.policy, now);
    accounts.push(entry.account);
    // The entries' own findings (they are this report's alone): dated in place, never copied — a
    // copy of 72,000 findings is tens of MB of Publish's memory at 10,000 accounts.
    for (const f of entry.findings) findings.push(f);
  }
  datedFindings(findings, input);
  findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      (CHECK_RANK[a.checkId] ?? 0) - (CHECK_RANK[b.checkId] ?? 0) ||
      a.accountId.localeCompare(b.accountId) ||
      a.id.localeCompare(b.id),
  );

  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let open = 0;
  let exempted = 0;
  for (const f of findings) {
    if (f.status === "OPEN") {
      open++;
      bySeverity[f.severity]++;
    } else exempted++;
  }
  const audited = accounts.filter((a) => a.status === "AUDITED");
  const failed = accounts.filter((a) => a.status === "FAILED").length;
  const skipped = accounts.filter((a) => a.status === "SKIPPED").length;
  const inScope = audited.length + failed;
  let total = 0;
  let consoleUsers = 0;
  for (const a of audited)
    for (const u of a.users) {
      total++;
      if (u.consoleAccess) consoleUsers++;
    }

  return {
    schemaVersion: "1",
    tool: { name: "orgmfa", version: input.toolVersion },
    scanId: input.scanId,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    organizationId: input.organizationId,
    partition: input.partition,
    summary: {
      accounts: { listed: accounts.length, inScope, audited: audited.length, failed, skipped },
      coverage: inScope === 0 ? 0 : audited.length / inScope,
      users: { total, console: consoleUsers, withoutMfa: withoutMfaFindings(findings).length },
      findings: { open, exempted, bySeverity },
    },
    accounts,
    findings,
    changes: input.previous ? diffReports(input.previous, findings, accounts, input.policy) : null,
    ...(input.warnings?.length
      ? { warnings: input.warnings.map((w) => ({ field: w.field, message: w.message })) }
      : {}),
    ...(input.run ? { run: input.run } : {}),
    checks: CHECK_IDS.map((id) => ({
      id,
      enabled: input.policy.checks[id].enabled,
      severity: input.policy.checks[id].severity,
      controls: [...CHECK_DEFAULTS[id].controls],
    })),
    exemptions: input.policy.exemptions.map((e) => ({
      ...e,
      status: isExpired(e, now) ? ("EXPIRED" as const) : ("ACTIVE" as const),
    })),
  };
}
