import {
  assembleReport,
  discoveryFilters,
  errorMessage,
  hubNote,
  hubProblems,
  loadPreviousAt,
  publishReport,
  scanWarnings,
} from "@orgmfa/aws";
import {
  type AccountEntry,
  type AccountTarget,
  accountEntry,
  paceOf,
  policyFromConfig,
  sha256Hex,
  usersWithoutMfa,
} from "@orgmfa/core";
import type { Context } from "aws-lambda";
import { type DiscoveryFailedEvent, isDiscoveryFailed, publishDiscoveryFailure } from "./discovery-failed";
import { paceKey, type RunContext, type RunOwners, type RunRef, RunStore, runKeys, runReportFields } from "./run-store";
import { logger, metrics, poolFor, settings } from "./runtime";

export class DeliveryError extends Error {
  constructor(readonly problems: Array<{ target: string; message: string }>) {
    super(`delivery failed: ${problems.map((p) => `${p.target}: ${p.message}`).join("; ")}`);
    this.name = "DeliveryError";
  }
}

/**
 * Publish: aggregate every account's result into the report (an account with no result is FAILED),
 * then deliver exactly as `orgmfa scan` does — S3, Security Hub, SNS. Throws after delivering what
 * it could when a target failed, so the execution fails and the alarm tells the digest topic.
 */
export async function handler(
  event: RunRef | DiscoveryFailedEvent,
  context?: Context,
): Promise<{ scanId: string; reportUri: string | null; open: number; coverage: number }> {
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
    const store = new RunStore(pool.s3(), event.bucket, s.KMS_KEY_ID);
    const run = await store.get<RunContext>(event.contextKey);
    const keys = runKeys(s.REPORT_PREFIX, run.scanId);
    const policy = policyFromConfig(run.config, run.rootCredentialsManagement);
    // Each result is evaluated as it is read and only its compact report entry is kept (users
    // deflated), never every account's raw facts at once.
    const ledger = await store.get<AccountTarget[]>(keys.ledger);
    const targetOf = new Map(ledger.filter((t) => t.skip === null).map((t) => [t.accountId, t]));
    const now = new Date();
    const entries = new Map<string, AccountEntry>();
    // Member accounts' hubs were synced by the ScanBatch that scanned them; what did not land there
    // is reported (the account's notes, the digest, a metric), and the run still succeeds.
    const undelivered: Array<{ target: "securityhub"; message: string }> = [];
    let hubAccountsFailed = 0;
    const seconds: number[] = [];
    await store.results(keys.results, [...targetOf.keys()], (result) => {
      const { delivery, seconds: took, ...outcome } = result;
      if (took !== undefined) seconds.push(took);
      const target = targetOf.get(outcome.accountId);
      if (!target) return;
      const entry = accountEntry(target, outcome, policy, now, { packUsers: true });
      const problems = delivery ? hubProblems(delivery.securityHub) : [];
      if (problems.length) {
        entry.account.notes = [...(entry.account.notes ?? []), hubNote(s.AWS_REGION, problems)];
        undelivered.push(...problems);
        hubAccountsFailed++;
      }
      entries.set(outcome.accountId, entry);
    });
    // Each scan's own files are locked (S3 Object Lock, GOVERNANCE) for the configured days; latest/ is not.
    const retention = s.EVIDENCE_RETENTION_DAYS
      ? {
          mode: "GOVERNANCE" as const,
          until: new Date(Date.now() + s.EVIDENCE_RETENTION_DAYS * 86_400_000),
        }
      : undefined;
    const s3 = {
      bucket: event.bucket,
      prefix: s.REPORT_PREFIX,
      kmsKeyId: s.KMS_KEY_ID,
      ...(retention ? { retention } : {}),
    };
    // The previous scan as it was when this run started: a retried Publish compares with the same one.
    const previous = run.previousKey
      ? await loadPreviousAt(pool.s3(), event.bucket, run.previousKey)
      : { previous: null, warning: run.previousWarning ?? null };
    if (previous.warning) logger.warn(previous.warning);
    const caller = await pool.whoAmI();
    // The owners the Owners step knew (read now or by earlier runs). Without its object (it failed or
    // never ran), no owner is known: counted in the warnings, never a failed run.
    const ownerTag = run.config.ownerTag;
    const owners = ownerTag ? await store.find<RunOwners>(keys.owners) : null;
    if (ownerTag && !owners) logger.warn("no owners.json for this run: the Owners step did not finish");
    const ownerOf = new Map(Object.entries(owners && owners.tag === ownerTag ? owners.owners : {}));
    const ownersUnread = [...targetOf.keys()].filter((id) => !ownerOf.has(id)).length;
    // The same aggregate phase as `orgmfa scan`, from what Discover recorded and the results read.
    const filters = discoveryFilters(run.config);
    const report = assembleReport({
      ...runReportFields(run, s.ORGMFA_VERSION),
      targets: ledger,
      entries,
      owners: ownerOf,
      policy,
      previous: previous.previous,
      warnings: scanWarnings({
        config: run.config,
        accountIds: new Set(ledger.map((t) => t.accountId)),
        ownersUnread,
        ownerTag,
        now: new Date(),
      }),
      callerArn: s.SCANNER_ROLE_ARN ?? caller.arn,
      region: s.AWS_REGION,
      filters,
      configSha256: sha256Hex(JSON.stringify(run.config)),
    });
    for (const w of report.warnings ?? []) logger.warn(`config ${w.field}: ${w.message}`);
    // For the quarantine sweep after it: who the run found without MFA, by audited account.
    await store.put(keys.consoleWithoutMfa, usersWithoutMfa(report));
    const scanningAccountId = caller.account;
    const delivery = await publishReport(
      pool,
      report,
      {
        s3,
        ...(s.SECURITY_HUB === "true"
          ? { securityHub: { region: s.AWS_REGION, scanningAccountId, hubs: [scanningAccountId] } }
          : {}),
        ...(s.DIGEST_TOPIC_ARN
          ? { sns: { topicArn: s.DIGEST_TOPIC_ARN, perAccountMessages: s.SNS_PER_ACCOUNT === "true" } }
          : {}),
      },
      { policy, earlierProblems: undelivered },
    );
    // The pace the next run's Map concurrency follows. Losing it costs only that: the next run then
    // uses the ceiling.
    const pace = paceOf(run.scanId, seconds, new Date());
    if (pace)
      await store.put(paceKey(s.REPORT_PREFIX), pace).catch((e: unknown) => {
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
