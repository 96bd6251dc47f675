import { randomUUID } from "node:crypto";
import {
  type AccountEntry,
  type AccountOutcome,
  type AccountTarget,
  accountEntry,
  buildReport,
  type Clock,
  configWarnings,
  type OrgMfaConfig,
  type Policy,
  type PreviousScan,
  policyFromConfig,
  type ReportRun,
  type ScanReport,
  systemClock,
} from "@orgmfa/core";
import pLimit from "p-limit";
import type { ClientPool } from "./client-pool";
import { type Discovery, type DiscoveryFilters, discoverOrganization } from "./discovery";
import { ownersUnreadWarnings, readOwnerTags } from "./owners";
import { type ScanAccountsOptions, scanAccounts } from "./scan-accounts";
import { type HubSyncResult, hubNote, hubProblems, syncAccountHub } from "./security-hub";

export interface RunScanOptions extends ScanAccountsOptions {
  pool: ClientPool;
  config?: OrgMfaConfig;
  /** Command-line filters; they replace the config's. */
  filters?: DiscoveryFilters;
  clock?: Clock;
  toolVersion: string;
  /** The previous scan (its id and findings), for the report's changes. */
  previous?: PreviousScan | null;
  scanId?: string;
  onPhase?: (message: string) => void;
  /** The organization as discovery listed it (every account, with its OU ids), before any is scanned. */
  onDiscovered?: (discovery: Discovery) => void;
  /**
   * Each warning of the scan ({@link scanWarnings}): suspicious settings judged against the accounts
   * discovered, as soon as discovery ends; owner tags not read, at the end. All are in the report.
   */
  onWarning?: (warning: { field: string; message: string }) => void;
  /** Who runs the scan and the SHA-256 of its config, for the report's `run`. */
  run?: { callerArn: string | null; configSha256: string | null };
  /**
   * Deliver each account's findings to its own Security Hub the moment the account ends, with the
   * credentials the scan holds — what the workflow's ScanBatch does. The scanning account's hub (its
   * own findings and the coverage findings) is left to the publish phase. A hub that is not enabled or
   * refuses is noted on the account's ledger entry and passed to `onHubDelivered`; the account stays
   * audited.
   */
  securityHub?: { region: string; scanningAccountId: string };
  onHubDelivered?: (hub: HubSyncResult) => void;
}

/** What a scan records as warnings: suspicious config settings (judged against the accounts listed) and owner tags not read. */
export function scanWarnings(o: {
  config: OrgMfaConfig;
  /** Every account the organization lists. */
  accountIds: ReadonlySet<string>;
  /** In-scope accounts whose owner is not known (0 when no owner tag is configured). */
  ownersUnread?: number;
  ownerTag?: string | undefined;
  now: Date;
}): Array<{ field: string; message: string }> {
  return [
    ...configWarnings(o.config, { now: o.now, accountIds: o.accountIds }),
    ...ownersUnreadWarnings(o.ownersUnread ?? 0, o.ownerTag),
  ];
}

/**
 * The aggregate phase, the same for `orgmfa scan` and the workflow's Publish: every listed account's
 * entry (evaluated as it ended; an in-scope account without one is FAILED) into the report, with the
 * changes since the previous scan, the warnings, and who scanned where with which filters and config.
 */
export function assembleReport(o: {
  scanId: string;
  toolVersion: string;
  startedAt: Date;
  finishedAt: Date;
  organizationId: string | null;
  partition: string;
  targets: readonly AccountTarget[];
  entries: ReadonlyMap<string, AccountEntry>;
  /** Owners read apart from discovery (`readOwnerTags`), set on the accounts they are known for. */
  owners?: ReadonlyMap<string, string | null>;
  policy: Policy;
  previous: PreviousScan | null;
  warnings: ReadonlyArray<{ field: string; message: string }>;
  callerArn: string | null;
  region: string | null;
  filters: DiscoveryFilters;
  configSha256: string | null;
}): ScanReport {
  const owners = o.owners;
  if (owners?.size)
    for (const [id, entry] of o.entries) {
      const owner = owners.get(id);
      // Set in place: the entry's users are packed, and a copy of the account would inflate them.
      if (owner !== undefined) entry.account.owner = owner;
    }
  const targets = owners?.size
    ? o.targets.map((t) => (owners.has(t.accountId) ? { ...t, owner: owners.get(t.accountId) ?? null } : t))
    : o.targets;
  return buildReport({
    scanId: o.scanId,
    toolVersion: o.toolVersion,
    startedAt: o.startedAt,
    finishedAt: o.finishedAt,
    organizationId: o.organizationId,
    partition: o.partition,
    targets,
    entries: o.entries,
    policy: o.policy,
    previous: o.previous,
    warnings: o.warnings,
    run: reportRun(o),
  });
}

/** The report's `run`: who, where, which filters, which config. Shared by the CLI and the workflow. */
export function reportRun(o: {
  callerArn: string | null;
  region: string | null;
  filters: DiscoveryFilters;
  configSha256: string | null;
  policy: Policy;
}): ReportRun {
  return {
    callerArn: o.callerArn,
    region: o.region,
    filters: {
      accounts: [...(o.filters.accounts ?? [])],
      excludeAccounts: [...(o.filters.excludeAccounts ?? [])],
      ous: [...(o.filters.ous ?? [])],
      excludeOus: [...(o.filters.excludeOus ?? [])],
    },
    configSha256: o.configSha256,
    completeInventory: o.policy.completeInventory,
  };
}

/** A sortable scan id: the start time, then a random suffix. */
export function newScanId(startedAt: Date): string {
  return `${startedAt
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}-${randomUUID().slice(0, 8)}`;
}

/** The discovery filters: command-line filters replace the config's. */
export function discoveryFilters(config: OrgMfaConfig, override?: DiscoveryFilters): DiscoveryFilters {
  return {
    accounts: override?.accounts ?? config.accounts,
    excludeAccounts: override?.excludeAccounts ?? config.excludeAccounts,
    ous: override?.ous ?? config.ous,
    excludeOus: override?.excludeOus ?? config.excludeOus,
  };
}

/** Scan options the policy implies (complete device lists when phishing-resistant MFA is required). */
export function withPolicy<T extends ScanAccountsOptions>(o: T, policy: Policy): T {
  return {
    ...o,
    collect: {
      ...o.collect,
      completeDeviceLists:
        policy.requirePhishingResistantMfa || policy.completeInventory || o.collect?.completeDeviceLists,
    },
  };
}

/**
 * One whole scan: discover → scan accounts → evaluate and aggregate. The same function serves the
 * CLI and (later) the Lambda hosts.
 */
export async function runScan(o: RunScanOptions): Promise<ScanReport> {
  const clock = o.clock ?? systemClock;
  const startedAt = clock.now();
  const config = o.config ?? {};
  o.onPhase?.("discovering the organization");
  const filters = discoveryFilters(config, o.filters);
  const discovery = await discoverOrganization(o.pool.organizations(), filters, o.pool.discoveryIam());
  o.onDiscovered?.(discovery);
  const warnings = scanWarnings({
    config,
    accountIds: new Set(discovery.targets.map((t) => t.accountId)),
    now: clock.now(),
  });
  for (const w of warnings) o.onWarning?.(w);
  // Owner tags are read beside the scan, not before it: one Organizations call per account under its
  // low rate takes far longer than the organization's walk (about 17 minutes at 10,000 accounts).
  const ownerTag = config.ownerTag;
  const inScopeIds = discovery.targets.filter((t) => t.skip === null).map((t) => t.accountId);
  const ownerTags = ownerTag ? readOwnerTags(o.pool.organizations(), inScopeIds, ownerTag) : null;
  const policy = policyFromConfig(config, discovery.rootCredentialsManagement);
  const inScope = discovery.targets.filter((t) => t.skip === null).length;
  o.onPhase?.(`scanning ${inScope} of ${discovery.targets.length} accounts`);
  // Each account is evaluated as it ends and its raw facts let go; its users are kept deflated. The
  // scan holds compact report entries, not every account's facts and entries both.
  const byId = new Map(discovery.targets.map((t) => [t.accountId, t]));
  const entries = new Map<string, AccountEntry>();
  const scanId = o.scanId ?? newScanId(startedAt);
  // The fields of a report that come from the run, as of now.
  const runFields = () => ({
    scanId,
    toolVersion: o.toolVersion,
    startedAt,
    finishedAt: clock.now(),
    organizationId: discovery.organizationId || null,
    partition: o.pool.partition,
  });
  const hub = o.securityHub;
  const hubLimit = pLimit(Math.max(1, o.concurrency ?? 8));
  const deliveries: Promise<void>[] = [];
  const deliver = (target: AccountTarget, outcome: AccountOutcome, entry: AccountEntry) =>
    hubLimit(async () => {
      if (!hub) return;
      const result = await syncAccountHub(o.pool, {
        run: runFields(),
        target,
        outcome,
        policy,
        region: hub.region,
        scanningAccountId: hub.scanningAccountId,
      });
      const problems = hubProblems(result);
      if (problems.length) entry.account.notes = [...(entry.account.notes ?? []), hubNote(hub.region, problems)];
      o.onHubDelivered?.(result);
    });
  await scanAccounts(o.pool, discovery.targets, {
    ...withPolicy(o, policy),
    retainOutcomes: false,
    onAccountDone: (outcome, done, total, elapsedMs) => {
      const target = byId.get(outcome.accountId);
      if (target) {
        const entry = accountEntry(target, outcome, policy, clock.now(), { packUsers: true });
        entries.set(outcome.accountId, entry);
        if (hub && outcome.kind === "facts" && outcome.accountId !== hub.scanningAccountId)
          deliveries.push(deliver(target, outcome, entry));
      }
      o.onAccountDone?.(outcome, done, total, elapsedMs);
    },
  });
  // syncAccountHub never throws: a hub's failure is in its result.
  await Promise.all(deliveries);
  if (ownerTags) o.onPhase?.("reading owner tags");
  const owners = await ownerTags;
  for (const w of ownersUnreadWarnings(owners?.unread ?? 0, ownerTag)) {
    warnings.push(w);
    o.onWarning?.(w);
  }
  return assembleReport({
    ...runFields(),
    targets: discovery.targets,
    entries,
    owners: owners?.owners,
    policy,
    previous: o.previous ?? null,
    warnings,
    callerArn: o.run?.callerArn ?? null,
    region: o.pool.region,
    filters,
    configSha256: o.run?.configSha256 ?? null,
  });
}
