import { ownerTagCacheFrom, readOwnerTags } from "@orgmfa/aws";
import type { AccountTarget } from "@orgmfa/core";
import type { Context } from "aws-lambda";
import { ownerTagCacheKey, type RunOwners, type RunRef, RunStore, runKeys } from "./run-store";
import { logger, metrics, poolFor, settings } from "./runtime";

/** Time kept back from the function's timeout to write what was read. */
const WRITE_MARGIN_MS = 60_000;

/**
 * Owners: the owner tag of every in-scope account, read beside the Distributed Map (a branch of the
 * same Parallel state), so that the run does not wait for them. One Organizations call per account
 * under its low rate (about 10 a second) does not fit one invocation at 10,000 accounts: the tags read
 * are kept between runs (`state/owner-tags.json`); each run reads the accounts never read first, then
 * the longest unread, until its time runs out, and the rest keep their earlier value.
 *
 * Writes `owners.json` in the run's folder for Publish. It never fails the run: the owner is a
 * convenience, and an account whose owner is not known is counted in the report's warnings.
 */
export async function handler(event: RunRef, context?: Context): Promise<Omit<RunOwners, "owners"> | null> {
  if (context) logger.addContext(context);
  if (!event.ownerTag) return null;
  const s = settings();
  const pool = poolFor(s);
  try {
    const store = new RunStore(pool.s3(), event.bucket, s.KMS_KEY_ID);
    const cacheKey = ownerTagCacheKey(s.REPORT_PREFIX);
    const [targets, stored] = await Promise.all([
      store.get<AccountTarget[]>(event.targetsKey),
      store.find<unknown>(cacheKey).catch((e) => {
        logger.warn("the owner-tag cache could not be read: every owner is read afresh", { error: String(e) });
        return null;
      }),
    ]);
    const budgetMs = (context?.getRemainingTimeInMillis() ?? 900_000) - WRITE_MARGIN_MS;
    const tags = await readOwnerTags(
      pool.organizations(),
      targets.map((t) => t.accountId),
      event.ownerTag,
      { cache: ownerTagCacheFrom(stored), deadline: Date.now() + Math.max(0, budgetMs) },
    );
    const summary = {
      tag: event.ownerTag,
      read: tags.read,
      fromCache: tags.fromCache,
      unread: tags.unread,
      oldestRead: tags.oldestRead,
    };
    const run: RunOwners = { ...summary, owners: Object.fromEntries(tags.owners) };
    await store.put(runKeys(s.REPORT_PREFIX, event.scanId).owners, run);
    await store.put(cacheKey, tags.cache);
    logger.info("read owner tags", summary);
    metrics.addMetric("OwnersUnread", "Count", tags.unread);
    return summary;
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}
