import { QUARANTINE_IAM_EVENTS } from "@orgmfa/core";
import { REPORT_FILE_NAMES } from "@orgmfa/render";
import { latestKeyPrefix, scanKeyPrefix } from "./layout";
import { scanConfigKey } from "./policies";

/**
 * Every AWS call the deployment makes, by whom, on what, with the request context AWS sends — the one
 * list the permission proof (apps/infra/test/permission-proof.test.ts) evaluates against the
 * synthesized templates with a real policy engine. Each call names the file that makes it and a piece
 * of that file's text (`code`), which the proof checks is there, so a call moved or renamed in the code
 * is noticed here. Calls made by AWS services on the deployment's behalf (a dead letter, an alarm, a
 * log record, a role assumed by Lambda, Step Functions or Scheduler) name the source file that
 * configures them.
 *
 * The S3 keys come from the key helpers the code uses: those of this package (`scanConfigKey`,
 * `scanKeyPrefix`, `latestKeyPrefix`, `REPORT_FILE_NAMES`) and the run-state layout of the functions
 * (`runKeys` and its siblings in apps/functions/src/run-store.ts), passed in as {@link RunStateLayout}.
 * The statements that grant these calls are written once in ./policies.ts (the functions' roles), in
 * the CDK app's constructs, apps/infra/lib/constructs/ (the service-facing resources), and in
 * stacksets/member-audit-role.yaml (the member roles); this module does not restate them.
 */

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

const F = {
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
const ROLE_SOURCE: Record<CentralRoleId, string> = {
  discover: F.scanFunction,
  scanBatch: F.scanFunction,
  publish: F.scanFunction,
  enforce: F.scanFunction,
  scanConfigWriter: F.reportStore,
  workflow: F.scanWorkflow,
  scheduler: F.scanWorkflow,
};

const central = (role: CentralRoleId): CallPrincipal => ({ kind: "central-role", role });
const service = (name: string): CallPrincipal => ({ kind: "service", service: name });

/** The calls of the deployment described by `d` (with the quarantine's when `d.quarantine` is set). */
export function callInventory(d: DeploymentFacts): InventoryCall[] {
  const calls: InventoryCall[] = [];
  const p = d.partition;
  const S = INVENTORY_SAMPLES;
  const scanner = d.scannerAccountId;
  const bucket = d.bucketArn;
  const object = (key: string) => `${bucket}/${key}`;
  const run = d.keys.run(d.prefix, S.scanId);
  const add = (c: InventoryCall) => calls.push(c);

  // ── The report key, as S3, SNS and SQS use it for their callers ──────────────────────────────────
  const kmsVia = (svc: "s3" | "sns" | "sqs", context: Record<string, string>) => ({
    "kms:ViaService": `${svc}.${d.region}.amazonaws.com`,
    "kms:CallerAccount": scanner,
    ...context,
  });
  // The bucket has S3 Bucket Keys on: S3 asks KMS with the bucket's ARN as the encryption context.
  const s3Kms = kmsVia("s3", { "kms:EncryptionContext:aws:s3:arn": bucket });
  const key = (
    principal: CallPrincipal,
    action: "kms:GenerateDataKey" | "kms:Decrypt" | "kms:Encrypt",
    context: Record<string, string>,
    what: string,
    source: string,
    quarantine?: boolean,
  ) =>
    add({
      principal,
      action,
      resource: d.keyArn,
      resourceAccount: scanner,
      context,
      what,
      source,
      ...(quarantine ? { quarantine } : {}),
    });

  type S3Op = "get" | "put" | "multipart-put" | "list";
  /** One S3 call on the report bucket and the KMS calls S3 makes for it (SSE-KMS). */
  const s3 = (
    role: CentralRoleId,
    op: S3Op,
    k: string,
    what: string,
    source: string,
    code?: string,
    quarantine?: boolean,
  ) => {
    const who = central(role);
    const q = quarantine ? { quarantine } : {};
    const c = code ? { code } : {};
    if (op === "list") {
      add({
        principal: who,
        action: "s3:ListBucket",
        resource: bucket,
        resourceAccount: scanner,
        context: { "s3:prefix": k },
        what,
        source,
        ...c,
        ...q,
      });
      return;
    }
    if (op === "get") {
      add({
        principal: who,
        action: "s3:GetObject",
        resource: object(k),
        resourceAccount: scanner,
        what,
        source,
        ...c,
        ...q,
      });
      key(who, "kms:Decrypt", s3Kms, `${what} (SSE-KMS)`, source, quarantine);
      return;
    }
    add({
      principal: who,
      action: "s3:PutObject",
      resource: object(k),
      resourceAccount: scanner,
      what,
      source,
      ...c,
      ...q,
    });
    key(who, "kms:GenerateDataKey", s3Kms, `${what} (SSE-KMS)`, source, quarantine);
    if (op === "multipart-put") {
      // A multipart upload (lib-storage's Upload above one part) decrypts the data key for each part,
      // and an upload that fails is aborted.
      key(who, "kms:Decrypt", s3Kms, `${what} (SSE-KMS, multipart)`, source, quarantine);
      add({
        principal: who,
        action: "s3:AbortMultipartUpload",
        resource: object(k),
        resourceAccount: scanner,
        what: `${what} (a failed multipart upload aborted)`,
        source: F.s3Store,
        code: "leavePartsOnError: false",
        ...q,
      });
    }
  };

  /** A role's SNS publish to the encrypted digest topic, and the KMS calls SNS makes for it. */
  const publishToTopic = (role: CentralRoleId, what: string, source: string, code: string, quarantine?: boolean) => {
    const q = quarantine ? { quarantine } : {};
    add({
      principal: central(role),
      action: "sns:Publish",
      resource: d.topicArn,
      resourceAccount: scanner,
      what,
      source,
      code,
      ...q,
    });
    const ctx = kmsVia("sns", { "kms:EncryptionContext:aws:sns:topicArn": d.topicArn });
    key(central(role), "kms:GenerateDataKey", ctx, `${what} (encrypted topic)`, source, quarantine);
    key(central(role), "kms:Decrypt", ctx, `${what} (encrypted topic)`, source, quarantine);
  };

  /** A role in another account assumed through STS (the trust policy and the caller's policy both decide). */
  const assume = (
    principal: CallPrincipal,
    account: string,
    roleName: string,
    what: string,
    source: string,
    code: string,
    quarantine?: boolean,
  ) =>
    add({
      principal,
      action: "sts:AssumeRole",
      resource: `arn:${p}:iam::${account}:role/${roleName}`,
      resourceAccount: account,
      what,
      source,
      code,
      ...(quarantine ? { quarantine } : {}),
    });

  /** A service principal assuming a role it runs as (Lambda, Step Functions, Scheduler, EventBridge). */
  const serviceAssumes = (
    svc: string,
    roleArnOf: CallPrincipal,
    what: string,
    context: Record<string, string> = {},
    quarantine?: boolean,
  ) =>
    add({
      principal: service(svc),
      action: "sts:AssumeRole",
      resource: "",
      assumes: roleArnOf,
      resourceAccount: roleArnOf.kind === "member-role" ? roleArnOf.account : scanner,
      context,
      what,
      source: roleArnOf.kind === "central-role" ? ROLE_SOURCE[roleArnOf.role] : F.member,
      ...(quarantine ? { quarantine } : {}),
    });

  /** A function's own log group (Lambda writes it as the function's role) and X-Ray. */
  const lambdaRuntime = (
    role: CentralRoleId,
    logGroupArn: string,
    what: string,
    quarantine?: boolean,
    traced = true,
  ) => {
    const q = quarantine ? { quarantine } : {};
    const stream = `${logGroupArn}:log-stream:2026/01/02/[$LATEST]0123456789abcdef`;
    for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"])
      add({
        principal: central(role),
        action,
        resource: stream,
        resourceAccount: scanner,
        what: `${what}: its logs`,
        source: ROLE_SOURCE[role],
        ...q,
      });
    if (traced)
      for (const action of ["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
        add({
          principal: central(role),
          action,
          resource: "*",
          resourceAccount: scanner,
          what: `${what}: active tracing`,
          source: ROLE_SOURCE[role],
          ...q,
        });
    serviceAssumes("lambda.amazonaws.com", central(role), `Lambda runs ${what} as its role`, {}, quarantine);
  };

  // ── Discover (apps/functions/src/discover.ts) ─────────────────────────────────────────────────────
  const cfg = scanConfigKey(d.prefix);
  const latestReport = `${latestKeyPrefix(d.prefix)}report.json`;
  s3(
    "discover",
    "get",
    cfg,
    "Discover reads the deployed scan configuration",
    F.runState,
    "async scanConfig(key: string)",
  );
  s3(
    "discover",
    "list",
    latestReport,
    "Discover finds the previous report by listing",
    F.discover,
    "objects.snapshot(",
  );
  s3(
    "discover",
    "get",
    latestReport,
    "Discover copies the previous report (CopyObject reads it)",
    F.runState,
    "new CopyObjectCommand",
  );
  s3(
    "discover",
    "put",
    run.previous,
    "Discover copies the previous report into the run",
    F.discover,
    "runKeys(s.REPORT_PREFIX, scanId).previous",
  );
  s3("discover", "put", run.context, "Discover writes the run context", F.discoverPhase, 'state.put("context", run)');
  s3("discover", "put", run.ledger, "Discover writes the ledger", F.discoverPhase, 'state.put("ledger",');
  s3(
    "discover",
    "put",
    d.keys.accountOus(d.prefix),
    "Discover writes the accounts' OU ids",
    F.discoverPhase,
    '"accountOus",',
  );
  s3(
    "discover",
    "put",
    run.targets,
    "Discover writes the Map's targets",
    F.discoverPhase,
    'state.put("targets", inScope)',
  );
  s3(
    "discover",
    "list",
    d.keys.pace(d.prefix),
    "Discover finds the last run's pace by listing",
    F.discover,
    'states.kept.find("pace")',
  );
  s3(
    "discover",
    "get",
    d.keys.pace(d.prefix),
    "Discover reads the last run's pace",
    F.discover,
    'states.kept.find("pace")',
  );
  const orgRole = (what: string, code: string, source: string = F.pool) =>
    assume(central("discover"), d.managementAccountId, d.auditRoleName, what, source, code);
  orgRole(
    "Discover assumes the management account's audit role for Organizations",
    "this.assume(this.options.orgRoleArn)",
  );
  const mgmtAudit: CallPrincipal = { kind: "member-role", role: "audit", account: d.managementAccountId };
  const orgArn = (rest: string) => `arn:${p}:organizations::${d.managementAccountId}:${rest}`;
  const rootArn = orgArn(`root/${d.organizationId}/${S.rootId}`);
  const ouArn = orgArn(`ou/${d.organizationId}/${S.ouId}`);
  const orgCall = (action: string, resource: string, what: string, code: string, source: string = F.discovery) =>
    add({ principal: mgmtAudit, action, resource, resourceAccount: d.managementAccountId, what, source, code });
  orgCall(
    "organizations:DescribeOrganization",
    "*",
    "Discover reads the organization",
    "new DescribeOrganizationCommand",
  );
  orgCall("organizations:ListRoots", "*", "Discover lists the roots", "paginateListRoots(");
  for (const parent of [rootArn, ouArn]) {
    orgCall(
      "organizations:ListAccountsForParent",
      parent,
      "Discover lists each parent's accounts",
      "paginateListAccountsForParent(",
    );
    orgCall(
      "organizations:ListOrganizationalUnitsForParent",
      parent,
      "Discover walks the OUs",
      "paginateListOrganizationalUnitsForParent(",
    );
  }
  orgCall(
    "iam:ListOrganizationsFeatures",
    "*",
    "Discover reads centralized root access",
    "new ListOrganizationsFeaturesCommand",
  );

  // ── Owners (apps/functions/src/owners.ts), as Discover's role ──────────────────────────────────────
  s3("discover", "get", run.targets, "Owners reads the run's targets", F.ownersPhase, 'o.state.get("targets")');
  s3(
    "discover",
    "list",
    d.keys.ownerTagCache(d.prefix),
    "Owners finds the owner-tag cache by listing",
    F.ownersPhase,
    'o.states.kept.find("ownerTags")',
  );
  s3(
    "discover",
    "get",
    d.keys.ownerTagCache(d.prefix),
    "Owners reads the owner-tag cache",
    F.ownersPhase,
    'o.states.kept.find("ownerTags")',
  );
  s3("discover", "put", run.owners, "Owners writes the run's owners", F.ownersPhase, 'o.state.put("owners",');
  s3(
    "discover",
    "put",
    d.keys.ownerTagCache(d.prefix),
    "Owners rewrites the owner-tag cache",
    F.ownersPhase,
    'o.states.kept.put("ownerTags", tags.cache)',
  );
  orgRole(
    "Owners assumes the management account's audit role for Organizations",
    "this.assume(this.options.orgRoleArn)",
  );
  const accounts = [d.managementAccountId, ...d.memberAccountIds];
  for (const account of accounts)
    orgCall(
      "organizations:ListTagsForResource",
      orgArn(`account/${d.organizationId}/${account}`),
      "Owners reads each account's owner tag",
      "new ListTagsForResourceCommand",
      F.ownersAws,
    );

  // ── ScanBatch (apps/functions/src/scan-batch.ts) ──────────────────────────────────────────────────
  s3("scanBatch", "get", run.context, "ScanBatch reads the run context", F.scanBatch, 'state.get("context")');
  for (const account of accounts) {
    s3(
      "scanBatch",
      "put",
      run.result(account),
      "ScanBatch writes each account's result",
      F.scanPhase,
      "o.state.putResult(result)",
    );
    assume(
      central("scanBatch"),
      account,
      d.auditRoleName,
      "ScanBatch assumes each account's audit role",
      F.pool,
      "new AssumeRoleCommand",
    );
    const audit: CallPrincipal = { kind: "member-role", role: "audit", account };
    const iam = (action: string, resource: string, code: string) =>
      add({
        principal: audit,
        action,
        resource,
        resourceAccount: account,
        what: "ScanBatch reads the account's IAM facts",
        source: F.collector,
        code,
      });
    iam("iam:GenerateCredentialReport", "*", "new GenerateCredentialReportCommand");
    iam("iam:GetCredentialReport", "*", "new GetCredentialReportCommand");
    iam("iam:GetAccountSummary", "*", "new GetAccountSummaryCommand");
    iam("iam:ListUsers", "*", "paginateListUsers(");
    iam("iam:ListVirtualMFADevices", "*", "paginateListVirtualMFADevices(");
    const user = `arn:${p}:iam::${account}:user/${S.userName}`;
    iam("iam:ListMFADevices", user, "paginateListMFADevices(");
    iam("iam:GetLoginProfile", user, "new GetLoginProfileCommand");
    iam("iam:ListAccessKeys", user, "paginateListAccessKeys(");
    if (account !== scanner) {
      // Each account's own findings, delivered by the ScanBatch that scanned it, through its audit role.
      const hub = (action: string, resource: string, code: string) =>
        add({
          principal: audit,
          action,
          resource,
          resourceAccount: account,
          what: "ScanBatch delivers the account's findings to its Security Hub",
          source: F.hub,
          code,
        });
      hub(
        "securityhub:BatchImportFindings",
        `arn:${p}:securityhub:${d.region}:${account}:product/${account}/default`,
        "new BatchImportFindingsCommand",
      );
      hub("securityhub:GetFindings", `arn:${p}:securityhub:${d.region}:${account}:hub/default`, "paginateGetFindings(");
    }
  }

  // ── Publish (apps/functions/src/publish.ts) ───────────────────────────────────────────────────────
  s3("publish", "get", run.context, "Publish reads the run context", F.publish, 'state.get("context")');
  s3("publish", "get", run.ledger, "Publish reads the ledger", F.aggregatePhase, 'o.state.get("ledger")');
  s3(
    "publish",
    "list",
    run.results,
    "Publish finds the accounts' results by listing",
    F.aggregatePhase,
    "o.state.results(inScope",
  );
  s3(
    "publish",
    "get",
    run.result(d.memberAccountIds[0] ?? scanner),
    "Publish reads each account's result",
    F.runState,
    "this.get<AccountResult>(key)",
  );
  s3(
    "publish",
    "get",
    run.previous,
    "Publish reads the previous report's copy",
    F.publish,
    "loadPreviousAt(pool.s3(), event.bucket, run.previousKey)",
  );
  s3(
    "publish",
    "list",
    run.owners,
    "Publish finds the run's owners by listing",
    F.aggregatePhase,
    'o.state.find("owners")',
  );
  s3("publish", "get", run.owners, "Publish reads the run's owners", F.aggregatePhase, 'o.state.find("owners")');
  s3(
    "publish",
    "put",
    run.consoleWithoutMfa,
    "Publish writes who has a console password and no MFA",
    F.aggregatePhase,
    'o.state.put("withoutMfa"',
  );
  const scanPrefix = scanKeyPrefix(d.prefix, { scanId: S.scanId, startedAt: S.startedAt });
  for (const name of [...REPORT_FILE_NAMES, "manifest.json"]) {
    s3(
      "publish",
      "multipart-put",
      `${scanPrefix}${name}`,
      `Publish stores the scan's ${name}`,
      F.s3Store,
      "await new Upload({",
    );
    s3(
      "publish",
      "get",
      `${scanPrefix}${name}`,
      `Publish copies ${name} to latest/ (CopyObject reads it)`,
      F.s3Store,
      "new CopyObjectCommand",
    );
    s3(
      "publish",
      "put",
      `${latestKeyPrefix(d.prefix)}${name}`,
      `Publish copies ${name} to latest/`,
      F.s3Store,
      "new CopyObjectCommand",
    );
  }
  s3(
    "publish",
    "put",
    d.keys.pace(d.prefix),
    "Publish writes the run's pace",
    F.publish,
    'states.kept.put("pace", pace)',
  );
  for (const [action, resource, code] of [
    [
      "securityhub:BatchImportFindings",
      `arn:${p}:securityhub:${d.region}:${scanner}:product/${scanner}/default`,
      "new BatchImportFindingsCommand",
    ],
    ["securityhub:GetFindings", `arn:${p}:securityhub:${d.region}:${scanner}:hub/default`, "paginateGetFindings("],
  ] as const)
    add({
      principal: central("publish"),
      action,
      resource,
      resourceAccount: scanner,
      what: "Publish syncs the scanning account's own Security Hub",
      source: F.hub,
      code,
    });
  publishToTopic(
    "publish",
    "Publish sends the digest",
    F.sns,
    "new PublishCommand({ TopicArn: topicArn, Subject: digest.subject",
  );

  // ── Enforce (apps/functions/src/enforce.ts), with the quarantine ──────────────────────────────────
  const q = d.quarantine;
  if (q) {
    const e = (op: S3Op, k: string, what: string, source: string, code: string) =>
      s3("enforce", op, k, what, source, code, true);
    e("get", cfg, "Enforce reads the deployed scan configuration", F.enforce, "store.scanConfig(s.CONFIG_KEY)");
    e(
      "list",
      d.keys.accountOus(d.prefix),
      "Enforce finds the accounts' OU ids by listing",
      F.enforce,
      "store.find<Record<string, string[]>>(accountOusKey",
    );
    e(
      "get",
      d.keys.accountOus(d.prefix),
      "Enforce reads the accounts' OU ids",
      F.enforce,
      "store.find<Record<string, string[]>>(accountOusKey",
    );
    e(
      "put",
      d.keys.quarantineRecord(d.prefix, S.at, d.memberAccountIds[0] ?? scanner, S.userName),
      "Enforce records a change an IAM event led to",
      F.enforce,
      "quarantineRecordKey(s.REPORT_PREFIX",
    );
    e("get", run.context, "The sweep reads the run context", F.enforce, "store.get<RunContext>(ref.contextKey)");
    e("get", run.ledger, "The sweep reads the ledger", F.enforce, "store.get<AccountTarget[]>(keys.ledger)");
    e(
      "get",
      run.consoleWithoutMfa,
      "The sweep reads the console users without MFA",
      F.enforce,
      "store.get<WithoutMfa>(keys.consoleWithoutMfa)",
    );
    e("put", run.quarantine, "The sweep writes its record", F.enforce, "store.put(keys.quarantine");
    publishToTopic("enforce", "Enforce announces a change", F.enforce, "Subject: snsSubject(`orgmfa quarantine:", true);
    publishToTopic("enforce", "The sweep announces its changes", F.enforce, "Subject: announcement.subject", true);
    for (const account of accounts) {
      assume(
        central("enforce"),
        account,
        q.memberEnforcerRoleName,
        "Enforce assumes each account's enforcer role",
        F.pool,
        "new AssumeRoleCommand",
        true,
      );
      const enforcer: CallPrincipal = { kind: "member-role", role: "enforcer", account };
      const user = `arn:${p}:iam::${account}:user/${S.userName}`;
      const group = `arn:${p}:iam::${account}:group/${q.quarantineGroupName}`;
      const policy = `arn:${p}:iam::${account}:policy/${q.quarantineGroupName}Policy`;
      const iam = (action: string, resource: string, code: string, context?: Record<string, string>) =>
        add({
          principal: enforcer,
          action,
          resource,
          resourceAccount: account,
          ...(context ? { context } : {}),
          what: "Enforce reads and reconciles a user's quarantine",
          source: F.quarantine,
          code,
          quarantine: true,
        });
      iam("iam:GetUser", user, "new GetUserCommand");
      iam("iam:GetLoginProfile", user, "new GetLoginProfileCommand");
      iam("iam:ListMFADevices", user, "new ListMFADevicesCommand");
      iam("iam:ListGroupsForUser", user, "paginateListGroupsForUser(");
      iam("iam:ListAttachedUserPolicies", user, "paginateListAttachedUserPolicies(");
      iam("iam:GetGroup", group, "paginateGetGroup(");
      iam("iam:ListEntitiesForPolicy", policy, "paginateListEntitiesForPolicy(");
      iam("iam:AddUserToGroup", group, "new AddUserToGroupCommand");
      iam("iam:RemoveUserFromGroup", group, "new RemoveUserFromGroupCommand");
      iam("iam:AttachUserPolicy", user, "new AttachUserPolicyCommand", { "iam:PolicyARN": policy });
      iam("iam:DetachUserPolicy", user, "new DetachUserPolicyCommand", { "iam:PolicyARN": policy });
    }

    // The member accounts forward IAM's CloudTrail events (us-east-1) to the central bus.
    for (const [account, fwd] of Object.entries(q.forwarding)) {
      const source = { "aws:SourceAccount": account, "aws:SourceArn": fwd.ruleArn };
      const forwarder: CallPrincipal = { kind: "member-role", role: "forwarder", account };
      serviceAssumes("events.amazonaws.com", forwarder, "EventBridge assumes the forwarding role", source, true);
      add({
        principal: forwarder,
        action: "events:PutEvents",
        resource: q.eventBusArn,
        resourceAccount: scanner,
        context: { "events:source": ["aws.iam"], "events:detail-type": ["AWS API Call via CloudTrail"] },
        what: `the forwarding rule puts an IAM event (${QUARANTINE_IAM_EVENTS[0]}, …) on the central bus`,
        source: F.member,
        code: "RoleArn: !GetAtt ForwardIamEventsRole.Arn",
        quarantine: true,
      });
      add({
        principal: service("events.amazonaws.com"),
        action: "sqs:SendMessage",
        resource: fwd.dlqArn,
        resourceAccount: account,
        context: source,
        what: "EventBridge keeps an event the central bus did not take in the forwarding rule's dead-letter queue (SSE-SQS)",
        source: F.member,
        code: "Arn: !GetAtt ForwardIamEventsDeadLetters.Arn",
        quarantine: true,
      });
      // The daily sweep counts what the account could not forward, through its enforcer role (made by
      // the primary region's instance; the queue is the us-east-1 instance's).
      add({
        principal: { kind: "member-role", role: "enforcer", account },
        action: "sqs:GetQueueAttributes",
        resource: fwd.dlqArn,
        resourceAccount: account,
        what: "the sweep counts the IAM events the account could not forward (its forwarding dead-letter queue)",
        source: F.forwarding,
        code: "new GetQueueAttributesCommand",
        quarantine: true,
      });
    }
    // The central rule invokes Enforce, and keeps what it could not deliver in the encrypted queue.
    const rule = { "aws:SourceAccount": scanner, "aws:SourceArn": q.enforceRuleArn };
    if (d.functions.enforce)
      add({
        principal: service("events.amazonaws.com"),
        action: "lambda:InvokeFunction",
        resource: d.functions.enforce.arn,
        resourceAccount: scanner,
        context: rule,
        what: "the IAM-event rule invokes Enforce",
        source: F.quarantineEvents,
        code: "new eventsTargets.LambdaFunction(props.enforce",
        quarantine: true,
      });
    add({
      principal: service("events.amazonaws.com"),
      action: "sqs:SendMessage",
      resource: q.enforceDlqArn,
      resourceAccount: scanner,
      context: rule,
      what: "EventBridge keeps an IAM event Enforce did not take in its dead-letter queue",
      source: F.quarantineEvents,
      code: "deadLetterQueue: undelivered",
      quarantine: true,
    });
    const sqsKms = { ...kmsVia("sqs", { "kms:EncryptionContext:aws:sqs:arn": q.enforceDlqArn }), ...rule };
    for (const action of ["kms:GenerateDataKey", "kms:Decrypt"] as const)
      key(
        service("events.amazonaws.com"),
        action,
        sqsKms,
        "EventBridge encrypts the dead letter (SSE-KMS queue)",
        F.quarantineEvents,
        true,
      );
  }

  // ── The scan configuration object, written at deploy time (AwsCustomResource) ─────────────────────
  s3(
    "scanConfigWriter",
    "put",
    cfg,
    "the deployment writes the scan configuration",
    F.reportStore,
    "onCreate: putConfig",
  );
  // CDK's AwsCustomResource function: not traced.
  lambdaRuntime("scanConfigWriter", d.scanConfigWriterLogGroupArn, "the scan-configuration writer", false, false);

  // ── S3 server access logs of the report bucket (S3's logging service writes them) ─────────────────
  add({
    principal: service("logging.s3.amazonaws.com"),
    action: "s3:PutObject",
    resource: `${d.accessLogs.bucketArn}/${d.accessLogs.prefix}2026-01-02-03-04-05-0123456789ABCDEF`,
    resourceAccount: scanner,
    context: { "aws:SourceArn": bucket, "aws:SourceAccount": scanner },
    what: "S3 writes the report bucket's server access logs (SSE-S3)",
    source: F.reportStore,
    code: "serverAccessLogsBucket: accessLogs",
  });

  // ── The functions' runtime: logs, tracing, their roles ────────────────────────────────────────────
  lambdaRuntime("discover", d.functions.discover.logGroupArn, "Discover");
  lambdaRuntime("discover", d.functions.owners.logGroupArn, "Owners");
  lambdaRuntime("scanBatch", d.functions["scan-batch"].logGroupArn, "ScanBatch");
  lambdaRuntime("publish", d.functions.publish.logGroupArn, "Publish");
  if (d.functions.enforce) lambdaRuntime("enforce", d.functions.enforce.logGroupArn, "Enforce", true);

  // ── The workflow (Step Functions, as its role) ────────────────────────────────────────────────────
  const wf = central("workflow");
  serviceAssumes("states.amazonaws.com", wf, "Step Functions runs the workflow as its role", {
    "aws:SourceAccount": scanner,
    "aws:SourceArn": d.stateMachineArn,
  });
  const functions: Array<[string, string | undefined, boolean]> = [
    ["discover", d.functions.discover.arn, false],
    ["owners", d.functions.owners.arn, false],
    ["scanBatch", d.functions["scan-batch"].arn, false],
    ["publish", d.functions.publish.arn, false],
    ["sweep", d.functions.enforce?.arn, true],
  ];
  // The states are SCAN_WORKFLOW's (packages/aws pipeline/workflow.ts), by their key there.
  for (const [state, arn, quarantine] of functions)
    if (arn)
      add({
        principal: wf,
        action: "lambda:InvokeFunction",
        resource: arn,
        resourceAccount: scanner,
        what: `the workflow's ${state} state invokes its function`,
        source: F.scanWorkflow,
        code: `invoke(W.${state}.state`,
        ...(quarantine ? { quarantine } : {}),
      });
  add({
    principal: wf,
    action: "s3:GetObject",
    resource: object(run.targets),
    resourceAccount: scanner,
    what: "the Distributed Map's ItemReader reads the targets",
    source: F.scanWorkflow,
    code: "itemReader: new TargetsItemReader(",
  });
  key(wf, "kms:Decrypt", s3Kms, "the ItemReader reads the SSE-KMS targets object", F.scanWorkflow);
  const smName = d.stateMachineArn.split(":").pop() ?? "";
  const execution = `arn:${p}:states:${d.region}:${scanner}:execution:${smName}`;
  add({
    principal: wf,
    action: "states:StartExecution",
    resource: d.stateMachineArn,
    resourceAccount: scanner,
    what: "the Distributed Map starts its child executions",
    source: F.scanWorkflow,
    code: "new sfn.DistributedMap",
  });
  for (const action of ["states:DescribeExecution", "states:StopExecution"])
    add({
      principal: wf,
      action,
      resource: `${execution}:0f1e2d3c`,
      resourceAccount: scanner,
      what: "the Distributed Map follows and stops its child executions",
      source: F.scanWorkflow,
      code: "new sfn.DistributedMap",
    });
  add({
    principal: wf,
    action: "states:RedriveExecution",
    resource: `${execution}/${d.mapLabel}:0f1e2d3c`,
    resourceAccount: scanner,
    what: "a redriven run redrives its Map Run",
    source: F.scanWorkflow,
    code: "label: W.map.state",
  });
  // Step Functions delivers its execution logs as a vended log delivery to the (encrypted) log group.
  for (const action of [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
  ])
    add({
      principal: wf,
      action,
      resource: "*",
      resourceAccount: scanner,
      what: "the workflow delivers its logs",
      source: F.scanWorkflow,
      code: "level: sfn.LogLevel.ALL",
    });
  for (const action of [
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
  ])
    add({
      principal: wf,
      action,
      resource: "*",
      resourceAccount: scanner,
      what: "the workflow's tracing",
      source: F.scanWorkflow,
      code: "tracingEnabled: true",
    });

  // ── The schedule (EventBridge Scheduler, as its role) ─────────────────────────────────────────────
  const sched = central("scheduler");
  serviceAssumes("scheduler.amazonaws.com", sched, "Scheduler starts the workflow as its role", {
    "aws:SourceAccount": scanner,
    "aws:SourceArn": d.scheduleGroupArn,
  });
  add({
    principal: sched,
    action: "states:StartExecution",
    resource: d.stateMachineArn,
    resourceAccount: scanner,
    what: "the schedule starts the workflow",
    source: F.scanWorkflow,
    code: "new StepFunctionsStartExecution(this.stateMachine",
  });
  add({
    principal: sched,
    action: "sqs:SendMessage",
    resource: d.scheduleDlqArn,
    resourceAccount: scanner,
    what: "the schedule keeps a start it could not make in its dead-letter queue",
    source: F.scanWorkflow,
    code: "deadLetterQueue: scheduleDlq",
  });
  const schedKms = kmsVia("sqs", { "kms:EncryptionContext:aws:sqs:arn": d.scheduleDlqArn });
  for (const action of ["kms:GenerateDataKey", "kms:Decrypt"] as const)
    key(sched, action, schedKms, "the schedule's dead letter, encrypted by SQS with the stack's key", F.scanWorkflow);

  // ── Alarms → the encrypted digest topic (CloudWatch) ──────────────────────────────────────────────
  for (const alarm of d.alarmArns) {
    const ctx = { "aws:SourceAccount": scanner, "aws:SourceArn": alarm };
    const name = alarm.split(":").pop();
    add({
      principal: service("cloudwatch.amazonaws.com"),
      action: "sns:Publish",
      resource: d.topicArn,
      resourceAccount: scanner,
      context: ctx,
      what: `the alarm ${name} notifies the digest topic`,
      source: F.alarms,
      code: "new SnsAction(props.topic)",
    });
    for (const action of ["kms:GenerateDataKey", "kms:Decrypt"] as const)
      key(
        service("cloudwatch.amazonaws.com"),
        action,
        {
          ...ctx,
          "kms:ViaService": `sns.${d.region}.amazonaws.com`,
          "kms:EncryptionContext:aws:sns:topicArn": d.topicArn,
        },
        `the alarm ${name} notifies the encrypted topic`,
        F.alarms,
      );
  }

  // ── CloudWatch Logs encrypts every log group with the stack's key ─────────────────────────────────
  const logGroups = [
    d.scanConfigWriterLogGroupArn,
    d.workflowLogGroupArn,
    ...Object.values(d.functions).flatMap((f) => (f ? [f.logGroupArn] : [])),
  ];
  for (const group of logGroups)
    for (const action of ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"] as const)
      key(
        service(`logs.${d.region}.amazonaws.com`),
        action,
        { "kms:EncryptionContext:aws:logs:arn": group },
        `CloudWatch Logs encrypts ${group.split(":").pop()}`,
        F.reportStore,
      );

  return calls;
}

/** A principal as a failure names it. */
export function principalName(p: CallPrincipal): string {
  if (p.kind === "service") return p.service;
  if (p.kind === "member-role") return `${p.role} role in ${p.account}`;
  return `${p.role} role`;
}
