export {
  type AggregatePhaseInput,
  type AggregatePhaseResult,
  aggregatePhase,
  reportRun,
  scanWarnings,
} from "./aggregate";
export {
  type DiscoverPhaseInput,
  type DiscoverPhaseResult,
  discoverPhase,
  discoveryFilters,
  newScanId,
} from "./discover";
export { moreOwnerRounds, type OwnersCounts, type OwnersPhaseInput, ownersPhase } from "./owners";
export {
  type AccountResult,
  type KeptObjects,
  type KeptStateStore,
  MemoryRunStates,
  type RunContext,
  type RunObjects,
  type RunOwners,
  type RunStateStore,
  type RunStates,
  type RunWithoutMfa,
} from "./run-state";
export { BucketStore, S3RunStates, ScanConfigError } from "./s3-run-state";
export { runPolicy, runReportFields, type ScanPhaseInput, type ScanPhaseResult, scanPhase, withPolicy } from "./scan";
export {
  type DiscoverEvent,
  type DiscoveryFailedEvent,
  isDiscoveryFailed,
  type LocalWorkflowOptions,
  type LocalWorkflowRun,
  OWNERS_MAX_ROUNDS,
  type OwnersInput,
  type OwnersOutput,
  type PublishOutput,
  type RunRef,
  runWorkflowLocally,
  SCAN_WORKFLOW,
  type ScanBatchEvent,
  type ScanBatchOutput,
  type SweepEvent,
  type WorkflowFunction,
  type WorkflowSteps,
} from "./workflow";
