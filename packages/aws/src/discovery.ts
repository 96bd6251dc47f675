import { type IAMClient, ListOrganizationsFeaturesCommand } from "@aws-sdk/client-iam";
import {
  type Account,
  DescribeOrganizationCommand,
  type OrganizationsClient,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  paginateListRoots,
} from "@aws-sdk/client-organizations";
import { type AccountTarget, isOuOrRootId, OrgMfaError } from "@orgmfa/core";
import pLimit from "p-limit";
import { errorCode, errorMessage } from "./errors";

export interface DiscoveryFilters {
  /** Only these accounts (others are SKIPPED/EXCLUDED). */
  accounts?: readonly string[];
  excludeAccounts?: readonly string[];
  /**
   * Only accounts under these OUs (nested OUs included): each an OU or root id (`ou-ab12-cd34ef56`,
   * `r-ab12`), a path (`Root/Workloads/Prod` or `Workloads/Prod`) or a name unique in the organization.
   */
  ous?: readonly string[];
  /** Accounts under these OUs (nested OUs included) are SKIPPED/EXCLUDED; ids, paths or names as `ous`. */
  excludeOus?: readonly string[];
  /** Organizations calls in flight at once (the OU walk). @default 4 */
  concurrency?: number;
}

export interface Discovery {
  organizationId: string;
  managementAccountId: string | null;
  targets: AccountTarget[];
  /** Organization feature RootCredentialsManagement: known true/false, or null when unknown. */
  /** IAM organization feature RootCredentialsManagement (ListOrganizationsFeatures); null: unknown. */
  rootCredentialsManagement: boolean | null;
  /** IAM organization feature RootSessions (privileged root actions, sts:AssumeRoot); null: unknown. */
  rootSessions: boolean | null;
  /** The root and every OU: id, path, and the accounts directly in it. */
  ous: OrganizationUnit[];
}

/** An OU (or the root) as `orgmfa ous` lists it. */
export interface OrganizationUnit {
  id: string;
  path: string;
  /** Accounts directly under it (not under its child OUs). */
  accounts: number;
}

/**
 * An OU reference as a person types it — an id, a path with or without `Root/`, or a name — as the
 * id it names. A name that more than one OU has, or nothing at all, is a usage error that lists what
 * would match.
 */
export function resolveOu(ref: string, nodes: ReadonlyMap<string, { path: string }>, organizationId: string): string {
  const wanted = ref.trim().replace(/\/+$/, "");
  if (nodes.has(wanted)) return wanted;
  if (isOuOrRootId(wanted))
    throw new DiscoveryError(
      `OU ${wanted} is not in organization ${organizationId}. List its OUs with: orgmfa ous`,
      "usage",
    );
  const asPath = /^root(\/|$)/i.test(wanted) ? wanted : `Root/${wanted}`;
  const all = [...nodes.entries()];
  const pick = (matches: [string, { path: string }][]) => {
    if (matches.length === 1) return matches[0]?.[0];
    if (matches.length > 1)
      throw new DiscoveryError(
        `"${ref}" names ${matches.length} OUs: ${matches.map(([id, n]) => `${n.path} (${id})`).join(", ")}. Give its path or id instead.`,
        "usage",
      );
    return undefined;
  };
  const found =
    pick(all.filter(([, n]) => n.path === asPath)) ??
    pick(all.filter(([, n]) => n.path.toLowerCase() === asPath.toLowerCase())) ??
    pick(all.filter(([, n]) => n.path.split("/").at(-1) === wanted)) ??
    pick(all.filter(([, n]) => n.path.split("/").at(-1)?.toLowerCase() === wanted.toLowerCase()));
  if (found) return found;
  throw new DiscoveryError(
    `"${ref}" is no OU id, path or name in organization ${organizationId}. List its OUs with: orgmfa ous`,
    "usage",
  );
}

/** Discovery could not list the organization, or a filter names something the organization lacks. */
export class DiscoveryError extends OrgMfaError {
  readonly kind = "aws";
  /**
   * @param problem `usage`: the request cannot work as given (an account not in the organization, no
   *   account in scope); `access`: the organization could not be read with these credentials.
   */
  constructor(
    message: string,
    readonly problem: "usage" | "access",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The filters in force, by name, and how the listed accounts ended up out of scope. */
export interface EmptyScope {
  listed: number;
  suspended: number;
  excluded: number;
  filters: { [K in "accounts" | "excludeAccounts" | "ous" | "excludeOus"]?: readonly string[] };
}

/**
 * No account is left in scope: a scan would look at nothing, and must not report "all clear".
 * Thrown by discovery so that every host (CLI, workflow) refuses such a scan.
 */
export class EmptyScopeError extends DiscoveryError {
  constructor(readonly scope: EmptyScope) {
    super(emptyScopeMessage(scope), "usage");
  }
}

/** Names the filters that left no account in scope; `label` maps a filter to how the user wrote it. */
export function emptyScopeMessage(
  scope: EmptyScope,
  label: (filter: keyof EmptyScope["filters"]) => string = (f) => f,
): string {
  const set = (Object.keys(scope.filters) as Array<keyof EmptyScope["filters"]>).filter(
    (k) => scope.filters[k]?.length,
  );
  const filters = set.map((k) => `${label(k)} ${scope.filters[k]?.join(",")}`).join("; ");
  const counts = `${scope.listed} listed: ${scope.suspended} suspended or closed, ${scope.excluded} excluded`;
  return `No account is in scope, so nothing would be scanned (${counts}).${
    filters ? ` Filters in force: ${filters}.` : ""
  } Change the filters so that at least one active account remains.`;
}

interface OuNode {
  name: string;
  /** OU ids from the root down to this node, inclusive. */
  ancestry: string[];
  path: string;
}

/**
 * Walks the organization top-down (ListRoots, then per node ListOrganizationalUnitsForParent and
 * ListAccountsForParent): O(OUs) calls rather than one ListParents per account, and every node's
 * pages in parallel with the others (bounded), so the walk takes the tree's depth in round trips
 * plus the pages of its largest OU — not ListAccounts' pages of 20, one after another (500 round
 * trips at 10,000 accounts). Returns each account with its parent node.
 */
async function walkTree(
  orgs: OrganizationsClient,
  concurrency: number,
): Promise<{ nodes: Map<string, OuNode>; accounts: Array<{ account: Account; parentId: string }> }> {
  const nodes = new Map<string, OuNode>();
  const accounts: Array<{ account: Account; parentId: string }> = [];
  const limit = pLimit(concurrency);
  const roots: string[] = [];
  for await (const page of paginateListRoots({ client: orgs }, {})) {
    for (const r of page.Roots ?? []) {
      if (!r.Id) continue;
      nodes.set(r.Id, { name: "Root", ancestry: [r.Id], path: "Root" });
      roots.push(r.Id);
    }
  }
  // Each node's OUs and accounts are read as soon as its parent's OU list is known; every listing
  // waits for a slot (at most `concurrency` Organizations listings at once, under its rate).
  const visit = async (parentId: string): Promise<void> => {
    const parent = nodes.get(parentId) as OuNode;
    const readAccounts = limit(async () => {
      for await (const page of paginateListAccountsForParent({ client: orgs }, { ParentId: parentId }))
        for (const account of page.Accounts ?? []) if (account.Id) accounts.push({ account, parentId });
    });
    const children = await limit(async () => {
      const found: string[] = [];
      for await (const page of paginateListOrganizationalUnitsForParent({ client: orgs }, { ParentId: parentId }))
        for (const ou of page.OrganizationalUnits ?? []) {
          if (!ou.Id) continue;
          const name = ou.Name ?? ou.Id;
          nodes.set(ou.Id, { name, ancestry: [...parent.ancestry, ou.Id], path: `${parent.path}/${name}` });
          found.push(ou.Id);
        }
      return found;
    });
    await Promise.all([readAccounts, ...children.map(visit)]);
  };
  await Promise.all(roots.map(visit));
  return { nodes, accounts };
}

/**
 * ListOrganizationsFeatures errors that mean the feature is off, not unknown: IAM has no trusted
 * access in the organization, or the organization is not in all-features mode (both are required
 * for centralized root access). IAM API reference, ListOrganizationsFeatures "Errors".
 */
const FEATURES_OFF = new Set([
  "ServiceAccessNotEnabledException",
  "ServiceAccessNotEnabled",
  "OrganizationNotInAllFeaturesModeException",
  "OrganizationNotInAllFeaturesMode",
]);

/** IAM's centralized root access features of the organization; each null when unknown. */
async function rootAccessFeatures(
  iam: IAMClient | undefined,
): Promise<{ rootCredentialsManagement: boolean | null; rootSessions: boolean | null }> {
  const unknown = { rootCredentialsManagement: null, rootSessions: null };
  if (!iam) return unknown;
  try {
    const r = await iam.send(new ListOrganizationsFeaturesCommand({}));
    const enabled = r.EnabledFeatures ?? [];
    return {
      rootCredentialsManagement: enabled.includes("RootCredentialsManagement"),
      rootSessions: enabled.includes("RootSessions"),
    };
  } catch (e) {
    if (FEATURES_OFF.has(errorCode(e))) return { rootCredentialsManagement: false, rootSessions: false };
    // Not the management account or the delegated administrator for IAM, or not supported: unknown.
    return unknown;
  }
}

/**
 * Lists every account of the organization with its OU path, state and whether it is in scope (owners
 * are read apart, see `readOwnerTags`: at thousands of accounts they take far longer than the walk).
 * Every account under the organization's root appears exactly once.
 *
 * @throws DiscoveryError when the organization cannot be read, or a filter names an account or OU
 * the organization does not have; {@link EmptyScopeError} when no account is left in scope.
 */
export async function discoverOrganization(
  orgs: OrganizationsClient,
  filters: DiscoveryFilters = {},
  featuresIam?: IAMClient,
): Promise<Discovery> {
  let organizationId: string;
  let managementAccountId: string | null;
  try {
    const org = await orgs.send(new DescribeOrganizationCommand({}));
    organizationId = org.Organization?.Id ?? "";
    managementAccountId = org.Organization?.MasterAccountId ?? null;
  } catch (e) {
    const code = errorCode(e);
    if (code === "AWSOrganizationsNotInUseException") {
      throw new DiscoveryError(
        "This account is not a member of an AWS Organization. Run orgmfa with credentials for the management account, a delegated administrator, or pass --org-role-arn.",
        "usage",
        { cause: e },
      );
    }
    throw new DiscoveryError(
      `Cannot read the organization (${code}: ${errorMessage(e)}). Use credentials of the management account or a delegated administrator, or pass --org-role-arn with the audit role of the management account.`,
      "access",
      { cause: e },
    );
  }

  const concurrency = Math.max(1, filters.concurrency ?? 4);
  const { nodes, accounts } = await walkTree(orgs, concurrency);

  const known = new Set(accounts.map((a) => a.account.Id));
  for (const id of [...(filters.accounts ?? []), ...(filters.excludeAccounts ?? [])]) {
    if (!known.has(id)) throw new DiscoveryError(`Account ${id} is not in organization ${organizationId}.`, "usage");
  }
  const ous = filters.ous?.map((ref) => resolveOu(ref, nodes, organizationId));
  const excludeOus = filters.excludeOus?.map((ref) => resolveOu(ref, nodes, organizationId));

  const targets: AccountTarget[] = [];
  const seen = new Set<string>();
  for (const { account: a, parentId } of accounts) {
    const accountId = a.Id;
    // Moved between two OUs while the tree was walked, an account can be listed twice: once is kept.
    if (!accountId || seen.has(accountId)) continue;
    seen.add(accountId);
    const node = nodes.get(parentId);
    const ancestry = node?.ancestry ?? [];
    const state = String(a.State ?? a.Status ?? "UNKNOWN");
    const included =
      (!filters.accounts?.length || filters.accounts.includes(accountId)) &&
      (!ous?.length || ancestry.some((id) => ous.includes(id)));
    const excluded = !!filters.excludeAccounts?.includes(accountId) || ancestry.some((id) => excludeOus?.includes(id));
    const skip = state !== "ACTIVE" ? "SUSPENDED" : !included || excluded ? "EXCLUDED" : null;
    targets.push({
      accountId,
      accountName: a.Name ?? accountId,
      ouPath: node?.path ?? "Root",
      owner: null,
      state,
      skip,
      ouIds: ancestry,
    });
  }
  targets.sort((x, y) => x.ouPath.localeCompare(y.ouPath) || x.accountName.localeCompare(y.accountName));
  if (!targets.some((t) => t.skip === null)) {
    const named = {
      accounts: filters.accounts,
      excludeAccounts: filters.excludeAccounts,
      ous: filters.ous,
      excludeOus: filters.excludeOus,
    };
    throw new EmptyScopeError({
      listed: targets.length,
      suspended: targets.filter((t) => t.skip === "SUSPENDED").length,
      excluded: targets.filter((t) => t.skip === "EXCLUDED").length,
      filters: named,
    });
  }
  const direct = new Map<string, number>();
  for (const { parentId } of accounts) direct.set(parentId, (direct.get(parentId) ?? 0) + 1);
  return {
    organizationId,
    managementAccountId,
    targets,
    ...(await rootAccessFeatures(featuresIam)),
    ous: [...nodes.entries()]
      .map(([id, n]) => ({ id, path: n.path, accounts: direct.get(id) ?? 0 }))
      .sort((a, b) => a.path.localeCompare(b.path)),
  };
}
