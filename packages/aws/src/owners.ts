import { ListTagsForResourceCommand, type OrganizationsClient } from "@aws-sdk/client-organizations";
import pLimit from "p-limit";

/**
 * Owner tags as last read, kept between runs (the workflow stores it in the report bucket): each
 * account's owner (null: the account has no such tag) and when it was read.
 */
export interface OwnerTagCache {
  /** The tag key these values are for: a cache for another key is not used. */
  tag: string;
  accounts: Record<string, { owner: string | null; readAt: string }>;
}

export interface OwnerTags {
  /** Every account whose owner is known (read now or earlier): its owner, null when it has no such tag. */
  owners: Map<string, string | null>;
  /** The cache to keep for the next run: the accounts asked about, with what is known of each. */
  cache: OwnerTagCache;
  /** Accounts whose tag was read now. */
  read: number;
  /** Accounts whose owner comes from an earlier read (not refreshed this time: out of time, or the read failed). */
  fromCache: number;
  /** Accounts whose owner is not known at all: never read successfully. */
  unread: number;
  /** The oldest read among the owners used (ISO), or null when there is none. */
  oldestRead: string | null;
}

export interface ReadOwnerTagsOptions {
  /** ListTagsForResource calls in flight at once. @default 4 */
  concurrency?: number;
  /**
   * No call starts after this time (epoch ms). Organizations' rate is low and unpublished (about 10
   * requests a second in practice): 10,000 accounts need about 17 minutes, more than one host has.
   */
  deadline?: number;
  /** What earlier runs read: never-read accounts go first, then the longest-unread. */
  cache?: OwnerTagCache | null;
  /** Read only the accounts the cache has no value for (a further round of the same run). @default false */
  onlyUnread?: boolean;
  /** The clock reads are dated by and `deadline` is judged by. @default the system clock */
  now?: () => Date;
}

/**
 * Reads the owner tag of each account (`ListTagsForResource`, one call per account, bounded), never
 * read accounts first and then the longest unread, until done or the deadline; what was not refreshed
 * keeps the value of an earlier read. The owner is a convenience: a failed read never fails a scan.
 */
export async function readOwnerTags(
  orgs: OrganizationsClient,
  accountIds: readonly string[],
  tag: string,
  o: ReadOwnerTagsOptions = {},
): Promise<OwnerTags> {
  const now = o.now ?? (() => new Date());
  const known = o.cache?.tag === tag ? o.cache.accounts : {};
  const order = [...new Set(accountIds)].sort((a, b) => {
    const ra = known[a]?.readAt ?? "";
    const rb = known[b]?.readAt ?? "";
    return ra < rb ? -1 : ra > rb ? 1 : 0;
  });
  const cache: OwnerTagCache = { tag, accounts: {} };
  for (const id of order) {
    const k = known[id];
    if (k) cache.accounts[id] = k;
  }
  let read = 0;
  const limit = pLimit(Math.max(1, o.concurrency ?? 4));
  await Promise.all(
    order.map((id) =>
      limit(async () => {
        if (o.deadline !== undefined && now().getTime() >= o.deadline) return;
        if (o.onlyUnread && known[id]) return;
        try {
          const r = await orgs.send(new ListTagsForResourceCommand({ ResourceId: id }));
          cache.accounts[id] = {
            owner: r.Tags?.find((t) => t.Key === tag)?.Value ?? null,
            readAt: now().toISOString(),
          };
          read++;
        } catch {
          // Throttled beyond the SDK's retries, or denied: the earlier value (if any) stands.
        }
      }),
    ),
  );
  const owners = new Map<string, string | null>();
  let oldestRead: string | null = null;
  for (const [id, v] of Object.entries(cache.accounts)) {
    owners.set(id, v.owner);
    if (oldestRead === null || v.readAt < oldestRead) oldestRead = v.readAt;
  }
  return { owners, cache, read, fromCache: owners.size - read, unread: order.length - owners.size, oldestRead };
}

/** Accepts a stored cache only if it has the expected shape (anything else: start afresh). */
export function ownerTagCacheFrom(value: unknown): OwnerTagCache | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Partial<OwnerTagCache>;
  if (typeof v.tag !== "string" || !v.accounts || typeof v.accounts !== "object") return null;
  const accounts: OwnerTagCache["accounts"] = {};
  for (const [id, e] of Object.entries(v.accounts)) {
    if (!/^\d{12}$/.test(id) || !e || typeof e !== "object") continue;
    const { owner, readAt } = e as { owner?: unknown; readAt?: unknown };
    if (
      (owner === null || typeof owner === "string") &&
      typeof readAt === "string" &&
      !Number.isNaN(Date.parse(readAt))
    )
      accounts[id] = { owner, readAt };
  }
  return { tag: v.tag, accounts };
}

/** The report warning for in-scope accounts whose owner is not known: none when every owner is. */
export function ownersUnreadWarnings(
  unread: number,
  ownerTag: string | undefined,
): Array<{ field: string; message: string }> {
  if (!ownerTag || unread === 0) return [];
  return [
    {
      field: "ownerTag",
      message: `${unread} in-scope account(s) have no owner in this report: their "${ownerTag}" tag could not be read yet (Organizations throttled ListTagsForResource, or the time for reading tags ran out; the deployed workflow reads the rest on its next runs). Their findings are complete; only the owner column is empty.`,
    },
  ];
}
