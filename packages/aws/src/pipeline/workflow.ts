import type { AccountTarget } from "@orgmfa/core";
import pLimit from "p-limit";
import type { RunOwners } from "./run-state";

/**
 * The deployed scan workflow, described once: its states, what each invokes, and the payload each
 * step takes and returns. The CDK app builds the state machine from it, and {@link runWorkflowLocally}
 * runs it the same way for the tests and the benchmark.
 *
 * ```
 * Discover ──► ScanAndReadOwners (Parallel) ──────────────────────────────► Publish ──► QuarantineSweep
 *   │            ├─ ScanAccounts (Distributed Map of ScanBatch, batches)       ▲         (with quarantine)
 *   │            └─ Owners ──► MoreOwners? ──► Owners …                          │
 *   └─ on error ─────────────────────────────────────────────────────────────────┘ ($.discoveryError)
 * ```
 * Each branch catches its own failure, so Publish always runs: accounts without a result are FAILED.
 */
export const SCAN_WORKFLOW = {
  discover: { state: "Discover", fn: "discover", errorPath: "$.discoveryError" },
  parallel: { state: "ScanAndReadOwners", errorPath: "$.scanError" },
  map: {
    state: "ScanAccounts",
    /** The run's targets object: the ItemReader's key. */
    itemsKeyPath: "$.targetsKey",
    /** The fields of Discover's output every batch gets (ItemBatcher's BatchInput). */
    batchInput: ["bucket", "scanId", "contextKey"] as const,
    maxConcurrencyPath: "$.mapConcurrency",
    failed: "ScanAccountsFailed",
    errorPath: "$.scanAccountsError",
  },
  scanBatch: { state: "ScanBatch", fn: "scan-batch" },
  owners: {
    state: "Owners",
    fn: "owners",
    /** Each round's answer goes beside the run's reference, which every round is given. */
    resultPath: "$.owners",
    /** Owners again while its answer says `more` (at most OWNERS_MAX_ROUNDS rounds). */
    again: "MoreOwners",
    morePath: "$.owners.more",
    /** The ends of the branch: no answer (no owner tag), and done. */
    ends: ["OwnersRead", "OwnersDone"] as const,
    failed: "OwnersFailed",
    errorPath: "$.ownersError",
  },
  publish: { state: "Publish", fn: "publish", resultPathBeforeSweep: "$.published" },
  sweep: { state: "QuarantineSweep", fn: "enforce", payloadField: "sweep", resultPath: "$.quarantine" },
} as const;

/** The functions the workflow invokes (each a Lambda function of the CDK app). */
export type WorkflowFunction = "discover" | "scan-batch" | "owners" | "publish" | "enforce";

/** Rounds of Owners in one run (see the Owners handler: about 4,000 tags a round at Organizations' rate). */
export const OWNERS_MAX_ROUNDS = 4;

/**
 * The workflow's input. The schedule's is `{}`: the scan configuration is the object the CDK app
 * stores in the report bucket. `config` (the config file of docs/usage.md) overrides it.
 */
export interface DiscoverEvent {
  config?: unknown;
  /** Set only to re-run a scan id (tests); otherwise a new one. */
  scanId?: string;
}

/** What Discover returns, and what the Map's batches, Owners and Publish receive. */
export interface RunRef {
  bucket: string;
  scanId: string;
  contextKey: string;
  targetsKey: string;
  inScope: number;
  /** The account tag naming owners, or null: the Owners step then has nothing to read. */
  ownerTag?: string | null;
  /** Batches the Distributed Map runs at once (its MaxConcurrencyPath), derived by Discover. */
  mapConcurrency?: number;
}

/** A Distributed Map batch, exactly as Step Functions delivers it (ItemBatcher with BatchInput). */
export interface ScanBatchEvent {
  Items: AccountTarget[];
  BatchInput: Pick<RunRef, (typeof SCAN_WORKFLOW.map.batchInput)[number]>;
}

export interface ScanBatchOutput {
  scanned: number;
  failed: number;
}

/** What Owners is given: the run, and (from its second round on) what its round before returned. */
export type OwnersInput = RunRef & { owners?: OwnersOutput | null };

/** What Owners returns each round: the counts of the run's owners, the round, and whether to read on. */
export type OwnersOutput = Omit<RunOwners, "owners"> & {
  round: number;
  /** Accounts whose owner was never read remain, and a round is left: the workflow runs Owners again. */
  more: boolean;
};

/**
 * Publish's input when Discover failed or timed out: the Catch on Discover puts the error (Step
 * Functions' `{ Error, Cause }`) at `$.discoveryError` of the execution's input.
 */
export interface DiscoveryFailedEvent {
  discoveryError: { Error?: string; Cause?: string };
}

export const isDiscoveryFailed = (event: object): event is DiscoveryFailedEvent =>
  "discoveryError" in event && !("contextKey" in event);

export interface PublishOutput {
  scanId: string;
  reportUri: string | null;
  open: number;
  coverage: number;
}

/** The workflow's last step, with quarantine: the sweep over the run (Publish's answer beside it). */
export interface SweepEvent {
  sweep: RunRef & { published?: PublishOutput };
}

/** What each state invokes, for {@link runWorkflowLocally}: the handlers, or stand-ins that measure them. */
export interface WorkflowSteps {
  discover(event: DiscoverEvent): Promise<RunRef>;
  /** The Map's ItemReader: the run's targets object. */
  items(ref: RunRef): Promise<AccountTarget[]>;
  scanBatch(event: ScanBatchEvent): Promise<unknown>;
  owners(input: OwnersInput): Promise<OwnersOutput | null>;
  publish(event: RunRef | DiscoveryFailedEvent): Promise<PublishOutput>;
  /** Only with quarantine deployed. */
  sweep?(event: SweepEvent): Promise<unknown>;
}

export interface LocalWorkflowOptions {
  /** ItemBatcher's MaxItemsPerBatch. */
  batchSize: number;
  /** The Map's ceiling when Discover gives no concurrency. */
  maxConcurrency: number;
  /** The Map fails when more batches than this fail. @default 0 */
  toleratedFailurePercentage?: number;
}

/** What a local run went through, state by state. */
export interface LocalWorkflowRun {
  ref: RunRef | null;
  discoveryError: DiscoveryFailedEvent["discoveryError"] | null;
  batches: Array<{ event: ScanBatchEvent; output?: unknown; error?: unknown }>;
  mapError: unknown;
  owners: Array<OwnersOutput | null>;
  ownersError: unknown;
  published: PublishOutput;
  sweep: unknown;
}

const stepError = (e: unknown) => ({
  Error: e instanceof Error ? e.name : "Error",
  Cause: JSON.stringify({
    errorType: e instanceof Error ? e.name : "Error",
    errorMessage: String((e as Error)?.message ?? e),
  }),
});

/**
 * Runs {@link SCAN_WORKFLOW} in this process as Step Functions runs it: Discover (its failure goes to
 * Publish with `discoveryError`), then the Map's batches (at the run's concurrency, failures tolerated
 * up to the percentage) beside the Owners rounds, each branch catching its own failure, then Publish,
 * then the sweep. Publish's failure is the run's: it is thrown, as the execution would fail.
 */
export async function runWorkflowLocally(
  steps: WorkflowSteps,
  input: DiscoverEvent,
  o: LocalWorkflowOptions,
): Promise<LocalWorkflowRun> {
  const run: Omit<LocalWorkflowRun, "published"> = {
    ref: null,
    discoveryError: null,
    batches: [],
    mapError: null,
    owners: [],
    ownersError: null,
    sweep: null,
  };
  let ref: RunRef;
  try {
    ref = await steps.discover(input);
  } catch (e) {
    run.discoveryError = stepError(e);
    const published = await steps.publish({ ...input, discoveryError: run.discoveryError });
    return { ...run, published };
  }
  run.ref = ref;
  const scan = async () => {
    try {
      const items = await steps.items(ref);
      const BatchInput = { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey };
      for (let i = 0; i < items.length; i += o.batchSize)
        run.batches.push({ event: { Items: items.slice(i, i + o.batchSize), BatchInput } });
      const limit = pLimit(Math.max(1, ref.mapConcurrency ?? o.maxConcurrency));
      await Promise.all(
        run.batches.map((b) =>
          limit(async () => {
            try {
              b.output = await steps.scanBatch(b.event);
            } catch (e) {
              b.error = e;
            }
          }),
        ),
      );
      const failed = run.batches.filter((b) => b.error !== undefined).length;
      if (failed > 0 && (failed / run.batches.length) * 100 > (o.toleratedFailurePercentage ?? 0))
        throw new Error(`${failed} of ${run.batches.length} batches failed`);
    } catch (e) {
      run.mapError = e;
    }
  };
  const owners = async () => {
    try {
      let input: OwnersInput = ref;
      for (;;) {
        const answer = await steps.owners(input);
        run.owners.push(answer);
        if (!answer?.more) break;
        input = { ...ref, owners: answer };
      }
    } catch (e) {
      run.ownersError = e;
    }
  };
  await Promise.all([scan(), owners()]);
  const published = await steps.publish(ref);
  if (steps.sweep) run.sweep = await steps.sweep({ sweep: { ...ref, published } });
  return { ...run, published };
}
