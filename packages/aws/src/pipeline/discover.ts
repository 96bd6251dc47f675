import { randomUUID } from "node:crypto";
import { type AccountTarget, type Clock, configWarnings, type OrgMfaConfig, systemClock } from "@orgmfa/core";
import type { ClientPool } from "../client-pool";
import { type Discovery, type DiscoveryFilters, discoverOrganization } from "../discovery";
import type { RunContext, RunStates } from "./run-state";

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

export interface DiscoverPhaseInput {
  pool: ClientPool;
  states: RunStates;
  config: OrgMfaConfig;
  /** Command-line filters; they replace the config's. */
  filters?: DiscoveryFilters;
  configSource?: RunContext["configSource"];
  /** Set only to re-run a scan id; otherwise a new one. */
  scanId?: string;
  clock?: Clock;
  /**
   * The previous scan, fixed for this run before anything is written (the deployed workflow copies
   * `latest/report.json` into the run's folder): its key, or why there is none.
   */
  previous?: (scanId: string) => Promise<{ key: string | null; warning: string | null }>;
}

export interface DiscoverPhaseResult {
  run: RunContext;
  discovery: Discovery;
  /** The in-scope targets (what the scan phase scans; the Distributed Map's items). */
  inScope: AccountTarget[];
  /** Suspicious settings of the config, judged against the accounts listed. */
  warnings: Array<{ field: string; message: string }>;
}

/**
 * The discover phase: list the organization's accounts (with OU paths and skip reasons), then record
 * the run — its context, the ledger of every listed account, the in-scope targets — and, kept between
 * runs, every account's OU ids (the quarantine's mode by OU between runs).
 */
export async function discoverPhase(o: DiscoverPhaseInput): Promise<DiscoverPhaseResult> {
  const clock = o.clock ?? systemClock;
  const startedAt = clock.now();
  const scanId = o.scanId ?? newScanId(startedAt);
  const filters = discoveryFilters(o.config, o.filters);
  const discovery = await discoverOrganization(o.pool.organizations(), filters, o.pool.discoveryIam());
  const previous = o.previous ? await o.previous(scanId) : null;
  const run: RunContext = {
    scanId,
    startedAt: startedAt.toISOString(),
    organizationId: discovery.organizationId || null,
    partition: o.pool.partition,
    managementAccountId: discovery.managementAccountId,
    rootCredentialsManagement: discovery.rootCredentialsManagement,
    rootSessions: discovery.rootSessions,
    config: o.config,
    filters,
    configSource: o.configSource ?? null,
    ...(previous ? { previousKey: previous.key, previousWarning: previous.warning } : {}),
  };
  const inScope = discovery.targets.filter((t) => t.skip === null);
  const state = o.states.run(scanId);
  await state.put("context", run);
  await state.put("ledger", discovery.targets);
  await state.put("targets", inScope);
  await o.states.kept.put("accountOus", Object.fromEntries(discovery.targets.map((t) => [t.accountId, t.ouIds ?? []])));
  const warnings = configWarnings(o.config, {
    now: clock.now(),
    accountIds: new Set(discovery.targets.map((t) => t.accountId)),
  });
  return { run, discovery, inScope, warnings };
}
