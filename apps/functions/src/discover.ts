import { discoverOrganization, discoveryFilters, errorMessage, newScanId } from "@orgmfa/aws";
import { latestKeyPrefix, mapConcurrency, type OrgMfaConfig, parseConfig, type ScanPace } from "@orgmfa/core";
import type { Context } from "aws-lambda";
import { accountOusKey, paceKey, type RunContext, type RunRef, RunStore, runKeys } from "./run-store";
import { logger, metrics, poolFor, settings } from "./runtime";

/**
 * The workflow's input. The schedule's is `{}`: the scan configuration is the object the CDK app
 * stores in the report bucket (CONFIG_KEY). `config` (CONTRACT.md's config file) overrides it.
 */
export interface DiscoverEvent {
  config?: unknown;
  /** Set only to re-run a scan id (tests); otherwise a new one. */
  scanId?: string;
}

/**
 * Discover: list the organization's accounts (with OU paths and skip reasons), then write the run
 * context, the ledger of every account and the in-scope targets — the Distributed Map's items — to
 * S3. Owner tags are read by the Owners step, beside the Map: at thousands of accounts they take far
 * longer than the walk.
 */
export async function handler(event: DiscoverEvent = {}, context?: Context): Promise<RunRef> {
  if (context) logger.addContext(context);
  const s = settings();
  const pool = poolFor(s);
  try {
    const store = new RunStore(pool.s3(), s.REPORT_BUCKET, s.KMS_KEY_ID);
    // An explicit config in the input wins (tests, ad hoc runs); otherwise the deployed one, whose
    // version is recorded. Neither (a function deployed without CONFIG_KEY): the defaults.
    let config: OrgMfaConfig;
    let configSource: RunContext["configSource"] = null;
    if (event.config !== undefined || !s.CONFIG_KEY) {
      config = parseConfig(event.config ?? {}, "the workflow input's config");
    } else {
      const stored = await store.scanConfig(s.CONFIG_KEY);
      config = stored.config;
      configSource = { bucket: s.REPORT_BUCKET, key: s.CONFIG_KEY, versionId: stored.versionId };
      logger.info("read the scan configuration", configSource);
    }
    const startedAt = new Date();
    const scanId = event.scanId ?? newScanId(startedAt);
    const discovery = await discoverOrganization(pool.organizations(), discoveryFilters(config), pool.discoveryIam());
    const keys = runKeys(s.REPORT_PREFIX, scanId);
    // Fix "the previous scan" now, so that Publish — retried, or redriven later — compares with the
    // scan before this run, never with the report it wrote itself.
    const previous = await store.snapshot(`${latestKeyPrefix(s.REPORT_PREFIX)}report.json`, keys.previous);
    const run: RunContext = {
      scanId,
      startedAt: startedAt.toISOString(),
      organizationId: discovery.organizationId || null,
      partition: pool.partition,
      rootCredentialsManagement: discovery.rootCredentialsManagement,
      config,
      configSource,
      previousKey: previous.key,
      previousWarning: previous.warning,
    };
    const inScope = discovery.targets.filter((t) => t.skip === null);
    if (previous.warning) logger.warn(previous.warning);
    await store.put(keys.context, run);
    await store.put(keys.ledger, discovery.targets);
    await store.put(
      accountOusKey(s.REPORT_PREFIX),
      Object.fromEntries(discovery.targets.map((t) => [t.accountId, t.ouIds ?? []])),
    );
    await store.put(keys.targets, inScope);
    logger.info("discovered the organization", { scanId, listed: discovery.targets.length, inScope: inScope.length });
    metrics.addMetric("AccountsInScope", "Count", inScope.length);
    // The Map's concurrency follows the last run's pace; without one (or unreadable), the ceiling.
    let pace: ScanPace | null = null;
    try {
      pace = await store.find<ScanPace>(paceKey(s.REPORT_PREFIX));
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
    return {
      bucket: s.REPORT_BUCKET,
      scanId,
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
