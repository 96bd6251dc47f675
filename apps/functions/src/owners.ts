import { ownerTagCacheFrom, readOwnerTags } from "@orgmfa/aws";
import type { AccountTarget } from "@orgmfa/core";
import type { Context } from "aws-lambda";
import { ownerTagCacheKey, type RunOwners, type RunRef, RunStore, runKeys } from "./run-store";
import { logger, metrics, poolFor, settings } from "./runtime";

/**
 * The share of the invocation's time spent reading tags: like every phase, Owners stays within half its
 * timeout, so a slow Organizations or S3 never brings it near Lambda's limit.
 */
const READ_SHARE = 0.5;
/** Time kept back from the read window to write what was read. */
const WRITE_MARGIN_MS = 30_000;
/**
 * Rounds of Owners in one run. The workflow invokes Owners again while it answers `more`: at the measured
 * pace (about 10 tags a second) one round reads about 4,000 tags, so a 10,000-account organization's
 * first run needs three. Later runs need one: each refreshes the longest-unread tags.
 */
export const OWNERS_MAX_ROUNDS = 4;

/** What Owners is given: the run, and (from its second round on) what its round before returned. */
export type OwnersInput = RunRef & { owners?: OwnersSummary | null };

/** What Owners returns: the counts of `owners.json`, which round this was, and whether to read on. */
export type OwnersSummary = Omit<RunOwners, "owners"> & {
  round: number;
  /** Accounts whose owner was never read remain, and a round is left: the workflow invokes Owners again. */
  more: boolean;
};

/**
 * Owners: the owner tag of every in-scope account, read beside the Distributed Map (a branch of the
 * same Parallel state), so that the run does not wait for them. One Organizations call per account
 * under its low rate (about 10 a second) does not fit one invocation at 10,000 accounts: the tags read
 * are kept between runs (`state/owner-tags.json`); each run reads the accounts never read first, then
 * the longest unread, for half of its time, and the rest keep their earlier value. While accounts never
 * read remain, it answers `more` and the workflow runs a further round that reads only those.
 *
 * Writes `owners.json` in the run's folder for Publish. It never fails the run: the owner is a
 * convenience, and an account whose owner is not known is counted in the report's warnings.
 */
export async function handler(event: OwnersInput, context?: Context): Promise<OwnersSummary | null> {
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
    const budgetMs = (context?.getRemainingTimeInMillis() ?? 900_000) * READ_SHARE - WRITE_MARGIN_MS;
    const round = (event.owners?.round ?? 0) + 1;
    const tags = await readOwnerTags(
      pool.organizations(),
      targets.map((t) => t.accountId),
      event.ownerTag,
      { cache: ownerTagCacheFrom(stored), deadline: Date.now() + Math.max(0, budgetMs), onlyUnread: round > 1 },
    );
    const counts = {
      tag: event.ownerTag,
      read: tags.read,
      fromCache: tags.fromCache,
      unread: tags.unread,
      oldestRead: tags.oldestRead,
    };
    const run: RunOwners = { ...counts, owners: Object.fromEntries(tags.owners) };
    await store.put(runKeys(s.REPORT_PREFIX, event.scanId).owners, run);
    await store.put(cacheKey, tags.cache);
    // Another round only if it can read something: this one read some tag, or it was the first.
    const more = tags.unread > 0 && round < OWNERS_MAX_ROUNDS && (tags.read > 0 || round === 1);
    const summary: OwnersSummary = { ...counts, round, more };
    logger.info("read owner tags", summary);
    if (!more) metrics.addMetric("OwnersUnread", "Count", tags.unread);
    return summary;
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}
