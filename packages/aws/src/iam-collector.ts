import {
  GenerateCredentialReportCommand,
  GetAccountSummaryCommand,
  GetCredentialReportCommand,
  GetLoginProfileCommand,
  type IAMClient,
  paginateListAccessKeys,
  paginateListUsers,
  type User,
} from "@aws-sdk/client-iam";
import {
  type AccountFacts,
  type CredentialReportRow,
  type MfaDevice,
  type ParsedCredentialReport,
  parseCredentialReport,
  rootArn,
  rootFacts,
  type UserFacts,
} from "@orgmfa/core";
import pLimit from "p-limit";
import { AccountJobError, errorCode, errorMessage, isIamQuotaError, isNoSuchEntity, isThrottling } from "./errors";
import { assignedVirtualDevices, liveDevices } from "./iam-devices";

export interface CollectOptions {
  accountId: string;
  partition: string;
  /** Polling of the credential report: first wait, growing ×2 (to 500 ms for the first 4 s) up to `maxPollMs`, for at most `reportWaitMs`. */
  firstPollMs?: number;
  maxPollMs?: number;
  reportWaitMs?: number;
  /** Waiting for report-generation capacity (`LimitExceeded`), within `reportWaitMs`. @default 10000 */
  reportCapacityWaitMs?: number;
  /** Per-user live calls in flight at once within this account. @default 4 */
  userConcurrency?: number;
  /** Confirm every user with MFA live too (the phishing-resistant check needs complete device lists). */
  completeDeviceLists?: boolean;
  /**
   * A credential report at most this old (by its GeneratedTime) is trusted for the users it covers:
   * only users created since and users the live lists contradict are confirmed live. An older one
   * (another tool generated it within IAM's four hours) is only a pre-filter. @default 300000 (5 min)
   */
  maxReportAgeMs?: number;
  /** The clock the report's age is judged by. @default Date.now */
  now?: () => number;
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}

/** How old a credential report may be for its rows to be trusted without live confirmation. */
export const DEFAULT_MAX_REPORT_AGE_MS = 5 * 60_000;
/** How long a report may take to generate before the account is collected fully live (docs/aws-semantics.md). */
export const DEFAULT_REPORT_WAIT_MS = 60_000;
/** How long to wait for IAM's capacity to generate a report (`LimitExceeded`) before going live. */
export const DEFAULT_REPORT_CAPACITY_WAIT_MS = 10_000;

type ReportResult =
  | { ok: true; generatedAt: string; parsed: ParsedCredentialReport }
  | { ok: false; code: string; message: string };

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AccountJobError("TIMEOUT", "AccountTimeLimit", "the account's time limit ran out");
}

/** GetCredentialReport: no report yet, or the one there is gone (IAM Query codes and the SDK's names). */
const REPORT_NOT_PRESENT =
  /^(ReportNotPresent|ReportExpired|CredentialReportNotPresentException|CredentialReportExpiredException)/;
/** GetCredentialReport while IAM is still generating (`ReportInProgress`; SDK: CredentialReportNotReadyException). */
const REPORT_IN_PROGRESS = /^(ReportInProgress|CredentialReportNotReadyException)/;

/**
 * Step 1: GenerateCredentialReport, then GetCredentialReport until the report is there. The polling
 * is done with GetCredentialReport itself (it answers `ReportInProgress` while IAM generates), so the
 * report comes back in the same round trip that finds it complete — not one round trip later, as when
 * polling GenerateCredentialReport for COMPLETE. Waits grow from `firstPollMs` (×2) to 500 ms for the
 * first 4 s (a report usually takes a few seconds: a coarser step would cost up to a second per
 * account), then to `maxPollMs`, each counted from when the previous poll was sent, for at most
 * `reportWaitMs`. A report that is gone or expired is asked for again; no capacity to generate one
 * (`LimitExceeded`) is waited out with the same backoff for at most `reportCapacityWaitMs`.
 *
 * Never throws for a report it cannot have, whatever the reason — denied by an SCP or a permissions
 * boundary, ServiceFailure, throttling, a malformed report, a code IAM adds later: it says why, and the
 * account is collected fully live (docs/aws-semantics.md). Only the account's time limit ends it.
 */
async function credentialReport(iam: IAMClient, o: CollectOptions): Promise<ReportResult> {
  const sleep = o.sleep ?? realSleep;
  const started = Date.now();
  const reportWaitMs = o.reportWaitMs ?? DEFAULT_REPORT_WAIT_MS;
  const deadline = started + reportWaitMs;
  const capacityDeadline = started + Math.min(reportWaitMs, o.reportCapacityWaitMs ?? DEFAULT_REPORT_CAPACITY_WAIT_MS);
  let wait = o.firstPollMs ?? 250;
  let generate = true;
  let waitingFor: "the report" | "capacity" = "the report";
  for (;;) {
    checkAborted(o.signal);
    const sentAt = Date.now();
    try {
      let ready = true;
      if (generate) {
        const g = await iam.send(new GenerateCredentialReportCommand({}), { abortSignal: o.signal });
        generate = false;
        waitingFor = "the report";
        ready = g.State === "COMPLETE";
      }
      if (ready) {
        const r = await iam.send(new GetCredentialReportCommand({}), { abortSignal: o.signal });
        if (!r.Content) return { ok: false, code: "EmptyReport", message: "GetCredentialReport returned no content" };
        const generatedAt = (r.GeneratedTime ?? new Date()).toISOString();
        return { ok: true, generatedAt, parsed: parseCredentialReport(r.Content) };
      }
    } catch (e) {
      checkAborted(o.signal);
      const code = errorCode(e);
      if (REPORT_NOT_PRESENT.test(code))
        generate = true; // nothing to wait for: ask for a report again
      else if (generate && isIamQuotaError(e)) {
        // "No more capacity to launch new report generation tasks": wait for capacity, briefly.
        waitingFor = "capacity";
        if (Date.now() + wait > capacityDeadline) return { ok: false, code, message: errorMessage(e) };
      } else if (!REPORT_IN_PROGRESS.test(code)) return { ok: false, code, message: errorMessage(e) };
    }
    if (Date.now() + wait > deadline) {
      return {
        ok: false,
        code: waitingFor === "capacity" ? "LimitExceeded" : "ReportNotReady",
        message:
          waitingFor === "capacity"
            ? `IAM had no capacity to generate a credential report within ${reportWaitMs} ms`
            : `the credential report was not complete within ${reportWaitMs} ms`,
      };
    }
    // The wait runs from when the last poll was sent, not from its answer: polls keep their cadence
    // whatever the round trip, so a report is found at most one step after it is complete.
    await sleep(Math.max(0, sentAt + wait - Date.now()));
    wait = Math.min(
      wait * 2,
      Date.now() - started < 4_000 ? Math.min(500, o.maxPollMs ?? 2_000) : (o.maxPollMs ?? 2_000),
    );
  }
}

async function listUsers(iam: IAMClient, signal?: AbortSignal): Promise<User[]> {
  const users: User[] = [];
  for await (const page of paginateListUsers({ client: iam }, {})) {
    checkAborted(signal);
    users.push(...(page.Users ?? []));
  }
  return users;
}

async function hasLoginProfile(iam: IAMClient, userName: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await iam.send(new GetLoginProfileCommand({ UserName: userName }), { abortSignal: signal });
    return true;
  } catch (e) {
    if (isNoSuchEntity(e)) return false;
    throw e;
  }
}

async function activeKeyCount(iam: IAMClient, userName: string): Promise<number> {
  let n = 0;
  for await (const page of paginateListAccessKeys({ client: iam }, { UserName: userName })) {
    for (const k of page.AccessKeyMetadata ?? []) if (k.Status === "Active") n++;
  }
  return n;
}

const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

/** The report row for a live user: same ARN and same creation second (a re-created user is a new user). */
function rowFor(rows: Map<string, CredentialReportRow>, user: User): CredentialReportRow | undefined {
  const row = rows.get(user.Arn ?? "");
  if (!row || !user.CreateDate || !row.createdAt) return row;
  const a = Math.floor(new Date(row.createdAt).getTime() / 1000);
  const b = Math.floor(user.CreateDate.getTime() / 1000);
  return a === b ? row : undefined;
}

/** Step 5 for one user: trust the report where it can be trusted, confirm live where not. null = deleted meanwhile. */
async function userFacts(
  iam: IAMClient,
  u: User,
  row: CredentialReportRow | undefined,
  virtual: Map<string, MfaDevice[]>,
  o: CollectOptions,
  reportGeneratedAt: string | null,
  fresh: boolean,
): Promise<UserFacts | null> {
  checkAborted(o.signal);
  const userName = u.UserName ?? "";
  const arn = u.Arn ?? "";
  const visible = virtual.get(arn) ?? [];
  const base = {
    userName,
    arn,
    createdAt: iso(u.CreateDate) ?? new Date(0).toISOString(),
    passwordLastUsed: iso(u.PasswordLastUsed),
  };
  if (row !== undefined && row.mfaActive === true && visible.length > 0 && !o.completeDeviceLists) {
    // MFA confirmed live by step 3; console and keys from the report cannot change a verdict.
    return {
      ...base,
      consoleAccess: row.passwordEnabled === true,
      activeAccessKeys: row.activeAccessKeys ?? 0,
      mfaDevices: visible,
      verifiedLive: false,
      // Only the live virtual devices that prove MFA: a FIDO key or SMS device beside them is not listed.
      mfaDevicesComplete: false,
      verdictAsOf: reportGeneratedAt,
    };
  }
  if (fresh && row !== undefined && !o.completeDeviceLists) {
    // A fresh report is exact as of its GeneratedTime, at most the tolerance ago: its rows are
    // trusted unless the live lists contradict them.
    if (
      row.mfaActive === false &&
      visible.length === 0 &&
      row.passwordEnabled !== null &&
      row.activeAccessKeys !== null
    ) {
      // mfa_active counts every device type: AWS defines it device-agnostically, and AWS's own
      // Security Hub IAM.5 (Config's mfa-enabled-for-iam-console-access, re-evaluated on the report's
      // four-hour cycle) rests on it. Confirming every user without MFA would cost one call per such
      // user and a round trip per account, for a doubt the evidence does not support
      // (docs/aws-semantics.md §2). The quarantine reads the user's devices live before it acts.
      return {
        ...base,
        consoleAccess: row.passwordEnabled,
        activeAccessKeys: row.activeAccessKeys,
        mfaDevices: [],
        verifiedLive: false,
        mfaDevicesComplete: true, // no MFA at all: the empty list is every device
        verdictAsOf: reportGeneratedAt,
      };
    }
    if (row.mfaActive === true && visible.length === 0) {
      // MFA on, but not a virtual device (hardware, FIDO or SMS): the verdict needs no device list.
      return {
        ...base,
        consoleAccess: row.passwordEnabled === true,
        activeAccessKeys: row.activeAccessKeys ?? 0,
        mfaDevices: [],
        mfaActive: true,
        verifiedLive: false,
        mfaDevicesComplete: false,
        verdictAsOf: reportGeneratedAt,
      };
    }
  }
  try {
    // Keys decide USER_API_NO_MFA vs USER_NO_MFA_NO_CREDENTIALS: read them in the same round whenever
    // the report cannot answer or says the user has neither a password nor MFA (so keys decide).
    const keysNow = row === undefined || row.activeAccessKeys === null || (!row.passwordEnabled && !row.mfaActive);
    const [devices, consoleAccess, liveKeys] = await Promise.all([
      liveDevices(iam, userName, o.completeDeviceLists === true),
      hasLoginProfile(iam, userName, o.signal),
      keysNow ? activeKeyCount(iam, userName) : Promise.resolve(null),
    ]);
    // The live answer contradicted the report (no console, no MFA after all): keys decide, read them.
    const keys =
      liveKeys ??
      (devices.length === 0 && !consoleAccess ? await activeKeyCount(iam, userName) : (row?.activeAccessKeys ?? 0));
    return {
      ...base,
      consoleAccess,
      activeAccessKeys: keys,
      mfaDevices: devices,
      verifiedLive: true,
      mfaDevicesComplete: true,
      verdictAsOf: new Date().toISOString(),
    };
  } catch (e) {
    if (isNoSuchEntity(e) && !(await userExists(iam, userName))) return null;
    throw e;
  }
}

async function userExists(iam: IAMClient, userName: string): Promise<boolean> {
  try {
    await liveDevices(iam, userName);
    return true;
  } catch (e) {
    if (isNoSuchEntity(e)) return false;
    throw e;
  }
}

/**
 * When the report was unavailable and the live fallback fails too, the account is
 * CREDENTIAL_REPORT_UNAVAILABLE; throttling and job errors keep their own, more actionable reason.
 */
function fallbackFailure(report: ReportResult, e: unknown): unknown {
  if (report.ok || e instanceof AccountJobError || isThrottling(e)) return e;
  return new AccountJobError(
    "CREDENTIAL_REPORT_UNAVAILABLE",
    errorCode(e),
    `credential report unavailable (${report.code}) and the live fallback failed: ${errorMessage(e)}`,
    { cause: e },
  );
}

/**
 * Collects one account's IAM facts with the live-verdict algorithm of docs/checks.md: the credential
 * report as a pre-filter, confirmed live where it cannot be trusted; fully live when the report
 * cannot be had. Throws an {@link AccountJobError} (or an SDK error) when the account cannot be
 * collected; it never yields "no users" for an account it could not read.
 */
export async function collectAccount(iam: IAMClient, o: CollectOptions): Promise<AccountFacts> {
  const notes: string[] = [];
  // The four reads do not depend on each other: one round trip of depth, not four (plus the
  // report's generation, which runs while the lists are read).
  const [report, lists, summaryRead] = await Promise.all([
    credentialReport(iam, o),
    Promise.all([listUsers(iam, o.signal), assignedVirtualDevices(iam, o.signal)]).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    iam.send(new GetAccountSummaryCommand({}), { abortSignal: o.signal }).then(
      (s) => ({ ok: true as const, map: (s.SummaryMap ?? null) as Record<string, number> | null }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  ]);
  if (!report.ok)
    notes.push(`Credential report unavailable (${report.code}: ${report.message}); every user was collected live.`);
  if (!lists.ok) throw fallbackFailure(report, lists.error);
  const [users, virtual] = lists.value;
  let summary: Record<string, number> | null = null;
  if (summaryRead.ok) summary = summaryRead.map;
  else {
    if (isThrottling(summaryRead.error)) throw summaryRead.error;
    notes.push(
      `GetAccountSummary failed (${errorCode(summaryRead.error)}); root state taken from the credential report.`,
    );
  }

  const reportAgeMs = report.ok ? (o.now ?? Date.now)() - Date.parse(report.generatedAt) : Number.POSITIVE_INFINITY;
  const fresh = reportAgeMs <= (o.maxReportAgeMs ?? DEFAULT_MAX_REPORT_AGE_MS);
  if (report.ok && !fresh)
    notes.push(
      `The credential report was ${Math.round(reportAgeMs / 60_000)} min old (generated ${report.generatedAt}); users whose verdict could have changed since were confirmed live.`,
    );
  const rows = new Map<string, CredentialReportRow>();
  if (report.ok) for (const r of report.parsed.users) rows.set(r.arn, r);

  const limit = pLimit(o.userConcurrency ?? 4);
  let collected: (UserFacts | null)[];
  try {
    collected = await Promise.all(
      users.map((u) =>
        limit(() =>
          userFacts(
            iam,
            u,
            report.ok ? rowFor(rows, u) : undefined,
            virtual,
            o,
            report.ok ? report.generatedAt : null,
            fresh,
          ),
        ),
      ),
    );
  } catch (e) {
    throw fallbackFailure(report, e);
  }

  const arnOfRoot = rootArn(o.partition, o.accountId);
  const root = rootFacts({
    arn: arnOfRoot,
    summary,
    reportRow: report.ok ? report.parsed.root : null,
    virtualDevices: virtual.get(arnOfRoot) ?? [],
  });
  if (root.source === null) notes.push("No source answered for the root user's credentials.");
  if (summary && summary.AccountPasswordPresent === undefined && root.source === "GetAccountSummary")
    notes.push(
      root.password === null
        ? "GetAccountSummary did not report AccountPasswordPresent and no credential report row said: whether root has a password is unknown."
        : "GetAccountSummary did not report AccountPasswordPresent: root's password state was taken from the credential report's <root_account> row.",
    );
  if (o.partition === "aws-us-gov")
    notes.push(
      `The root MFA checks do not apply in AWS GovCloud (US): its root user cannot sign in to the console (GovCloud User Guide, "IAM differences"). Root access keys: ${root.activeAccessKeys === null ? "unknown" : root.activeAccessKeys ? "present" : "none"}.`,
    );

  return {
    kind: "facts",
    accountId: o.accountId,
    partition: o.partition,
    credentialReportGeneratedAt: report.ok ? report.generatedAt : null,
    collection: report.ok ? "REPORT_CONFIRMED_LIVE" : "FULLY_LIVE",
    notes,
    users: collected.filter((u): u is UserFacts => u !== null).sort((a, b) => a.userName.localeCompare(b.userName)),
    root,
  };
}
