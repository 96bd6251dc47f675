import type { DeployedSettings } from "@orgmfa/aws/settings";
import type { WorkflowFunction } from "@orgmfa/aws/workflow";
import {
  discoverStatements,
  enforceStatements,
  OPERATOR_POLICY_NAME,
  operatorStatements,
  publishStatements,
  type ScannerPolicyInput,
  scanBatchStatements,
} from "@orgmfa/contract";
import { DEFAULT_ENFORCER_ROLE } from "@orgmfa/core";
import { Aws, type CfnElement, CfnOutput, Duration, Stack, type StackProps, Validations } from "aws-cdk-lib";
import type * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { AwsCustomResource } from "aws-cdk-lib/custom-resources";
import type { Construct } from "constructs";
import { ACCOUNT_LIMIT_MINUTES, type DeploymentConfig, DISCOVER_LIMIT_MINUTES } from "./config";
import { Alarms } from "./constructs/alarms";
import { DigestTopic } from "./constructs/digest-topic";
import { HistoryTables } from "./constructs/history-tables";
import { logicalIdOf, pathWithoutAddedLevels } from "./constructs/logical-ids";
import { nagView, wildcardReason } from "./constructs/nag";
import { QuarantineEvents } from "./constructs/quarantine-events";
import { ReportStore } from "./constructs/report-store";
import { FunctionRole, type FunctionRoleProps, ScanFunction, type ScanFunctionProps } from "./constructs/scan-function";
import { ScanWorkflow } from "./constructs/scan-workflow";
import { TOOL_VERSION } from "./paths";

export interface CentralStackProps extends StackProps {
  /** The validated deployment configuration. */
  readonly config: DeploymentConfig;
}

/**
 * orgmfa in the delegated-administrator (security tooling) account, composed of constructs
 * (./constructs): the report store (key, bucket, access logs, the scan configuration object), the
 * digest topic, a role per function with exactly its statements (ScanBatch's is the `OrgMfaScanner`
 * role the member template trusts; Owners runs as Discover's role, which the management account's
 * audit role trusts; Publish has its own), the operator's policy, the four functions (five with the
 * quarantine), the scan workflow with its daily schedule, the alarms, and with the quarantine the
 * IAM-event bus and rule that lead to Enforce.
 *
 * Its resources keep the logical IDs they were deployed with before the constructs existed:
 * {@link CentralStack.allocateLogicalId} leaves the constructs' levels out (./constructs/logical-ids.ts),
 * and apps/infra/test/logical-ids.test.ts holds every one.
 */
export class CentralStack extends Stack {
  readonly store: ReportStore;
  readonly bucket: s3.Bucket;
  readonly digest: DigestTopic;
  readonly topic: sns.Topic;
  readonly workflow: ScanWorkflow;
  readonly stateMachine: sfn.StateMachine;
  /** The functions, by their handler. */
  readonly functions: Partial<Record<WorkflowFunction, ScanFunction>>;
  readonly alarms: Alarms;
  /** ScanBatch's role, named `scannerRoleName`: the identity the member audit roles trust. */
  readonly scannerRole: iam.Role;
  /** Discover's role, named `discoverRoleName`: trusted by the management account's audit role only. */
  readonly discoverRole: iam.Role;
  readonly publishRole: iam.Role;
  /** Enforce's role, named `enforcerRoleName` (with `quarantine` only). */
  readonly enforcerRole: iam.Role | null;
  /** What to attach to the operator role (`operatorRoleName`): the managed policy `OrgMfaOperatorPolicy`. */
  readonly operatorPolicy: iam.ManagedPolicy;
  /** The bus the member accounts forward their IAM changes to (with `quarantine` only). */
  readonly iamEvents: events.EventBus | null;
  /** Writes the scan configuration object at deploy time. */
  readonly scanConfigWriter: AwsCustomResource;
  /** The history's Glue tables, Athena workgroup and named queries (docs/history.md). */
  readonly history: HistoryTables;

  constructor(scope: Construct, id: string, props: CentralStackProps) {
    super(scope, id, props);
    const c = props.config;

    // ── The evidence store and the digest topic ──────────────────────────────────────────────────
    this.store = new ReportStore(this, "ReportStore", {
      scanConfig: c.scan,
      prefix: c.reportPrefix,
      transitionToInfrequentAccessDays: c.transitionToInfrequentAccessDays,
      evidenceRetentionDays: c.evidenceRetentionDays,
      objectLock: c.objectLock,
    });
    const { key, prefix } = this.store;
    this.bucket = this.store.bucket;
    this.scanConfigWriter = this.store.scanConfigWriter;
    this.digest = new DigestTopic(this, "DigestTopic", { encryptionKey: key, email: c.digestEmail });
    this.topic = this.digest.topic;
    // The history Publish writes beside each scan, queryable with Athena (docs/history.md).
    this.history = new HistoryTables(this, "HistoryTables", {
      bucket: this.bucket,
      prefix,
      encryptionKey: key,
      accessLogs: this.store.accessLogs,
    });

    // ── One role per function, each with exactly what its function does ──────────────────────────
    // The statements are written once (packages/contract/src/policies.ts); the emulator's roles get the
    // very same ones, so the emulated tests run under these policies.
    const policyInput: ScannerPolicyInput = {
      partition: Aws.PARTITION,
      accountId: Aws.ACCOUNT_ID,
      region: Aws.REGION,
      organizationId: c.organizationId,
      managementAccountId: c.managementAccountId,
      auditRoleName: c.auditRoleName,
      bucketArn: this.bucket.bucketArn,
      prefix,
      kmsKeyArn: key.keyArn,
      topicArn: this.topic.topicArn,
    };
    const role = (
      roleId: string,
      description: string,
      statements: FunctionRoleProps["statements"],
      roleName?: string,
    ) => new FunctionRole(this, roleId, { statements, policyInput, reportBucket: this.bucket, description, roleName });
    // ScanBatch's role keeps the name the member audit roles trust (and the construct id it was deployed with).
    this.scannerRole = role(
      "Scanner",
      "orgmfa ScanBatch: assumes the member audit roles, reads the run context, writes each account's result",
      scanBatchStatements,
      c.scannerRoleName,
    );
    this.discoverRole = role(
      "DiscoverRole",
      "orgmfa Discover and Owners: assume the management account's audit role for Organizations, write the run's state and the owner tags read",
      discoverStatements,
      c.discoverRoleName,
    );
    // The member enforcer role Enforce assumes: the scan configuration's name for it, as the member template gets it.
    const memberEnforcerRole = c.scan.quarantine?.roleName ?? DEFAULT_ENFORCER_ROLE;
    // The Enforce function's role keeps the name the member enforcer roles trust (CentralEnforcerRoleName).
    this.enforcerRole = c.quarantine
      ? role(
          "EnforcerRole",
          "orgmfa Enforce: assumes the member enforcer roles (which may only move users into and out of the quarantine group), reads the scan configuration",
          (i) => enforceStatements({ ...i, enforcerRoleName: memberEnforcerRole }),
          c.enforcerRoleName,
        )
      : null;
    this.publishRole = role(
      "PublishRole",
      "orgmfa Publish: reads the run's results, writes the reports, imports its own coverage findings, sends the digest",
      publishStatements,
    );

    // ── The operator's policy ────────────────────────────────────────────────────────────────────
    // What to attach to the role people run `orgmfa doctor` and `orgmfa scan` as (`operatorRoleName`,
    // which the member audit roles trust): an IAM role attaches it, an IAM Identity Center permission
    // set references it by name (a customer managed policy reference, which must exist in the account
    // before the permission set is provisioned there — so it is deployed whether or not the operator is
    // named yet: the role's name, with its suffix, is known only once provisioned). Written once in
    // policies.ts. No role is created: who may become the operator is the identity provider's decision,
    // and a role here would need a trust this stack cannot know.
    this.operatorPolicy = new iam.ManagedPolicy(this, "OperatorPolicy", {
      managedPolicyName: OPERATOR_POLICY_NAME,
      description:
        "orgmfa operator (a person running orgmfa scan and orgmfa doctor): assume the member audit roles of this organization; doctor's prerequisite reads",
      document: iam.PolicyDocument.fromJson({ Version: "2012-10-17", Statement: operatorStatements(policyInput) }),
    });
    for (const resource of operatorStatements(nagView(policyInput, this.bucket)).flatMap((st) => [st.Resource].flat()))
      Validations.of(this.operatorPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          resource === "*"
            ? "cloudtrail:DescribeTrails and lambda:GetAccountSettings have no resource type; GetTrailStatus and GetEventSelectors read whichever trail covers the account (an organization trail is the management account's). All read-only."
            : wildcardReason(resource),
      });

    // ── Functions ────────────────────────────────────────────────────────────────────────────────
    // Each one's environment is the settings contract (@orgmfa/aws/settings) the handlers read it with.
    const settings: DeployedSettings = {
      REPORT_BUCKET: this.bucket.bucketName,
      REPORT_PREFIX: prefix,
      AUDIT_ROLE_NAME: c.auditRoleName,
      ORG_ROLE_ARN: `arn:${Aws.PARTITION}:iam::${c.managementAccountId}:role/${c.auditRoleName}`,
      KMS_KEY_ID: key.keyArn,
      DIGEST_TOPIC_ARN: this.topic.topicArn,
      SECURITY_HUB: c.securityHub,
      SNS_PER_ACCOUNT: c.snsPerAccountMessages,
      ACCOUNT_CONCURRENCY: c.accountConcurrency,
      ACCOUNT_TIMEOUT_MS: ACCOUNT_LIMIT_MINUTES * 60_000,
      ORGMFA_VERSION: TOOL_VERSION,
      // The identity that reads the accounts, which the report names as the scanner.
      SCANNER_ROLE_ARN: this.scannerRole.roleArn,
    };
    this.functions = {};
    const fn = (
      handler: WorkflowFunction,
      fnRole: iam.IRole,
      own: Partial<DeployedSettings>,
      options: Pick<ScanFunctionProps, "timeout" | "memorySize" | "reservedConcurrentExecutions"> = {},
    ) => {
      const f = new ScanFunction(this, handler, {
        handler,
        role: fnRole,
        settings: { ...settings, ...own },
        encryptionKey: key,
        ...options,
      });
      this.functions[handler] = f;
      return f.function;
    };
    // Discover derives the Map's concurrency (MaxConcurrencyPath) from the last run's pace.
    const discoverFn = fn(
      "discover",
      this.discoverRole,
      {
        CONFIG_KEY: this.store.scanConfigKey,
        BATCH_SIZE: c.batchSize,
        MAP_MAX_CONCURRENCY: c.maxConcurrency,
        MAP_WINDOW_SECONDS: c.mapWindowMinutes * 60,
      },
      { timeout: Duration.minutes(DISCOVER_LIMIT_MINUTES) },
    );
    discoverFn.node.addDependency(this.scanConfigWriter); // the object is there before any run can start
    // Owners reads the organization as Discover does (the management account's audit role trusts that
    // one role); it waits on Organizations' rate, not on CPU. 512 MB: the pipeline bench measured a peak
    // of ~150 MB at 10,000 accounts (the SDK and the owner-tag cache), within half of it as every phase.
    const ownersFn = fn("owners", this.discoverRole, {}, { memorySize: 512 });
    const scanBatchFn = fn("scan-batch", this.scannerRole, {});
    // Publish locks each scan's files (S3 Object Lock, GOVERNANCE) for evidenceRetentionDays.
    const publishFn = fn("publish", this.publishRole, { EVIDENCE_RETENTION_DAYS: c.evidenceRetentionDays });

    // ── Quarantine: the member accounts' IAM changes → one event bus → Enforce, one user at a time ──
    this.iamEvents = null;
    let quarantine: QuarantineEvents | null = null;
    let enforceFn: lambda.IFunction | null = null;
    if (this.enforcerRole) {
      // One user per event (seconds), or the daily sweep over every account (minutes): Lambda's limit.
      enforceFn = fn(
        "enforce",
        this.enforcerRole,
        { CONFIG_KEY: this.store.scanConfigKey, ENFORCER_ROLE_NAME: memberEnforcerRole },
        {
          // The sweep over 10,000 accounts is CPU-bound (the pipeline bench: 166 s of CPU); Lambda's CPU
          // grows with memory (1,769 MB = one vCPU), so 1024 MB ends it in ~290 s, a third of its limit,
          // for the same GB-seconds as 512 MB taking twice as long.
          memorySize: 1024,
          // Its own share of the account's concurrency: a flood elsewhere (the scan's Map) cannot starve
          // it, and a flood of IAM events cannot take more (throttled events are retried by EventBridge).
          reservedConcurrentExecutions: c.enforceReservedConcurrency,
        },
      );
      enforceFn.node.addDependency(this.scanConfigWriter);
      // Its id is the rule's, the events' path's default child (their deployed logical IDs).
      quarantine = new QuarantineEvents(this, "IamChangesToEnforce", {
        organizationId: c.organizationId,
        enforce: enforceFn,
        encryptionKey: key,
      });
      this.iamEvents = quarantine.bus;
    }

    // ── Workflow: Discover → Parallel(Distributed Map(ScanBatch), Owners) → Publish, on a schedule ──
    this.workflow = new ScanWorkflow(this, "ScanWorkflow", {
      functions: {
        discover: discoverFn,
        owners: ownersFn,
        scanBatch: scanBatchFn,
        publish: publishFn,
        ...(enforceFn ? { sweep: enforceFn } : {}),
      },
      reportBucket: this.bucket,
      encryptionKey: key,
      prefix,
      batchSize: c.batchSize,
      toleratedFailurePercentage: c.toleratedFailurePercentage,
      schedule: c.schedule,
      scheduleTimezone: c.scheduleTimezone,
    });
    this.stateMachine = this.workflow.stateMachine;

    // ── Alarms, each to the digest topic ─────────────────────────────────────────────────────────
    this.alarms = new Alarms(this, "Alarms", {
      topic: this.topic,
      alarmNamePrefix: this.digest.alarmNamePrefix,
      stateMachine: this.stateMachine,
      scheduleDeadLetters: this.workflow.scheduleDeadLetters,
      ...(enforceFn && quarantine ? { quarantine: { enforce: enforceFn, deadLetters: quarantine.deadLetters } } : {}),
    });

    // ── Outputs: what an operator needs to run a scan now (it reads the stored config), find that
    // config, read the results, follow the logs, and grant or audit access ──────────────────────
    new CfnOutput(this, "OperatorPolicyArn", {
      value: this.operatorPolicy.managedPolicyArn,
      description: `Attach to the operator role (operatorRoleName: ${c.operatorRoleName ?? "not set, so no audit role trusts one yet"}); an Identity Center permission set references it by the name ${OPERATOR_POLICY_NAME}`,
    });
    if (quarantine && this.enforcerRole) {
      new CfnOutput(this, "IamEventBusArn", {
        value: quarantine.bus.eventBusArn,
        description: "The member template's CentralEventBusArn: where the accounts forward their IAM changes",
      });
      new CfnOutput(this, "EnforcerRoleArn", { value: this.enforcerRole.roleArn });
    }
    new CfnOutput(this, "StateMachineArn", { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, "ScheduleName", { value: this.workflow.schedule.scheduleName });
    new CfnOutput(this, "ScanConfigUri", {
      value: `s3://${this.bucket.bucketName}/${this.store.scanConfigKey}`,
      description: "The deployed scan configuration (versioned); Discover reads it unless the input gives a config.",
    });
    new CfnOutput(this, "ReportBucket", { value: this.bucket.bucketName });
    new CfnOutput(this, "DigestTopicArn", { value: this.topic.topicArn });
    new CfnOutput(this, "KeyArn", { value: key.keyArn });
    new CfnOutput(this, "ScannerRoleArn", {
      value: this.scannerRole.roleArn,
      description: "ScanBatch's role, the one the member audit roles trust",
    });
    new CfnOutput(this, "DiscoverRoleArn", { value: this.discoverRole.roleArn });
    new CfnOutput(this, "PublishRoleArn", { value: this.publishRole.roleArn });
    new CfnOutput(this, "WorkflowLogGroup", { value: this.workflow.logGroup.logGroupName });
    for (const [name, f] of Object.entries(this.functions))
      new CfnOutput(this, `${name.replace(/(^|-)(\w)/g, (_m, _d, ch: string) => ch.toUpperCase())}LogGroup`, {
        value: f.logGroup.logGroupName,
      });
  }

  /**
   * CDK's logical ID (makeUniqueId) of the element's path without the levels the constructs added, so
   * every resource keeps the logical ID it was deployed with before they existed; an element below no
   * added level gets CDK's own allocation unchanged.
   */
  protected override allocateLogicalId(element: CfnElement): string {
    const path = pathWithoutAddedLevels(element, this);
    return path ? logicalIdOf(path) : super.allocateLogicalId(element);
  }
}
