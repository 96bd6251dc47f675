import { type ScanBatchEvent, type ScanBatchOutput, scanPhase } from "@orgmfa/aws";
import type { Context } from "aws-lambda";
import { bucketOf } from "./run-store";
import { logger, metrics, poolFor, settings } from "./runtime";

export type { ScanBatchEvent };

/**
 * ScanBatch: the scan phase over one batch of the Distributed Map — each account scanned in
 * isolation, evaluated once, delivered to its own Security Hub, and written as one result object the
 * moment it ends. It never throws for an account's failure; an account without a result object is
 * reported FAILED by Publish (fail closed). A result that cannot be written fails the batch, so the
 * Map retries it.
 */
export async function handler(event: ScanBatchEvent, context?: Context): Promise<ScanBatchOutput> {
  if (context) logger.addContext(context);
  const s = settings();
  const pool = poolFor(s);
  try {
    const state = bucketOf(s, pool, event.BatchInput.bucket).states.run(event.BatchInput.scanId);
    const run = await state.get("context");
    const scanningAccountId = s.SECURITY_HUB ? (await pool.whoAmI()).account : null;
    const r = await scanPhase({
      pool,
      state,
      run,
      targets: event.Items,
      toolVersion: s.ORGMFA_VERSION,
      concurrency: s.ACCOUNT_CONCURRENCY,
      accountTimeoutMs: s.ACCOUNT_TIMEOUT_MS,
      ...(scanningAccountId ? { securityHub: { region: s.AWS_REGION, scanningAccountId } } : {}),
      onAccountDone: (outcome) => {
        if (outcome.kind === "failure")
          logger.warn("account not audited", {
            accountId: outcome.accountId,
            reason: outcome.reason,
            code: outcome.error.code,
          });
      },
    });
    metrics.addMetric("AccountsAudited", "Count", r.scanned - r.failed);
    metrics.addMetric("AccountsFailed", "Count", r.failed);
    if (scanningAccountId) metrics.addMetric("SecurityHubDeliveryFailed", "Count", r.hubsFailed);
    return { scanned: r.scanned, failed: r.failed };
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}
