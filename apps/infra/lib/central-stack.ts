import path from "node:path";
import { SCAN_WORKFLOW } from "@orgmfa/aws/workflow";
import {
  DEFAULT_ENFORCER_ROLE,
  discoverStatements,
  enforceStatements,
  type IamStatement,
  itemReaderKeyPattern,
  OPERATOR_POLICY_NAME,
  operatorStatements,
  publishStatements,
  QUARANTINE_IAM_EVENTS,
  type ScannerPolicyInput,
  scanBatchStatements,
  scanConfigKey,
} from "@orgmfa/core";
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, TimeZone, Validations } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import * as events from "aws-cdk-lib/aws-events";
import * as eventsTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Schedule, ScheduleExpression, ScheduleTargetInput } from "aws-cdk-lib/aws-scheduler";
import { StepFunctionsStartExecution } from "aws-cdk-lib/aws-scheduler-targets";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from "aws-cdk-lib/custom-resources";
import type { Construct } from "constructs";
import { ACCOUNT_LIMIT_MINUTES, type DeploymentConfig, DISCOVER_LIMIT_MINUTES, LAMBDA_LIMIT_MINUTES } from "./config";
import { IAM_EVENT_BUS_NAME, REPO_ROOT, TOOL_VERSION } from "./paths";

export interface CentralStackProps extends StackProps {
  /** The validated deployment configuration. */
  readonly config: DeploymentConfig;
}

/** Errors Lambda and Step Functions may raise transiently; retried with backoff. */
const TRANSIENT = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];

/**
 * Why a statement of a function's role names many resources, by the resource (as cdk-nag prints it).
 * A wildcard without a reason here fails synth: none is granted unexplained.
 */
const WILDCARD_REASONS: Array<[RegExp, string]> = [
  [
    /:iam::\*:role\//,
    "The member template's role (the audit role, or the quarantine enforcer role) exists in every member account; the account is the wildcard, and aws:ResourceOrgID limits it to this organization.",
  ],
  [
    /\/runs\/\*\/results\/\*$/,
    "One result object per account of a run, under runs/<scanId>/results/: the scan id is made at run time, the accounts are the organization's.",
  ],
  [
    /\/runs\/\*\/[\w.-]+\.json$/,
    "This one file of each run's state (runs/<scanId>/, expired after 7 days): the scan id is made at run time.",
  ],
  [
    /\/quarantine\/\*$/,
    "One record per change an IAM event led to, under quarantine/<yyyy>/<mm>/<dd>/, named at run time.",
  ],
  [/\/scans\/\*$/, "Each scan's auditor files go to scans/<yyyy>/<mm>/<dd>/<scanId>/, named at run time."],
  [
    /\/latest\/\*$/,
    "The latest/ copies of the auditor files (report.json, the CSV files, report.html, manifest.json).",
  ],
];

/**
 * The Distributed Map's ItemReader of each run's targets object. CDK's S3JsonItemReader grants the
 * workflow's role s3:GetObject on every object of the bucket (its key is a JSON path, known at run
 * time); this one grants the one key pattern the targets are written to (itemReaderKeyPattern).
 */
class TargetsItemReader extends sfn.S3JsonItemReader {
  constructor(
    private readonly reportBucket: s3.IBucket,
    private readonly keyPattern: string,
    keyPath: string,
  ) {
    super({ bucket: reportBucket, key: sfn.JsonPath.stringAt(keyPath) });
  }

  override providePolicyStatements(): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        actions: ["s3:GetObject"],
        resources: [this.reportBucket.arnForObjects(this.keyPattern)],
      }),
    ];
  }
}

function wildcardReason(resource: string): string {
  const reason = WILDCARD_REASONS.find(([pattern]) => pattern.test(resource))?.[1];
  if (!reason) throw new Error(`central stack: no reason recorded for the wildcard resource ${resource}`);
  return reason;
}

/**
 * orgmfa in the delegated-administrator (security tooling) account: the KMS key, the report bucket,
 * the digest topic, the four functions (ScanBatch's role is the `OrgMfaScanner` role the member
 * template trusts; Owners runs as Discover's role, which the management account's audit role trusts;
 * Publish has its own), the Standard workflow with its Distributed Map beside the owner-tag reads, the
 * daily schedule and the alarms.
 */
export class CentralStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly topic: sns.Topic;
  readonly stateMachine: sfn.StateMachine;
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

  constructor(scope: Construct, id: string, props: CentralStackProps) {
    super(scope, id, props);
    const c = props.config;
    const prefix = c.reportPrefix.replace(/^\/+|\/+$/g, "");
    const under = (p: string) => `${prefix ? `${prefix}/` : ""}${p}`;

    // ── Encryption ───────────────────────────────────────────────────────────────────────────────
    const key = new kms.Key(this, "Key", {
      alias: "alias/orgmfa",
      description: "orgmfa: report bucket, digest topic and logs",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms publish to the encrypted topic; CloudWatch Logs encrypts the log groups.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources: ["*"],
        conditions: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*`,
          },
        },
      }),
    );

    // ── Report bucket ────────────────────────────────────────────────────────────────────────────
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED, // S3 server access logging cannot write SSE-KMS
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: "expire-access-logs", expiration: Duration.days(400), noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: "AwsSolutions-S1",
      reason: "This is the server-access-log bucket of the report bucket; logging it into itself would loop.",
    });

    this.bucket = new s3.Bucket(this, "Reports", {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "reports/",
      // Object Lock on, always: the scan folders are evidence. S3 turns it on at creation, or — since
      // 2023, without AWS Support — on an existing versioned bucket (PutObjectLockConfiguration; "Enable
      // Object Lock on an existing S3 bucket", S3 user guide object-lock-configure.html), and
      // CloudFormation updates the property without replacing the bucket (AWS::S3::Bucket
      // ObjectLockConfiguration: "Update requires: No interruption"). It cannot be turned off again.
      // No default retention: a bucket default applies to every new object version, the run state
      // (10,000 result objects a day), `latest/` and the configuration included, and S3 has no default
      // per prefix. Publish sets retention on each object under `scans/` instead (evidenceRetentionDays).
      // `objectLock` adds a bucket-wide default on top, for those who want everything locked.
      objectLockEnabled: true,
      ...(c.objectLock
        ? {
            objectLockDefaultRetention:
              c.objectLock.mode === "COMPLIANCE"
                ? s3.ObjectLockRetention.compliance(Duration.days(c.objectLock.days))
                : s3.ObjectLockRetention.governance(Duration.days(c.objectLock.days)),
          }
        : {}),
      lifecycleRules: [
        {
          id: "reports-to-cheaper-storage",
          prefix: under("scans/"),
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(c.transitionToInfrequentAccessDays),
            },
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(Math.max(365, c.transitionToInfrequentAccessDays + 90)),
            },
          ],
          // A past version of a scan's file (Publish retried, or someone overwrote it) stays as long as
          // the file's lock, never less: lifecycle cannot delete a locked version anyway ("Managing S3
          // Lifecycle policies with Object Lock", S3 user guide object-lock-managing.html), so a shorter
          // expiry would only promise what S3 does not do.
          noncurrentVersionExpiration: Duration.days(Math.max(90, c.evidenceRetentionDays, c.objectLock?.days ?? 0)),
        },
        // latest/ is rewritten by every run (a copy of the newest scan, never locked by Publish): its past
        // versions are only copies of what scans/ keeps, so they go after a week rather than piling up.
        {
          id: "expire-past-latest",
          prefix: under("latest/"),
          noncurrentVersionExpiration: Duration.days(7),
        },
        // The workflow's working state (targets and per-account results) is not evidence.
        {
          id: "expire-run-state",
          prefix: under("runs/"),
          expiration: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(1),
        },
        // State kept between runs (the owner tags read so far), rewritten by every run: its past versions go.
        { id: "expire-past-state", prefix: under("state/"), noncurrentVersionExpiration: Duration.days(7) },
        { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ── The scan configuration, stored in the bucket: one version per deployed change ──────────────
    // Written at deploy time by one S3 PutObject (not BucketDeployment, whose function may delete
    // objects in this evidence bucket): onCreate and onUpdate write the object, a changed config being
    // a new version; onDelete does nothing, so the history stays. Its function's role may put this one
    // object and write its own log group, nothing else.
    const configKey = scanConfigKey(prefix);
    const putConfig: AwsSdkCall = {
      service: "S3",
      action: "putObject",
      parameters: {
        Bucket: this.bucket.bucketName,
        Key: configKey,
        Body: JSON.stringify(c.scan, null, 2),
        ContentType: "application/json",
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: key.keyArn,
      },
      physicalResourceId: PhysicalResourceId.of(configKey),
    };
    const configWriterLogs = new logs.LogGroup(this, "ScanConfigWriterLogs", {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const configWriterRole = new iam.Role(this, "ScanConfigWriterRole", {
      description: "orgmfa: writes the deployed scan configuration object (one key of the report bucket), nothing else",
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    });
    configWriterLogs.grantWrite(configWriterRole);
    const scanConfig = new AwsCustomResource(this, "ScanConfig", {
      resourceType: "Custom::OrgMfaScanConfig",
      onCreate: putConfig,
      onUpdate: putConfig,
      role: configWriterRole,
      policy: AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ["s3:PutObject"], resources: [this.bucket.arnForObjects(configKey)] }),
        new iam.PolicyStatement({ actions: ["kms:GenerateDataKey"], resources: [key.keyArn] }),
      ]),
      installLatestAwsSdk: false,
      logGroup: configWriterLogs,
      timeout: Duration.minutes(2),
    });
    this.scanConfigWriter = scanConfig;

    // ── Digest topic ─────────────────────────────────────────────────────────────────────────────
    this.topic = new sns.Topic(this, "Digest", {
      displayName: "orgmfa digest",
      masterKey: key,
      enforceSSL: true,
    });
    if (c.digestEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(c.digestEmail));
    // `enforceSSL` makes CDK write a topic policy, which replaces SNS's default one: without this
    // statement CloudWatch could not publish the alarms below (scoped to this account's alarms of
    // this stack; the key policy lets CloudWatch use the key under the same account condition).
    const alarmPrefix = `${this.stackName}-`;
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchAlarmsOfThisStack",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID },
          ArnLike: {
            "aws:SourceArn": `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${alarmPrefix}*`,
          },
        },
      }),
    );

    // ── One role per function, each with exactly what its function does ──────────────────────────
    // The statements are written once (packages/core/src/policies.ts); the emulator's roles get the
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
    // The same statements as cdk-nag prints them, to acknowledge each wildcard resource with its reason.
    const bucketId = this.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const nagView: ScannerPolicyInput = {
      ...policyInput,
      partition: "<AWS::Partition>",
      accountId: "<AWS::AccountId>",
      region: "<AWS::Region>",
      bucketArn: `<${bucketId}.Arn>`,
    };
    const functionRole = (
      id: string,
      props: { roleName?: string; description: string },
      statements: (i: ScannerPolicyInput) => IamStatement[],
    ) => {
      const role = new iam.Role(this, id, { ...props, assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com") });
      for (const statement of statements(policyInput)) role.addToPolicy(iam.PolicyStatement.fromJson(statement));
      for (const resource of statements(nagView).flatMap((st) => [st.Resource].flat()))
        if (resource.includes("*"))
          Validations.of(role).acknowledge({
            id: `AwsSolutions-IAM5[Resource::${resource}]`,
            reason: wildcardReason(resource),
          });
      Validations.of(role).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason: "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) have no resource-level permissions.",
      });
      return role;
    };
    // ScanBatch's role keeps the name the member audit roles trust (and the construct id it was deployed with).
    this.scannerRole = functionRole(
      "Scanner",
      {
        roleName: c.scannerRoleName,
        description:
          "orgmfa ScanBatch: assumes the member audit roles, reads the run context, writes each account's result",
      },
      scanBatchStatements,
    );
    this.discoverRole = functionRole(
      "DiscoverRole",
      {
        roleName: c.discoverRoleName,
        description:
          "orgmfa Discover and Owners: assume the management account's audit role for Organizations, write the run's state and the owner tags read",
      },
      discoverStatements,
    );
    // The member enforcer role Enforce assumes: the scan configuration's name for it, as the member template gets it.
    const memberEnforcerRole = c.scan.quarantine?.roleName ?? DEFAULT_ENFORCER_ROLE;
    // The Enforce function's role keeps the name the member enforcer roles trust (CentralEnforcerRoleName).
    this.enforcerRole = c.quarantine
      ? functionRole(
          "EnforcerRole",
          {
            roleName: c.enforcerRoleName,
            description:
              "orgmfa Enforce: assumes the member enforcer roles (which may only move users into and out of the quarantine group), reads the scan configuration",
          },
          (i) => enforceStatements({ ...i, enforcerRoleName: memberEnforcerRole }),
        )
      : null;
    this.publishRole = functionRole(
      "PublishRole",
      {
        description:
          "orgmfa Publish: reads the run's results, writes the reports, imports its own coverage findings, sends the digest",
      },
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
    for (const resource of operatorStatements(nagView).flatMap((st) => [st.Resource].flat()))
      Validations.of(this.operatorPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          resource === "*"
            ? "cloudtrail:DescribeTrails and lambda:GetAccountSettings have no resource type; GetTrailStatus and GetEventSelectors read whichever trail covers the account (an organization trail is the management account's). All read-only."
            : wildcardReason(resource),
      });
    new CfnOutput(this, "OperatorPolicyArn", {
      value: this.operatorPolicy.managedPolicyArn,
      description: `Attach to the operator role (operatorRoleName: ${c.operatorRoleName ?? "not set, so no audit role trusts one yet"}); an Identity Center permission set references it by the name ${OPERATOR_POLICY_NAME}`,
    });

    // ── Functions ────────────────────────────────────────────────────────────────────────────────
    const environment: Record<string, string> = {
      REPORT_BUCKET: this.bucket.bucketName,
      REPORT_PREFIX: prefix,
      AUDIT_ROLE_NAME: c.auditRoleName,
      ORG_ROLE_ARN: `arn:${Aws.PARTITION}:iam::${c.managementAccountId}:role/${c.auditRoleName}`,
      KMS_KEY_ID: key.keyArn,
      DIGEST_TOPIC_ARN: this.topic.topicArn,
      SECURITY_HUB: String(c.securityHub),
      SNS_PER_ACCOUNT: String(c.snsPerAccountMessages),
      ACCOUNT_CONCURRENCY: String(c.accountConcurrency),
      ACCOUNT_TIMEOUT_MS: String(ACCOUNT_LIMIT_MINUTES * 60_000),
      ORGMFA_VERSION: TOOL_VERSION,
      // The identity that reads the accounts, which the report names as the scanner.
      SCANNER_ROLE_ARN: this.scannerRole.roleArn,
      POWERTOOLS_SERVICE_NAME: "orgmfa",
      POWERTOOLS_METRICS_NAMESPACE: "orgmfa",
      NODE_OPTIONS: "--enable-source-maps",
    };
    const logGroups: Record<string, logs.LogGroup> = {};
    const fn = (
      name: "discover" | "owners" | "scan-batch" | "publish" | "enforce",
      role: iam.Role,
      timeout: Duration,
      more: Record<string, string> = {},
      memorySize = 1024,
      reservedConcurrentExecutions?: number,
    ) => {
      const logGroup = new logs.LogGroup(this, `${name}-logs`, {
        retention: logs.RetentionDays.ONE_YEAR,
        encryptionKey: key,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      logGroups[name] = logGroup;
      // A function given its own role and log group writes there only with this grant (CDK adds
      // AWSLambdaBasicExecutionRole only to roles it creates itself).
      logGroup.grantWrite(role);
      const f = new NodejsFunction(this, name, {
        entry: path.join(REPO_ROOT, "apps/functions/src", `${name}.ts`),
        handler: "handler",
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize,
        timeout,
        reservedConcurrentExecutions,
        role,
        environment: { ...environment, ...more },
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        tracing: lambda.Tracing.ACTIVE,
        bundling: {
          format: OutputFormat.ESM,
          target: "node22",
          minify: true,
          sourceMap: true,
          mainFields: ["module", "main"],
          externalModules: [],
          banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        },
      });
      return f;
    };
    // Discover derives the Map's concurrency (below, MaxConcurrencyPath) from the last run's pace.
    const discoverFn = fn("discover", this.discoverRole, Duration.minutes(DISCOVER_LIMIT_MINUTES), {
      CONFIG_KEY: configKey,
      BATCH_SIZE: String(c.batchSize),
      MAP_MAX_CONCURRENCY: String(c.maxConcurrency),
      MAP_WINDOW_SECONDS: String(c.mapWindowMinutes * 60),
    });
    discoverFn.node.addDependency(scanConfig); // the object is there before any run can start
    // Owners reads the organization as Discover does (the management account's audit role trusts that
    // one role); it waits on Organizations' rate, not on CPU or memory.
    const ownersFn = fn("owners", this.discoverRole, Duration.minutes(LAMBDA_LIMIT_MINUTES), {}, 256);
    const scanBatchFn = fn("scan-batch", this.scannerRole, Duration.minutes(LAMBDA_LIMIT_MINUTES));
    // Publish locks each scan's files (S3 Object Lock, GOVERNANCE) for evidenceRetentionDays.
    const publishFn = fn("publish", this.publishRole, Duration.minutes(LAMBDA_LIMIT_MINUTES), {
      EVIDENCE_RETENTION_DAYS: String(c.evidenceRetentionDays),
    });

    // ── Quarantine: the member accounts' IAM changes → one event bus → Enforce, one user at a time ──
    this.iamEvents = null;
    let enforceFn: lambda.IFunction | null = null;
    let enforceDlq: sqs.Queue | null = null;
    if (this.enforcerRole) {
      // One user per event (seconds), or the daily sweep over every account (minutes): Lambda's limit.
      enforceFn = fn(
        "enforce",
        this.enforcerRole,
        Duration.minutes(LAMBDA_LIMIT_MINUTES),
        { CONFIG_KEY: configKey, ENFORCER_ROLE_NAME: memberEnforcerRole },
        // The sweep over 10,000 accounts is CPU-bound (the pipeline bench: 166 s of CPU); Lambda's CPU
        // grows with memory (1,769 MB = one vCPU), so 1024 MB ends it in ~290 s, a third of its limit,
        // for the same GB-seconds as 512 MB taking twice as long.
        1024,
        // Its own share of the account's concurrency: a flood elsewhere (the scan's Map) cannot starve
        // it, and a flood of IAM events cannot take more (throttled events are retried by EventBridge).
        c.enforceReservedConcurrency,
      );
      enforceFn.node.addDependency(scanConfig);
      // Only the organization's accounts may put events here (the member template's forwarding rule),
      // and only IAM's CloudTrail events: EventBridge's events:source and events:detail-type condition
      // keys, as in "Example policy: Send events to a custom bus in a different account" of the
      // EventBridge user guide (eb-event-bus-example-policy-cross-account-custom-bus-source.html).
      // ForAllValues: one PutEvents call carries many entries, each must match; the Null test keeps a
      // request without the keys from passing ForAllValues vacuously.
      const bus = new events.EventBus(this, "IamEvents", { eventBusName: IAM_EVENT_BUS_NAME });
      bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: "OrgMfaMemberAccountsOnly",
          effect: iam.Effect.ALLOW,
          principals: [new iam.AnyPrincipal()],
          actions: ["events:PutEvents"],
          resources: [bus.eventBusArn],
          conditions: {
            StringEquals: { "aws:PrincipalOrgID": c.organizationId },
            "ForAllValues:StringEquals": {
              "events:source": ["aws.iam"],
              "events:detail-type": ["AWS API Call via CloudTrail"],
            },
            Null: { "events:source": "false", "events:detail-type": "false" },
          },
        }),
      );
      const undelivered = new sqs.Queue(this, "EnforceDeadLetters", {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(undelivered).acknowledge({
        id: "AwsSolutions-SQS3",
        reason: "This queue is itself the Enforce rule's dead-letter queue.",
      });
      enforceDlq = undelivered;
      // EventBridge writes an undelivered event to this queue as events.amazonaws.com: CDK's target adds
      // the queue policy (sqs:SendMessage, aws:SourceArn = the rule) but not the key policy the queue's
      // customer-managed key needs (aws/aws-cdk#20804, #33169). Without it the dead letter is lost too.
      // EventBridge user guide, "Using dead-letter queues to process undelivered events" (eb-rule-dlq.html):
      // an encrypted DLQ's key must let EventBridge use kms:GenerateDataKey and kms:Decrypt; conditioned
      // on the source as "Authorizing EventBridge to use a customer managed key" (eb-encryption-key-policy.html)
      // advises. The rules of this bus only: the rule's own ARN would make a cycle (key → rule → queue → key).
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: "EventBridgeDeadLettersOfTheIamEventRules",
          principals: [new iam.ServicePrincipal("events.amazonaws.com")],
          actions: ["kms:GenerateDataKey", "kms:Decrypt"],
          resources: ["*"],
          conditions: {
            StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID },
            ArnLike: {
              "aws:SourceArn": `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/${IAM_EVENT_BUS_NAME}/*`,
            },
          },
        }),
      );
      new events.Rule(this, "IamChangesToEnforce", {
        eventBus: bus,
        description: "orgmfa: a member account's IAM user, login-profile, MFA or group change → Enforce",
        eventPattern: {
          source: ["aws.iam"],
          detailType: ["AWS API Call via CloudTrail"],
          detail: { eventSource: ["iam.amazonaws.com"], eventName: [...QUARANTINE_IAM_EVENTS] },
        },
        targets: [
          new eventsTargets.LambdaFunction(enforceFn, {
            deadLetterQueue: undelivered,
            retryAttempts: 8,
            maxEventAge: Duration.hours(6),
          }),
        ],
      });
      this.iamEvents = bus;
      new CfnOutput(this, "IamEventBusArn", {
        value: bus.eventBusArn,
        description: "The member template's CentralEventBusArn: where the accounts forward their IAM changes",
      });
      new CfnOutput(this, "EnforcerRoleArn", { value: this.enforcerRole.roleArn });
    }

    // ── Workflow: Discover → Parallel(Distributed Map(ScanBatch), Owners) → Publish ─────────────
    const invoke = (id: string, f: lambda.IFunction, more: Partial<tasks.LambdaInvokeProps> = {}) =>
      new tasks.LambdaInvoke(this, id, {
        lambdaFunction: f,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        ...more,
      }).addRetry({
        errors: TRANSIENT,
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 6,
        jitterStrategy: sfn.JitterType.FULL,
      });
    // The states, their payloads and paths are those of SCAN_WORKFLOW (packages/aws pipeline/workflow.ts),
    // which the tests and the benchmark run locally.
    const W = SCAN_WORKFLOW;
    const scanAccounts = new sfn.DistributedMap(this, W.map.state, {
      comment: "One ScanBatch per batch of accounts; each writes one result object per account.",
      itemReader: new TargetsItemReader(this.bucket, itemReaderKeyPattern(prefix), W.map.itemsKeyPath),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: c.batchSize,
        batchInput: Object.fromEntries(W.map.batchInput.map((k) => [`${k}.$`, `$.${k}`])),
      }),
      // Discover's mapConcurrency: the fewest batches at once that end within mapWindowMinutes at the
      // last run's pace, at most maxConcurrency (packages/core map-concurrency.ts).
      maxConcurrencyPath: W.map.maxConcurrencyPath,
      toleratedFailurePercentage: c.toleratedFailurePercentage,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: W.map.state,
      resultPath: sfn.JsonPath.DISCARD,
    });
    scanAccounts.itemProcessor(invoke(W.scanBatch.state, scanBatchFn));
    // A Map that fails (more failed batches than tolerated, or the Map itself) still goes to Publish:
    // the accounts without a result are reported FAILED, the report and digest still go out, and the
    // coverage alarm fires — rather than a run that ends with no report at all.
    // Publish's result beside the run's reference (not in place of it): the sweep after it needs both.
    const publishPaths = enforceFn ? { resultPath: W.publish.resultPathBeforeSweep } : {};
    const publish = invoke(W.publish.state, publishFn, publishPaths);
    // With quarantine, the daily sweep last: whatever the events missed is corrected within a day.
    if (enforceFn)
      publish.next(
        invoke(W.sweep.state, enforceFn, {
          payload: sfn.TaskInput.fromObject({ [W.sweep.payloadField]: sfn.JsonPath.entirePayload }),
          resultPath: W.sweep.resultPath,
        }),
      );
    scanAccounts.addCatch(new sfn.Pass(this, W.map.failed), { errors: [sfn.Errors.ALL], resultPath: W.map.errorPath });
    // The owner tags are read beside the scan: one Organizations call per account, under its low rate,
    // takes longer than the walk at thousands of accounts. Owners never fails the run: without its
    // object Publish reports the owners as unknown.
    // Each round reads for at most half its timeout; while accounts never read remain it answers `more`
    // (at most OWNERS_MAX_ROUNDS rounds) and the next round reads only those. Its answer goes beside the
    // run's reference, which every round is given.
    const owners = invoke(W.owners.state, ownersFn, { resultPath: W.owners.resultPath });
    owners.addCatch(new sfn.Pass(this, W.owners.failed), { errors: [sfn.Errors.ALL], resultPath: W.owners.errorPath });
    owners.next(
      new sfn.Choice(this, W.owners.again)
        .when(sfn.Condition.isNotPresent(W.owners.morePath), new sfn.Pass(this, W.owners.ends[0]))
        .when(sfn.Condition.booleanEquals(W.owners.morePath, true), owners)
        .otherwise(new sfn.Pass(this, W.owners.ends[1])),
    );
    // Each branch catches its own failure, so both always end and Publish always runs.
    const scanAndOwners = new sfn.Parallel(this, W.parallel.state, { resultPath: sfn.JsonPath.DISCARD })
      .branch(scanAccounts)
      .branch(owners);
    scanAndOwners.addCatch(publish, { errors: [sfn.Errors.ALL], resultPath: W.parallel.errorPath });
    // No fixed name: a retained log group with a fixed name would make the next deploy after a
    // rollback (or a delete and re-create) fail with "already exists".
    const workflowLogs = new logs.LogGroup(this, "workflow-logs", {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Discover failing or timing out (DISCOVER_LIMIT_MINUTES) also goes to Publish, with the error at
    // $.discoveryError: Publish then writes a report and a digest saying the organization could not be
    // listed — every account's MFA unknown, never an all-clear — and fails the run (RunFailed alarm).
    const discover = invoke(W.discover.state, discoverFn);
    discover.addCatch(publish, { errors: [sfn.Errors.ALL], resultPath: W.discover.errorPath });
    this.stateMachine = new sfn.StateMachine(this, "Workflow", {
      comment: "orgmfa: discover the organization, scan every account in batches, publish the report",
      definitionBody: sfn.DefinitionBody.fromChainable(discover.next(scanAndOwners).next(publish)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: workflowLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    key.grantDecrypt(this.stateMachine); // the ItemReader reads the SSE-KMS targets object
    Validations.of(this.stateMachine).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "CloudWatch Logs delivery and X-Ray actions that Step Functions needs have no resource-level permissions.",
    });
    Validations.of(this.stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${itemReaderKeyPattern(prefix)}]`,
      reason:
        "The Distributed Map's ItemReader reads the run's targets object (runs/<scanId>/targets.json): the scan id is made at run time.",
    });
    const smId = this.getLogicalId(this.stateMachine.node.defaultChild as sfn.CfnStateMachine);
    const executions = `arn:<AWS::Partition>:states:${c.region}:${c.scannerAccountId}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${smId}"}]}]}`;
    for (const resource of [`${executions}:*`, `${executions}/ScanAccounts:*`]) {
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          "The Distributed Map starts, describes and stops its own child executions, whose names are generated at run time.",
      });
    }
    for (const f of [discoverFn, ownersFn, scanBatchFn, publishFn, ...(enforceFn ? [enforceFn] : [])]) {
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(f.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: "lambda:InvokeFunction on the function's versions and aliases, as CDK's LambdaInvoke grants.",
      });
    }

    // ── Alarm: a failed, timed-out or aborted run tells the digest topic ──────────────────────────
    const failures = new cloudwatch.MathExpression({
      label: "Failed, timed-out or aborted orgmfa runs",
      expression: "failed + timedOut + aborted",
      usingMetrics: {
        failed: this.stateMachine.metricFailed({ statistic: "Sum" }),
        timedOut: this.stateMachine.metricTimedOut({ statistic: "Sum" }),
        aborted: this.stateMachine.metricAborted({ statistic: "Sum" }),
      },
      period: Duration.minutes(5),
    });
    const alarm = (id: string, props: cloudwatch.AlarmProps) =>
      new cloudwatch.Alarm(this, id, { alarmName: `${alarmPrefix}${id}`, ...props }).addAlarmAction(
        new SnsAction(this.topic),
      );
    /** A dead-letter queue that holds anything at all: something was not delivered. */
    const deadLettersAlarm = (id: string, queue: sqs.IQueue, alarmDescription: string) =>
      alarm(id, {
        alarmDescription,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: "Maximum" }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    alarm("RunFailed", {
      alarmDescription:
        "An orgmfa scan did not complete: see the Step Functions execution and the publish function's logs.",
      metric: failures,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Silence is a failure too: 26 hourly periods without one succeeded run (missing data breaches).
    alarm("NoSuccessfulRun", {
      alarmDescription:
        "No orgmfa scan has succeeded in 26 hours: check the schedule, its dead-letter queue and the workflow.",
      metric: this.stateMachine.metricSucceeded({ statistic: "Sum", period: Duration.hours(1) }),
      threshold: 1,
      evaluationPeriods: 26,
      datapointsToAlarm: 26,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // Published by the functions (Powertools metrics: namespace orgmfa, dimension service=orgmfa).
    const orgmfaMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: "orgmfa",
        metricName,
        dimensionsMap: { service: "orgmfa" },
        statistic,
        period: Duration.hours(1),
      });
    alarm("CoverageBelowComplete", {
      alarmDescription:
        "The last orgmfa scan did not audit every in-scope account: the report's coverage ledger names each one and why.",
      metric: orgmfaMetric("Coverage", "Minimum"),
      threshold: 100,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm("DiscoveryFailed", {
      alarmDescription:
        "orgmfa could not list the organization (Discover failed or timed out): no account was audited, every account's MFA is unknown. See the Discover function's log.",
      metric: orgmfaMetric("DiscoveryFailed", "Sum"),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm("AccountsFailed", {
      alarmDescription: "orgmfa could not audit some accounts (role not assumable, throttled, timed out, …).",
      metric: orgmfaMetric("AccountsFailed", "Sum"),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // With quarantine: an IAM change Enforce never saw (retries exhausted) or could not handle is said,
    // not left to the next daily sweep in silence.
    if (enforceFn && enforceDlq) {
      deadLettersAlarm(
        "EnforceUndelivered",
        enforceDlq,
        "An IAM change could not be delivered to orgmfa's Enforce function: see its dead-letter queue (the daily sweep still reconciles the user).",
      );
      alarm("EnforceErrors", {
        alarmDescription:
          "orgmfa's Enforce function failed (an IAM event or the daily sweep): see the enforce function's logs.",
        metric: enforceFn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      // The member accounts' forwarding dead-letter queues, counted by the daily sweep: a member account
      // cannot reliably reach this topic, and an alarm of its own would travel the path that failed. Each
      // sweep publishes the count (0 when none); a day without a sweep is not a breach (RunFailed says it).
      alarm("ForwardingUndelivered", {
        alarmDescription:
          "IAM events of member accounts could not be forwarded to orgmfa's event bus (the sweep's announcement names the accounts): fix the forwarding (the bus policy, the forwarding role), then purge each account's orgmfa-forward-iam-events-dlq in us-east-1 (the daily sweep has reconciled those users).",
        metric: orgmfaMetric("IamEventsNotForwarded", "Maximum"),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // ── Schedule ─────────────────────────────────────────────────────────────────────────────────
    // A schedule that cannot start the workflow (permissions, throttling) lands its event here.
    const scheduleDlq = new sqs.Queue(this, "ScheduleDeadLetters", {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(scheduleDlq).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: "This queue is itself the schedule's dead-letter queue.",
    });
    deadLettersAlarm(
      "ScheduleUndelivered",
      scheduleDlq,
      "The orgmfa schedule could not start the workflow: see the dead-letter queue.",
    );
    const schedule = new Schedule(this, "Daily", {
      description: "Runs the orgmfa scan",
      schedule: ScheduleExpression.expression(c.schedule, TimeZone.of(c.scheduleTimezone)),
      target: new StepFunctionsStartExecution(this.stateMachine, {
        // No config here: Discover reads the stored one (the input stays far below Scheduler's 8 KB).
        input: ScheduleTargetInput.fromObject({}),
        retryAttempts: 3,
        deadLetterQueue: scheduleDlq,
      }),
    });
    // Scheduler writes a dead letter with the schedule's execution role ("Configuring a schedule's
    // dead-letter queue", EventBridge Scheduler user guide: configuring-schedule-dlq.html). CDK grants that
    // role sqs:SendMessage only; the queue is encrypted with the stack's key, and SQS uses the key as the
    // sender (kms:GenerateDataKey to encrypt the message, kms:Decrypt for the cached data key) — without
    // them the dead letter is refused and ScheduleUndelivered has nothing to count. Through SQS only.
    const schedulerRole = this.node.children.find(
      (child): child is iam.Role => child instanceof iam.Role && child.node.id.startsWith("SchedulerRoleForTarget-"),
    );
    if (!schedulerRole) throw new Error("central stack: the schedule's execution role was not found");
    schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "DeadLettersToTheEncryptedQueue",
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: [key.keyArn],
        conditions: { StringEquals: { "kms:ViaService": `sqs.${Aws.REGION}.amazonaws.com` } },
      }),
    );

    // What an operator needs: to run a scan now (it reads the stored config), find that config,
    // read the results, follow the logs, and grant or audit access.
    new CfnOutput(this, "StateMachineArn", { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, "ScheduleName", { value: schedule.scheduleName });
    new CfnOutput(this, "ScanConfigUri", {
      value: `s3://${this.bucket.bucketName}/${configKey}`,
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
    new CfnOutput(this, "WorkflowLogGroup", { value: workflowLogs.logGroupName });
    for (const [name, group] of Object.entries(logGroups))
      new CfnOutput(this, `${name.replace(/(^|-)(\w)/g, (_m, _d, ch: string) => ch.toUpperCase())}LogGroup`, {
        value: group.logGroupName,
      });
  }
}
