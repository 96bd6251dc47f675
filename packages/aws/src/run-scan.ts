import type { Clock, OrgMfaConfig, PreviousScan, ScanReport } from "@orgmfa/core";
import type { ClientPool } from "./client-pool";
import type { Discovery, DiscoveryFilters } from "./discovery";
import { aggregatePhase } from "./pipeline/aggregate";
import { discoverPhase } from "./pipeline/discover";
import { ownersPhase } from "./pipeline/owners";
import { MemoryRunStates, type RunStates } from "./pipeline/run-state";
import { scanPhase } from "./pipeline/scan";
import type { ScanAccountsOptions } from "./scan-accounts";
import type { HubSyncResult } from "./security-hub";

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
  /** Where the run's state is kept. @default in memory */
  states?: RunStates;
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

/**
 * One whole scan in one process — `orgmfa scan`, `orgmfa enforce`: the phases of the deployed workflow
 * (discover → scan, with owners beside it → aggregate), in the same order, over an in-memory run state.
 * Delivery (the publish phase) is the caller's, after it has written its own outputs.
 */
export async function runScan(o: RunScanOptions): Promise<ScanReport> {
  const config = o.config ?? {};
  const states: RunStates = o.states ?? new MemoryRunStates();
  o.onPhase?.("discovering the organization");
  const d = await discoverPhase({
    pool: o.pool,
    states,
    config,
    ...(o.filters ? { filters: o.filters } : {}),
    ...(o.scanId ? { scanId: o.scanId } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  o.onDiscovered?.(d.discovery);
  for (const w of d.warnings) o.onWarning?.(w);
  const state = states.run(d.run.scanId);
  // Owner tags are read beside the scan, not before it: one Organizations call per account under its
  // low rate takes far longer than the organization's walk (about 17 minutes at 10,000 accounts).
  const ownerTag = config.ownerTag;
  const owners = ownerTag ? ownersPhase({ pool: o.pool, states, state, tag: ownerTag }) : null;
  // Never an unhandled rejection while the scan runs; awaited (and thrown) below.
  owners?.catch(() => {});
  o.onPhase?.(`scanning ${d.inScope.length} of ${d.discovery.targets.length} accounts`);
  await scanPhase({
    pool: o.pool,
    state,
    run: d.run,
    targets: d.inScope,
    toolVersion: o.toolVersion,
    concurrency: o.concurrency,
    accountTimeoutMs: o.accountTimeoutMs,
    collect: o.collect,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.securityHub ? { securityHub: o.securityHub } : {}),
    onAccountDone: o.onAccountDone,
    onHubDelivered: o.onHubDelivered,
  });
  if (owners) o.onPhase?.("reading owner tags");
  await owners;
  const { report } = await aggregatePhase({
    state,
    run: d.run,
    toolVersion: o.toolVersion,
    previous: o.previous ?? null,
    callerArn: o.run?.callerArn ?? null,
    region: o.pool.region,
    configSha256: o.run?.configSha256 ?? null,
    ...(o.securityHub ? { securityHubRegion: o.securityHub.region } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  for (const w of report.warnings ?? []) if (w.field === "ownerTag") o.onWarning?.(w);
  return report;
}
