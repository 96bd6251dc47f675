import { moreOwnerRounds, type OwnersInput, type OwnersOutput, ownersPhase } from "@orgmfa/aws";
import type { Context } from "aws-lambda";
import { bucketOf } from "./run-store";
import { logger, metrics, poolFor, settings } from "./runtime";

export type { OwnersInput };
/** What Owners returns each round. */
export type OwnersSummary = OwnersOutput;

/**
 * The share of the invocation's time spent reading tags: like every phase, Owners stays within half its
 * timeout, so a slow Organizations or S3 never brings it near Lambda's limit.
 */
const READ_SHARE = 0.5;
/** Time kept back from the read window to write what was read. */
const WRITE_MARGIN_MS = 30_000;

/**
 * Owners: the owners phase, beside the Distributed Map (a branch of the same Parallel state), so that
 * the run does not wait for it. One Organizations call per account under its low rate (about 10 a
 * second) does not fit one invocation at 10,000 accounts: the tags read are kept between runs
 * (`state/owner-tags.json`); each run reads the accounts never read first, then the longest unread,
 * for half of its time, and the rest keep their earlier value. While accounts never read remain, it
 * answers `more` and the workflow runs a further round that reads only those (at most
 * OWNERS_MAX_ROUNDS: at the measured pace one round reads about 4,000 tags, so a 10,000-account
 * organization's first run needs three, later runs one).
 *
 * It never fails the run: the owner is a convenience, and an account whose owner is not known is
 * counted in the report's warnings.
 */
export async function handler(event: OwnersInput, context?: Context): Promise<OwnersSummary | null> {
  if (context) logger.addContext(context);
  if (!event.ownerTag) return null;
  const s = settings();
  const pool = poolFor(s);
  try {
    const { states } = bucketOf(s, pool, event.bucket);
    const budgetMs = (context?.getRemainingTimeInMillis() ?? 900_000) * READ_SHARE - WRITE_MARGIN_MS;
    const round = (event.owners?.round ?? 0) + 1;
    const counts = await ownersPhase({
      pool,
      states,
      state: states.run(event.scanId),
      tag: event.ownerTag,
      deadline: Date.now() + Math.max(0, budgetMs),
      onlyUnread: round > 1,
      onWarning: (m) => logger.warn(m),
    });
    const more = moreOwnerRounds(counts, round);
    const summary: OwnersSummary = { ...counts, round, more };
    logger.info("read owner tags", summary);
    if (!more) metrics.addMetric("OwnersUnread", "Count", counts.unread);
    return summary;
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}
