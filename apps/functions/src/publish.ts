import {
  aggregatePhase,
  type DiscoveryFailedEvent,
  errorMessage,
  isDiscoveryFailed,
  loadPreviousAt,
  type PublishOutput,
  publishReport,
  type RunRef,
  runPolicy,
} from "@orgmfa/aws";
import { paceOf } from "@orgmfa/contract";
import { OrgMfaError } from "@orgmfa/core";
import { sha256Hex } from "@orgmfa/render";
import type { Context } from "aws-lambda";
import { publishDiscoveryFailure } from "./discovery-failed";
import { bucketOf } from "./run-store";
import { logger, metrics, poolFor, settings } from "./runtime";

export class DeliveryError extends OrgMfaError {
  readonly kind = "delivery";
  constructor(readonly problems: Array<{ target: string; message: string }>) {
    super(`delivery failed: ${problems.map((p) => `${p.target}: ${p.message}`).join("; ")}`);
  }
}

/**
 * Publish: the aggregate phase (every account's result, evaluated once in ScanBatch, into the report;
 * an account with no result is FAILED), then the publish phase exactly as `orgmfa scan` runs it — S3,
 * the scanning account's Security Hub, SNS. Throws after delivering what it could when a target
 * failed, so the execution fails and the alarm tells the digest topic.
 */
export async function handler(event: RunRef | DiscoveryFailedEvent, context?: Context): Promise<PublishOutput> {
  if (context) logger.addContext(context);
  const s = settings();
  const pool = poolFor(s);
  try {
    // Discover failed (the workflow's Catch on it): a report and a digest that say so, then a failed run.
    if (isDiscoveryFailed(event)) {
      logger.error("Discover failed: reporting a run that audited no account", { error: event.discoveryError });
      return await publishDiscoveryFailure(event, s, pool, (name, value) =>
        metrics.addMetric(name, name === "Coverage" ? "Percent" : "Count", value),
      );
    }
    const { states } = bucketOf(s, pool, event.bucket);
    const state = states.run(event.scanId);
    const run = await state.get("context");
    // The previous scan as it was when this run started: a retried Publish compares with the same one.
    const previous = run.previousKey
      ? await loadPreviousAt(pool.s3(), event.bucket, run.previousKey)
      : { previous: null, warning: run.previousWarning ?? null };
    if (previous.warning) logger.warn(previous.warning);
    const caller = await pool.whoAmI();
    const { report, undelivered, hubAccountsFailed, seconds, ownersMissing } = await aggregatePhase({
      state,
      run,
      toolVersion: s.ORGMFA_VERSION,
      previous: previous.previous,
      callerArn: s.SCANNER_ROLE_ARN ?? caller.arn,
      region: s.AWS_REGION,
      configSha256: sha256Hex(JSON.stringify(run.config)),
      securityHubRegion: s.AWS_REGION,
    });
    if (ownersMissing) logger.warn("no owners.json for this run: the Owners step did not finish");
    for (const w of report.warnings ?? []) logger.warn(`config ${w.field}: ${w.message}`);
    // Each scan's own files are locked (S3 Object Lock, GOVERNANCE) for the configured days; latest/ is not.
    const retention = s.EVIDENCE_RETENTION_DAYS
      ? { mode: "GOVERNANCE" as const, until: new Date(Date.now() + s.EVIDENCE_RETENTION_DAYS * 86_400_000) }
      : undefined;
    const scanningAccountId = caller.account;
    const delivery = await publishReport(
      pool,
      report,
      {
        s3: {
          bucket: event.bucket,
          prefix: s.REPORT_PREFIX,
          kmsKeyId: s.KMS_KEY_ID,
          ...(retention ? { retention } : {}),
        },
        ...(s.SECURITY_HUB
          ? { securityHub: { region: s.AWS_REGION, scanningAccountId, hubs: [scanningAccountId] } }
          : {}),
        ...(s.DIGEST_TOPIC_ARN ? { sns: { topicArn: s.DIGEST_TOPIC_ARN, perAccountMessages: s.SNS_PER_ACCOUNT } } : {}),
      },
      { policy: runPolicy(run), earlierProblems: undelivered },
    );
    // The pace the next run's Map concurrency follows. Losing it costs only that: the next run then
    // uses the ceiling.
    const pace = paceOf(run.scanId, seconds, new Date());
    if (pace)
      await states.kept.put("pace", pace).catch((e: unknown) => {
        logger.warn(`the run's pace was not kept, so the next run's Map runs at its ceiling: ${errorMessage(e)}`);
      });
    const sum = report.summary;
    metrics.addMetric("OpenFindings", "Count", sum.findings.open);
    metrics.addMetric("UsersWithoutMfa", "Count", sum.users.withoutMfa);
    metrics.addMetric("Coverage", "Percent", sum.coverage * 100);
    metrics.addMetric("SecurityHubDeliveryFailed", "Count", hubAccountsFailed);
    logger.info("published", { scanId: report.scanId, open: sum.findings.open, coverage: sum.coverage });
    if (delivery.problems.length) throw new DeliveryError(delivery.problems);
    return {
      scanId: report.scanId,
      reportUri: delivery.s3 ? `${delivery.s3.scanUri}report.html` : null,
      open: sum.findings.open,
      coverage: sum.coverage,
    };
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}
