// The call inventory's vocabulary: who calls (principals), what a call records, the deployment's facts the
// calls are made on, the sample run-time values, and the files that make the calls.

/** A central role, by the function or the service that runs as it. */
export type CentralRoleId =
  | "discover"
  | "scanBatch"
  | "publish"
  | "enforce"
  | "scanConfigWriter"
  | "workflow"
  | "scheduler";
/** A role of the member template, in one account. */
export type MemberRoleId = "audit" | "enforcer" | "forwarder";

export type CallPrincipal =
  | { kind: "central-role"; role: CentralRoleId }
  | { kind: "member-role"; role: MemberRoleId; account: string }
  | { kind: "service"; service: string };

export interface InventoryCall {
  principal: CallPrincipal;
  action: string;
  /** The resource's ARN ("*" for an action without a resource type; "" when `assumes` names it). */
  resource: string;
  /** For a service principal's sts:AssumeRole: the role it assumes (the proof finds its ARN). */
  assumes?: CallPrincipal;
  /** The account that owns the resource (the caller's, for "*"). */
  resourceAccount: string;
  /** The request context AWS sends beyond the principal's own keys (which the proof adds). */
  context?: Record<string, string | string[]>;
  /** The file that makes the call (or configures the service that makes it). */
  source: string;
  /** Text of `source` at the call, checked to be there. */
  code?: string;
  /** What the call is for, as a failure names it. */
  what: string;
  /** Made only with `quarantine: true`. */
  quarantine?: boolean;
  /** Made only with the scan configuration's `assumeRoot: true` (root sessions). */
  rootAudit?: boolean;
}

/** The run-state keys of apps/functions/src/run-store.ts (`runKeys`, `ownerTagCacheKey`, …). */
export interface RunStateLayout {
  run(
    prefix: string,
    scanId: string,
  ): {
    context: string;
    targets: string;
    previous: string;
    ledger: string;
    owners: string;
    consoleWithoutMfa: string;
    quarantine: string;
    results: string;
    result: (accountId: string) => string;
  };
  ownerTagCache(prefix: string): string;
  accountOus(prefix: string): string;
  pace(prefix: string): string;
  quarantineRecord(prefix: string, at: string, accountId: string, userName: string): string;
}

/** What the calls are made on: the deployment's resources, as the synthesized templates name them. */
export interface DeploymentFacts {
  partition: string;
  region: string;
  organizationId: string;
  scannerAccountId: string;
  managementAccountId: string;
  /** Accounts with the member template's StackSet instance (the scanning account may be one). */
  memberAccountIds: string[];
  prefix: string;
  bucketArn: string;
  keyArn: string;
  topicArn: string;
  auditRoleName: string;
  /** Each function's ARN and log group ARN (without the trailing `:*`). */
  functions: Record<"discover" | "owners" | "scan-batch" | "publish", { arn: string; logGroupArn: string }> & {
    enforce?: { arn: string; logGroupArn: string };
  };
  scanConfigWriterLogGroupArn: string;
  /** The report bucket's server access logs: their bucket and key prefix (S3 writes them). */
  accessLogs: { bucketArn: string; prefix: string };
  /** Publish locks each scan's files (S3 Object Lock retention, EVIDENCE_RETENTION_DAYS). */
  evidenceRetention: boolean;
  stateMachineArn: string;
  /** The Distributed Map state's label. */
  mapLabel: string;
  workflowLogGroupArn: string;
  scheduleGroupArn: string;
  scheduleDlqArn: string;
  /** Every alarm's ARN (each publishes to the digest topic). */
  alarmArns: string[];
  /** The scan reads member roots through sts:AssumeRoot (scan configuration `assumeRoot`). */
  rootAudit?: boolean;
  quarantine?: {
    eventBusArn: string;
    enforceRuleArn: string;
    enforceDlqArn: string;
    memberEnforcerRoleName: string;
    quarantineGroupName: string;
    /** The member forwarding rule and its dead-letter queue, by member account (us-east-1 instance). */
    forwarding: Record<string, { ruleArn: string; dlqArn: string }>;
  };
  keys: RunStateLayout;
}

/** Sample values a run makes at run time (the scan id, an account, a user, a time). */
export const INVENTORY_SAMPLES = {
  scanId: "2026-01-02T03-04-05Z-a1b2c3",
  startedAt: "2026-01-02T03:04:05.000Z",
  userName: "alice",
  at: "2026-01-02T03:04:06.789Z",
  rootId: "r-exam",
  ouId: "ou-exam-11111111",
} as const;

/** The files that make the calls (or configure the services that make them), as each call names its `source`. */
export const F = {
  discover: "apps/functions/src/discover.ts",
  owners: "apps/functions/src/owners.ts",
  scanBatch: "apps/functions/src/scan-batch.ts",
  publish: "apps/functions/src/publish.ts",
  enforce: "apps/functions/src/enforce.ts",
  runState: "packages/aws/src/pipeline/s3-run-state.ts",
  discoverPhase: "packages/aws/src/pipeline/discover.ts",
  ownersPhase: "packages/aws/src/pipeline/owners.ts",
  scanPhase: "packages/aws/src/pipeline/scan.ts",
  aggregatePhase: "packages/aws/src/pipeline/aggregate.ts",
  pool: "packages/aws/src/client-pool.ts",
  discovery: "packages/aws/src/discovery.ts",
  ownersAws: "packages/aws/src/owners.ts",
  collector: "packages/aws/src/iam-collector.ts",
  devices: "packages/aws/src/iam-devices.ts",
  scanAccounts: "packages/aws/src/scan-accounts.ts",
  hub: "packages/aws/src/security-hub.ts",
  s3Store: "packages/aws/src/s3-store.ts",
  sns: "packages/aws/src/sns-notifier.ts",
  quarantine: "packages/aws/src/quarantine.ts",
  forwarding: "packages/aws/src/forwarding.ts",
  reportStore: "apps/infra/lib/constructs/report-store.ts",
  scanFunction: "apps/infra/lib/constructs/scan-function.ts",
  scanWorkflow: "apps/infra/lib/constructs/scan-workflow.ts",
  alarms: "apps/infra/lib/constructs/alarms.ts",
  quarantineEvents: "apps/infra/lib/constructs/quarantine-events.ts",
  member: "stacksets/member-audit-role.yaml",
} as const;

/** The construct that makes each central role (and so the service principal it trusts). */
export const ROLE_SOURCE: Record<CentralRoleId, string> = {
  discover: F.scanFunction,
  scanBatch: F.scanFunction,
  publish: F.scanFunction,
  enforce: F.scanFunction,
  scanConfigWriter: F.reportStore,
  workflow: F.scanWorkflow,
  scheduler: F.scanWorkflow,
};

export const central = (role: CentralRoleId): CallPrincipal => ({ kind: "central-role", role });
export const service = (name: string): CallPrincipal => ({ kind: "service", service: name });

/** A principal as a failure names it. */
export function principalName(p: CallPrincipal): string {
  if (p.kind === "service") return p.service;
  if (p.kind === "member-role") return `${p.role} role in ${p.account}`;
  return `${p.role} role`;
}
