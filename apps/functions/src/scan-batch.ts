import { type ClientPool, errorCode, errorMessage, scanAccounts, syncSecurityHub, withPolicy } from "@orgmfa/aws";
import { type AccountOutcome, type AccountTarget, buildReport, type Policy, policyFromConfig } from "@orgmfa/core";
import type { Context } from "aws-lambda";
import { type AccountResult, type RunContext, RunStore, runKeys, runReportFields } from "./run-store";
import { logger, metrics, poolFor, settings } from "./runtime";

/** A Distributed Map batch, exactly as Step Functions delivers it (ItemBatcher with BatchInput). */
export interface ScanBatchEvent {
  Items: AccountTarget[];
  BatchInput: { bucket: string; scanId: string; contextKey: string };
}

/**
 * ScanBatch: scan a batch of accounts (isolated, bounded concurrency, each ending as facts or a
 * coded failure) and write one result object per account. It never throws for an account's
 * failure; an account without a result object is reported FAILED by Publish (fail closed).
 */
export async function handler(event: ScanBatchEvent, context?: Context): Promise<{ scanned: number; failed: number }> {
  if (context) logger.addContext(context);
  const s = settings();
  const pool = poolFor(s);
  try {
    const store = new RunStore(pool.s3(), event.BatchInput.bucket, s.KMS_KEY_ID);
    const run = await store.get<RunContext>(event.BatchInput.contextKey);
    const policy = policyFromConfig(run.config, run.rootCredentialsManagement);
    const keys = runKeys(s.REPORT_PREFIX, run.scanId);
    // Each account's result is written the moment it ends: a batch that times out loses only the
    // accounts still in progress, which Publish then reports FAILED.
    let scanned = 0;
    let failed = 0;
    let hubProblems = 0;
    const writes: Promise<void>[] = [];
    const targetOf = new Map(event.Items.map((t) => [t.accountId, t]));
    const scanningAccountId = s.SECURITY_HUB === "true" ? (await pool.whoAmI()).account : null;
    // The function that holds an account's credentials delivers its findings to its own Security Hub
    // and then writes its result, the moment the account ends — Publish only aggregates.
    const finish = async (outcome: AccountOutcome): Promise<void> => {
      const result: AccountResult = { ...outcome };
      const target = targetOf.get(outcome.accountId);
      if (scanningAccountId && target && outcome.kind === "facts" && outcome.accountId !== scanningAccountId) {
        result.delivery = { securityHub: await accountHub(pool, run, policy, target, outcome, scanningAccountId) };
        if (result.delivery.securityHub?.error || result.delivery.securityHub?.refused) hubProblems++;
      }
      await store.put(keys.result(outcome.accountId), result);
    };
    await scanAccounts(pool, event.Items, {
      ...withPolicy({ concurrency: s.ACCOUNT_CONCURRENCY, accountTimeoutMs: s.ACCOUNT_TIMEOUT_MS }, policy),
      retainOutcomes: false,
      onAccountDone: (outcome) => {
        scanned++;
        if (outcome.kind === "failure") {
          failed++;
          logger.warn("account not audited", {
            accountId: outcome.accountId,
            reason: outcome.reason,
            code: outcome.error.code,
          });
        }
        writes.push(finish(outcome));
      },
    });
    // A write that failed (after the SDK's retries) fails the batch, so the Map retries it.
    await Promise.all(writes);
    metrics.addMetric("AccountsAudited", "Count", scanned - failed);
    metrics.addMetric("AccountsFailed", "Count", failed);
    if (scanningAccountId) metrics.addMetric("SecurityHubDeliveryFailed", "Count", hubProblems);
    return { scanned, failed };
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}

/**
 * One account's findings into its own Security Hub (new or changed ones; resolved ones archived),
 * as the single-account report of that account. Never throws: a hub that is not enabled or that
 * refuses is recorded, and the account stays audited.
 */
async function accountHub(
  pool: ClientPool,
  run: RunContext,
  policy: Policy,
  target: AccountTarget,
  outcome: AccountOutcome,
  scanningAccountId: string,
): Promise<NonNullable<NonNullable<AccountResult["delivery"]>["securityHub"]>> {
  const s = settings();
  try {
    const report = buildReport({
      ...runReportFields(run, s.ORGMFA_VERSION),
      targets: [target],
      outcomes: new Map([[outcome.accountId, outcome]]),
      policy,
    });
    const r = await syncSecurityHub(pool, {
      report,
      policy,
      region: s.AWS_REGION,
      scanningAccountId,
      hubs: [outcome.accountId],
    });
    const hub = r.hubs[0];
    return {
      imported: hub?.imported ?? 0,
      archived: hub?.archived ?? 0,
      unchanged: hub?.unchanged ?? 0,
      refused: hub?.failed.length ?? 0,
      error: hub?.error ?? null,
    };
  } catch (e) {
    return {
      imported: 0,
      archived: 0,
      unchanged: 0,
      refused: 0,
      error: { code: errorCode(e), message: errorMessage(e) },
    };
  }
}
