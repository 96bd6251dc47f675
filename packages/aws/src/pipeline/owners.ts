import type { ClientPool } from "../client-pool";
import { errorMessage } from "../errors";
import { ownerTagCacheFrom, readOwnerTags } from "../owners";
import type { RunOwners, RunStateStore, RunStates } from "./run-state";
import { OWNERS_MAX_ROUNDS } from "./workflow";

/** What the owners phase read: the counts of its `owners` object. */
export type OwnersCounts = Omit<RunOwners, "owners">;

export interface OwnersPhaseInput {
  pool: ClientPool;
  states: RunStates;
  state: RunStateStore;
  /** The account tag naming owners. */
  tag: string;
  /** No call starts after this time (epoch ms). @default none */
  deadline?: number;
  /** Read only the accounts never read (a further round of the same run). @default false */
  onlyUnread?: boolean;
  onWarning?: (message: string) => void;
}

/**
 * The owners phase, beside the scan: the owner tag of every in-scope account (one Organizations call
 * each, under its low rate), never-read accounts first, then the longest unread, until done or the
 * deadline; what it has no time for keeps the value an earlier run read (the owner-tag cache kept
 * between runs). Writes the run's `owners` for the aggregate phase. A failed read never fails a scan.
 */
export async function ownersPhase(o: OwnersPhaseInput): Promise<OwnersCounts> {
  const [targets, stored] = await Promise.all([
    o.state.get("targets"),
    o.states.kept.find("ownerTags").catch((e: unknown) => {
      o.onWarning?.(`the owner-tag cache could not be read: every owner is read afresh (${errorMessage(e)})`);
      return null;
    }),
  ]);
  const tags = await readOwnerTags(
    o.pool.organizations(),
    targets.map((t) => t.accountId),
    o.tag,
    {
      cache: ownerTagCacheFrom(stored),
      ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
      onlyUnread: o.onlyUnread ?? false,
    },
  );
  const counts: OwnersCounts = {
    tag: o.tag,
    read: tags.read,
    fromCache: tags.fromCache,
    unread: tags.unread,
    oldestRead: tags.oldestRead,
  };
  await o.state.put("owners", { ...counts, owners: Object.fromEntries(tags.owners) });
  await o.states.kept.put("ownerTags", tags.cache);
  return counts;
}

/**
 * Whether the workflow runs another owners round: accounts never read remain, a round is left, and
 * this round could read something (it read a tag, or it was the first).
 */
export function moreOwnerRounds(counts: Pick<OwnersCounts, "read" | "unread">, round: number): boolean {
  return counts.unread > 0 && round < OWNERS_MAX_ROUNDS && (counts.read > 0 || round === 1);
}
