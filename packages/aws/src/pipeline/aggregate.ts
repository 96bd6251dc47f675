import {
  type AccountEntry,
  buildReport,
  type Clock,
  configWarnings,
  type OrgMfaConfig,
  type Policy,
  type PreviousScan,
  type ReportRun,
  type ScanReport,
  systemClock,
  usersWithoutMfa,
} from "@orgmfa/core";
import type { DiscoveryFilters } from "../discovery";
import { ownersUnreadWarnings } from "../owners";
import { hubNote, hubProblems } from "../security-hub";
import { discoveryFilters } from "./discover";
import type { RunContext, RunStateStore } from "./run-state";
import { rootSessionsWarning, runPolicy, runReportFields } from "./scan";

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

/** The report's `run`: who, where, which filters, which config. */
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

export interface AggregatePhaseInput {
  state: RunStateStore;
  run: RunContext;
  toolVersion: string;
  /** The previous scan (its id and findings), for the report's changes. */
  previous: PreviousScan | null;
  /** Who scanned, and where (the report's `run`). */
  callerArn: string | null;
  region: string | null;
  /** The SHA-256 of the config as it was given (a file's bytes; the workflow's: its JSON). */
  configSha256: string | null;
  /** The Security Hub region, for the note on an account whose hub refused. */
  securityHubRegion?: string;
  clock?: Clock;
}

export interface AggregatePhaseResult {
  report: ScanReport;
  /** What did not land in member hubs during the scan phase, for the digest. */
  undelivered: Array<{ target: "securityhub"; message: string }>;
  /** Member accounts whose hub did not take all their findings. */
  hubAccountsFailed: number;
  /** Seconds each account took in the scan phase (the pace the next run follows). */
  seconds: number[];
  /** An owner tag is configured but the run has no owners (the owners phase did not finish). */
  ownersMissing: boolean;
}

/**
 * The aggregate phase: every listed account's result — evaluated once, when it was scanned — into the
 * report (an in-scope account without a result is FAILED), with the owners known, the changes since
 * the previous scan, the warnings, and who scanned where. Writes the run's `withoutMfa` (for the
 * quarantine sweep). Nothing is evaluated again here: the report holds exactly the findings each
 * account's Security Hub got.
 */
export async function aggregatePhase(o: AggregatePhaseInput): Promise<AggregatePhaseResult> {
  const clock = o.clock ?? systemClock;
  const policy = runPolicy(o.run);
  const ledger = await o.state.get("ledger");
  const inScope = ledger.filter((t) => t.skip === null).map((t) => t.accountId);
  const ownerTag = o.run.config.ownerTag;
  const owners = ownerTag ? await o.state.find("owners") : null;
  const ownerOf = new Map(Object.entries(owners && owners.tag === ownerTag ? owners.owners : {}));
  const entries = new Map<string, AccountEntry>();
  const undelivered: AggregatePhaseResult["undelivered"] = [];
  const seconds: number[] = [];
  let hubAccountsFailed = 0;
  await o.state.results(inScope, (result) => {
    if (result.seconds !== undefined) seconds.push(result.seconds);
    const entry = result.entry;
    const problems = result.delivery ? hubProblems(result.delivery.securityHub) : [];
    // Set in place: the entry's users may be packed, and a copy of the account would inflate them.
    if (problems.length) {
      entry.account.notes = [...(entry.account.notes ?? []), hubNote(o.securityHubRegion ?? "", problems)];
      undelivered.push(...problems);
      hubAccountsFailed++;
    }
    const owner = ownerOf.get(result.accountId);
    if (owner !== undefined) entry.account.owner = owner;
    entries.set(result.accountId, entry);
  });
  const targets = ownerOf.size
    ? ledger.map((t) => (ownerOf.has(t.accountId) ? { ...t, owner: ownerOf.get(t.accountId) ?? null } : t))
    : ledger;
  const filters = o.run.filters ?? discoveryFilters(o.run.config);
  const rootWarning = rootSessionsWarning(o.run);
  const warnings = [
    ...scanWarnings({
      config: o.run.config,
      accountIds: new Set(ledger.map((t) => t.accountId)),
      ownersUnread: inScope.filter((id) => !ownerOf.has(id)).length,
      ownerTag,
      now: clock.now(),
    }),
    ...(rootWarning ? [rootWarning] : []),
  ];
  const report = buildReport({
    ...runReportFields(o.run, o.toolVersion, clock.now()),
    targets,
    entries,
    policy,
    previous: o.previous,
    warnings,
    run: reportRun({
      callerArn: o.callerArn,
      region: o.region,
      filters,
      configSha256: o.configSha256,
      policy,
    }),
  });
  await o.state.put("withoutMfa", usersWithoutMfa(report));
  return { report, undelivered, hubAccountsFailed, seconds, ownersMissing: !!ownerTag && !owners };
}
