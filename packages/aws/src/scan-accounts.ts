import type { AccountFailure, AccountOutcome, AccountTarget, RootFacts } from "@orgmfa/core";
import pLimit from "p-limit";
import type { ClientPool } from "./client-pool";
import { classifyFailure, errorCode, errorMessage, isCallerCredentialsError, ScannerCredentialsError } from "./errors";
import { type CollectOptions, collectAccount } from "./iam-collector";
import { readRootThroughSession } from "./root-session";

export interface ScanAccountsOptions {
  /** Accounts scanned at once. @default 8 */
  concurrency?: number;
  /** Time limit of one account's job. @default 300000 (5 minutes) */
  accountTimeoutMs?: number;
  collect?: Omit<CollectOptions, "accountId" | "partition" | "signal">;
  /**
   * Read root through an sts:AssumeRoot session (IAMAuditRootUserCredentials) in every account but
   * the management account (`exceptAccountId`: STS opens no root session there), beside the member
   * role: every root device, and root's verdict where the member role fails. Absent: member role only.
   */
  rootSessions?: { exceptAccountId: string | null };
  /** Called as each account ends, with the milliseconds it took (from its start, after its turn in the pool). */
  onAccountDone?: (outcome: AccountOutcome, done: number, total: number, elapsedMs: number) => void;
  /**
   * Keep each outcome in the returned map. `false` when `onAccountDone` consumes them (a scan of
   * thousands of accounts should not hold every account's raw facts). @default true
   */
  retainOutcomes?: boolean;
}

/**
 * Scans one account: assume the audit role, collect its facts. Always returns a value; a failure
 * becomes a coded {@link AccountFailure}, never an exception past the job — except when
 * STS refuses the scanner's *own* credentials ({@link ScannerCredentialsError}): that is no account's
 * failure, and every account would fail the same way.
 */
export async function scanAccount(
  pool: ClientPool,
  accountId: string,
  options: Pick<ScanAccountsOptions, "accountTimeoutMs" | "collect" | "rootSessions"> = {},
): Promise<AccountOutcome> {
  const controller = new AbortController();
  const limitMs = options.accountTimeoutMs ?? 300_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<AccountFailure>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({
        kind: "failure",
        accountId,
        reason: "TIMEOUT",
        error: { code: "AccountTimeLimit", message: `the account was not scanned within ${limitMs} ms` },
      });
    }, limitMs);
  });
  const viaRoot =
    options.rootSessions && options.rootSessions.exceptAccountId !== accountId
      ? readRootThroughSession(pool.rootIam(accountId), {
          accountId,
          partition: pool.partition,
          signal: controller.signal,
        }).then(
          (root) => ({ ok: true as const, root }),
          (e: unknown) => ({ ok: false as const, code: errorCode(e), message: errorMessage(e) }),
        )
      : null;
  const memberJob = (async (): Promise<AccountOutcome> => {
    let phase: "assume" | "collect" = "assume";
    try {
      await pool.credentialsFor(accountId)();
      phase = "collect";
      return await collectAccount(pool.iam(accountId), {
        ...options.collect,
        accountId,
        partition: pool.partition,
        signal: controller.signal,
      });
    } catch (e) {
      if (phase === "assume" && isCallerCredentialsError(e))
        throw new ScannerCredentialsError(
          errorCode(e),
          `STS refused the scanner's own credentials while assuming the audit role in ${accountId} (${errorCode(e)}: ${errorMessage(e)})`,
          { cause: e },
        );
      const { reason, code, message } = classifyFailure(e, phase);
      return { kind: "failure", accountId, reason, error: { code, message } };
    }
  })();
  const job = viaRoot ? Promise.all([memberJob, viaRoot]).then(([o, r]) => withRootSession(o, r)) : memberJob;
  try {
    return await Promise.race([job, timeout]);
  } finally {
    clearTimeout(timer);
    pool.release(accountId);
  }
}

type RootRead = { ok: true; root: RootFacts } | { ok: false; code: string; message: string };

/**
 * The member role's outcome with what the root session read: root's whole state replaces the member
 * role's partial view; a failed account keeps its failure (its users are not audited) and gains its
 * root; a refused root session leaves the member role's view, and says why.
 */
function withRootSession(outcome: AccountOutcome, read: RootRead): AccountOutcome {
  if (!read.ok) {
    const note = `Root was not read through sts:AssumeRoot (${read.code}: ${read.message}).`;
    return outcome.kind === "facts"
      ? { ...outcome, notes: [...outcome.notes, `${note} Root's state is the member role's view.`] }
      : { ...outcome, notes: [...(outcome.notes ?? []), note] };
  }
  const note =
    "Root was read through an sts:AssumeRoot session (task policy IAMAuditRootUserCredentials): its password, access keys, signing certificates and every MFA device.";
  if (outcome.kind === "facts") return { ...outcome, root: read.root, notes: [...outcome.notes, note] };
  return {
    ...outcome,
    root: read.root,
    notes: [
      ...(outcome.notes ?? []),
      `${note} The account's IAM users were not audited (${outcome.reason}); its root was.`,
    ],
  };
}

/**
 * Scans the in-scope targets on a bounded pool; every one of them ends with an outcome.
 *
 * @throws ScannerCredentialsError when STS refuses the scanner's own credentials: no account is
 * started after that, the ones under way end, and the scan stops with that one error.
 */
export async function scanAccounts(
  pool: ClientPool,
  targets: readonly AccountTarget[],
  options: ScanAccountsOptions = {},
): Promise<Map<string, AccountOutcome>> {
  const inScope = targets.filter((t) => t.skip === null);
  const limit = pLimit(Math.max(1, options.concurrency ?? 8));
  const outcomes = new Map<string, AccountOutcome>();
  let done = 0;
  let stopped: ScannerCredentialsError | null = null;
  await Promise.all(
    inScope.map((t) =>
      limit(async () => {
        if (stopped) return;
        const start = performance.now();
        let outcome: AccountOutcome;
        try {
          outcome = await scanAccount(pool, t.accountId, options);
        } catch (e) {
          if (!(e instanceof ScannerCredentialsError)) throw e;
          stopped ??= e;
          return;
        }
        if (options.retainOutcomes !== false) outcomes.set(t.accountId, outcome);
        options.onAccountDone?.(outcome, ++done, inScope.length, performance.now() - start);
      }),
    ),
  );
  if (stopped) throw stopped;
  return outcomes;
}
