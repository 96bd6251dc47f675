import {
  type AccountOutcome,
  type AccountTarget,
  accountEntry,
  type Clock,
  type Policy,
  policyFromConfig,
  systemClock,
} from "@orgmfa/core";
import pLimit from "p-limit";
import type { ClientPool } from "../client-pool";
import { type ScanAccountsOptions, scanAccounts } from "../scan-accounts";
import { type HubSyncResult, hubProblems, syncAccountHub } from "../security-hub";
import type { AccountResult, RunContext, RunStateStore } from "./run-state";

/** The fields of a report that come from the run itself, as of now (the per-account and the run's report). */
export function runReportFields(run: RunContext, toolVersion: string, now: Date) {
  return {
    scanId: run.scanId,
    toolVersion,
    startedAt: new Date(run.startedAt),
    finishedAt: now,
    organizationId: run.organizationId,
    partition: run.partition,
  };
}

/** The policy a run evaluates with: its config, and what discovery found of the organization's root features. */
export const runPolicy = (run: RunContext): Policy =>
  policyFromConfig(run.config, {
    organizationId: run.organizationId,
    managementAccountId: run.managementAccountId ?? null,
    rootCredentialsManagement: run.rootCredentialsManagement,
    rootSessions: run.rootSessions ?? null,
  });

/**
 * Whether a run reads root through sts:AssumeRoot sessions: asked for (config `assumeRoot`) and the
 * organization has centralized root access on (either feature: AWS names neither as the one an audit
 * session needs; where STS refuses, the account keeps the member role's view and says why).
 */
export function rootSessionsOf(run: RunContext): ScanAccountsOptions["rootSessions"] {
  if (!run.config.assumeRoot) return undefined;
  if (run.rootSessions !== true && run.rootCredentialsManagement !== true) return undefined;
  return { exceptAccountId: run.managementAccountId ?? null };
}

/** Why a run that asked for root sessions does not open them, or null. */
export function rootSessionsWarning(run: RunContext): { field: string; message: string } | null {
  if (!run.config.assumeRoot || rootSessionsOf(run)) return null;
  const known = run.rootSessions === false || run.rootCredentialsManagement === false;
  return {
    field: "assumeRoot",
    message: known
      ? "centralized root access is off in this organization (ListOrganizationsFeatures): root was read through the member audit roles"
      : "the organization's root access features are unknown (the discovery identity may not call iam:ListOrganizationsFeatures: use the management account or IAM's delegated administrator): root was read through the member audit roles",
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

export interface ScanPhaseInput extends Pick<ScanAccountsOptions, "concurrency" | "accountTimeoutMs" | "collect"> {
  pool: ClientPool;
  state: RunStateStore;
  run: RunContext;
  /** The accounts to scan: all in-scope targets (the CLI), or one batch of them (the workflow's Map). */
  targets: readonly AccountTarget[];
  toolVersion: string;
  clock?: Clock;
  /**
   * Deliver each account's findings to its own Security Hub the moment the account ends, with the
   * credentials the phase holds. The scanning account's hub (its own findings and the coverage
   * findings) is left to the publish phase.
   */
  securityHub?: { region: string; scanningAccountId: string };
  onAccountDone?: (outcome: AccountOutcome, done: number, total: number, elapsedMs: number) => void;
  onHubDelivered?: (hub: HubSyncResult) => void;
}

export interface ScanPhaseResult {
  scanned: number;
  failed: number;
  /** Member hubs that did not take all their findings. */
  hubsFailed: number;
}

/**
 * The scan phase: each account scanned in isolation (bounded concurrency, a coded failure never
 * stops the others), evaluated once as it ends, delivered to its own Security Hub from that very
 * evaluation, and written to the run state as one result. Only a result that cannot be written
 * fails the phase (the workflow's Map then retries the batch); an account whose result is never
 * written is reported FAILED by the aggregate phase.
 */
export async function scanPhase(o: ScanPhaseInput): Promise<ScanPhaseResult> {
  const clock = o.clock ?? systemClock;
  const policy = runPolicy(o.run);
  const hub = o.securityHub;
  const targetOf = new Map(o.targets.map((t) => [t.accountId, t]));
  const counts: ScanPhaseResult = { scanned: 0, failed: 0, hubsFailed: 0 };
  const writes: Promise<void>[] = [];
  // Accounts delivered and written at once, as many as are scanned at once: hubs slower than the
  // scans queue here, not in memory without bound.
  const limit = pLimit(Math.max(1, o.concurrency ?? 8));
  const finish = async (target: AccountTarget, outcome: AccountOutcome, elapsedMs: number) => {
    const hubStart = performance.now();
    const entry = accountEntry(target, outcome, policy, clock.now());
    const result: AccountResult = { accountId: target.accountId, entry };
    if (hub && outcome.kind === "facts" && outcome.accountId !== hub.scanningAccountId) {
      const synced = await syncAccountHub(o.pool, {
        run: runReportFields(o.run, o.toolVersion, clock.now()),
        target,
        entry,
        policy,
        region: hub.region,
        scanningAccountId: hub.scanningAccountId,
      });
      result.delivery = { securityHub: synced };
      if (hubProblems(synced).length) counts.hubsFailed++;
      o.onHubDelivered?.(synced);
    }
    result.seconds = Math.round(elapsedMs + (performance.now() - hubStart)) / 1000;
    await o.state.putResult(result);
  };
  await scanAccounts(o.pool, o.targets, {
    ...withPolicy(
      {
        concurrency: o.concurrency,
        accountTimeoutMs: o.accountTimeoutMs,
        collect: o.collect,
        rootSessions: rootSessionsOf(o.run),
      },
      policy,
    ),
    retainOutcomes: false,
    onAccountDone: (outcome, done, total, elapsedMs) => {
      counts.scanned++;
      if (outcome.kind === "failure") counts.failed++;
      const target = targetOf.get(outcome.accountId);
      if (target) writes.push(limit(() => finish(target, outcome, elapsedMs)));
      o.onAccountDone?.(outcome, done, total, elapsedMs);
    },
  });
  await Promise.all(writes);
  return counts;
}
