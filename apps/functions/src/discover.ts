import { type DiscoverEvent, discoverPhase, errorMessage, type RunRef } from "@orgmfa/aws";
import { latestKeyPrefix, mapConcurrency, runKeys, type ScanPace } from "@orgmfa/contract";
import { type OrgMfaConfig, parseConfig } from "@orgmfa/core";
import type { Context } from "aws-lambda";
import { bucketOf, type RunContext } from "./run-store";
import { logger, metrics, poolFor, settings } from "./runtime";

export type { DiscoverEvent };

/**
 * Discover: the discover phase (the organization's accounts, with OU paths and skip reasons, recorded
 * in the run state in the report bucket), with the deployed scan configuration, the previous scan fixed
 * for the run, and the Distributed Map's concurrency. Owner tags are read by the Owners step, beside
 * the Map: at thousands of accounts they take far longer than the walk.
 */
export async function handler(event: DiscoverEvent = {}, context?: Context): Promise<RunRef> {
  if (context) logger.addContext(context);
  const s = settings();
  const pool = poolFor(s);
  try {
    const { objects, states } = bucketOf(s, pool);
    // An explicit config in the input wins (tests, ad hoc runs); otherwise the deployed one, whose
    // version is recorded. Neither (a function deployed without CONFIG_KEY): the defaults.
    let config: OrgMfaConfig;
    let configSource: RunContext["configSource"] = null;
    if (event.config !== undefined || !s.CONFIG_KEY) {
      config = parseConfig(event.config ?? {}, "the workflow input's config");
    } else {
      const stored = await objects.scanConfig(s.CONFIG_KEY);
      config = stored.config;
      configSource = { bucket: s.REPORT_BUCKET, key: s.CONFIG_KEY, versionId: stored.versionId };
      logger.info("read the scan configuration", configSource);
    }
    const { run, discovery, inScope } = await discoverPhase({
      pool,
      states,
      config,
      configSource,
      ...(event.scanId ? { scanId: event.scanId } : {}),
      // Fix "the previous scan" now, so that Publish — retried, or redriven later — compares with the
      // scan before this run, never with the report it wrote itself.
      previous: (scanId) =>
        objects.snapshot(`${latestKeyPrefix(s.REPORT_PREFIX)}report.json`, runKeys(s.REPORT_PREFIX, scanId).previous),
    });
    if (run.previousWarning) logger.warn(run.previousWarning);
    logger.info("discovered the organization", {
      scanId: run.scanId,
      listed: discovery.targets.length,
      inScope: inScope.length,
    });
    metrics.addMetric("AccountsInScope", "Count", inScope.length);
    // The Map's concurrency follows the last run's pace; without one (or unreadable), the ceiling.
    let pace: ScanPace | null = null;
    try {
      pace = (await states.kept.find("pace")) as ScanPace | null;
    } catch (e) {
      logger.warn(`the last run's pace is unreadable, so the Map runs at its ceiling: ${errorMessage(e)}`);
    }
    const map = mapConcurrency({
      accounts: inScope.length,
      batchSize: s.BATCH_SIZE,
      accountConcurrency: s.ACCOUNT_CONCURRENCY,
      ceiling: s.MAP_MAX_CONCURRENCY,
      windowSeconds: s.MAP_WINDOW_SECONDS,
      pace,
    });
    logger.info(`map concurrency ${map.concurrency}: ${map.basis}`, { mapConcurrency: map.concurrency });
    metrics.addMetric("MapConcurrency", "Count", map.concurrency);
    const keys = runKeys(s.REPORT_PREFIX, run.scanId);
    return {
      bucket: s.REPORT_BUCKET,
      scanId: run.scanId,
      contextKey: keys.context,
      targetsKey: keys.targets,
      inScope: inScope.length,
      ownerTag: config.ownerTag ?? null,
      mapConcurrency: map.concurrency,
    };
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}
