import { hubProblems, scanAccounts, syncAccountHub, withPolicy } from "@orgmfa/aws";
import { type AccountOutcome, type AccountTarget, policyFromConfig } from "@orgmfa/core";
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
    let hubsFailed = 0;
    const writes: Promise<void>[] = [];
    const targetOf = new Map(event.Items.map((t) => [t.accountId, t]));
    const scanningAccountId = s.SECURITY_HUB === "true" ? (await pool.whoAmI()).account : null;
    // The function that holds an account's credentials delivers its findings to its own Security Hub
    // and then writes its result, the moment the account ends — Publish only aggregates.
    const finish = async (outcome: AccountOutcome, elapsedMs: number): Promise<void> => {
      const hubStart = performance.now();
      const result: AccountResult = { ...outcome };
      const target = targetOf.get(outcome.accountId);
      if (scanningAccountId && target && outcome.kind === "facts" && outcome.accountId !== scanningAccountId) {
        const hub = await syncAccountHub(pool, {
          run: runReportFields(run, s.ORGMFA_VERSION),
          target,
          outcome,
          policy,
          region: s.AWS_REGION,
          scanningAccountId,
        });
        result.delivery = { securityHub: hub };
        if (hubProblems(hub).length) hubsFailed++;
      }
      result.seconds = Math.round(elapsedMs + (performance.now() - hubStart)) / 1000;
      await store.put(keys.result(outcome.accountId), result);
    };
    await scanAccounts(pool, event.Items, {
      ...withPolicy({ concurrency: s.ACCOUNT_CONCURRENCY, accountTimeoutMs: s.ACCOUNT_TIMEOUT_MS }, policy),
      retainOutcomes: false,
      onAccountDone: (outcome, _done, _total, elapsedMs) => {
        scanned++;
        if (outcome.kind === "failure") {
          failed++;
          logger.warn("account not audited", {
            accountId: outcome.accountId,
            reason: outcome.reason,
            code: outcome.error.code,
          });
        }
        writes.push(finish(outcome, elapsedMs));
      },
    });
    // A write that failed (after the SDK's retries) fails the batch, so the Map retries it.
    await Promise.all(writes);
    metrics.addMetric("AccountsAudited", "Count", scanned - failed);
    metrics.addMetric("AccountsFailed", "Count", failed);
    if (scanningAccountId) metrics.addMetric("SecurityHubDeliveryFailed", "Count", hubsFailed);
    return { scanned, failed };
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}
