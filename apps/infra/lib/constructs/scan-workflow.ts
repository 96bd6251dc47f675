import { SCAN_WORKFLOW } from "@orgmfa/aws/workflow";
import { itemReaderKeyPattern } from "@orgmfa/contract";
import { Aws, type CfnElement, Duration, RemovalPolicy, Stack, TimeZone, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { Schedule, ScheduleExpression, ScheduleTargetInput } from "aws-cdk-lib/aws-scheduler";
import { StepFunctionsStartExecution } from "aws-cdk-lib/aws-scheduler-targets";
import * as sqs from "aws-cdk-lib/aws-sqs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct, type IConstruct } from "constructs";
import { markAddedLevel } from "./logical-ids";

/** Errors Lambda and Step Functions may raise transiently; retried with backoff. */
const TRANSIENT = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
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

/** The functions the workflow's states invoke. */
export interface ScanWorkflowFunctions {
  readonly discover: lambda.IFunction;
  readonly owners: lambda.IFunction;
  readonly scanBatch: lambda.IFunction;
  readonly publish: lambda.IFunction;
  /**
   * The quarantine's daily sweep (Enforce), last, after Publish.
   * @default - no sweep
   */
  readonly sweep?: lambda.IFunction;
}

export interface ScanWorkflowProps {
  readonly functions: ScanWorkflowFunctions;
  /** The report bucket: the Distributed Map reads each run's targets object from it. */
  readonly reportBucket: s3.IBucket;
  /** Encrypts the workflow's log group and the schedule's dead-letter queue; the ItemReader decrypts the targets with it. */
  readonly encryptionKey: kms.IKey;
  /**
   * The report prefix the runs' state is under (`<prefix>/runs/<scanId>/targets.json`).
   * @default "orgmfa"
   */
  readonly prefix?: string;
  /**
   * Accounts per ScanBatch invocation (the Map's ItemBatcher).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Batches that may fail before the Map fails (the run still goes on to Publish).
   * @default 10
   */
  readonly toleratedFailurePercentage?: number;
  /**
   * When the scan runs: an EventBridge Scheduler expression.
   * @default "cron(0 6 * * ? *)"
   */
  readonly schedule?: string;
  /**
   * The time zone of `schedule`.
   * @default "UTC"
   */
  readonly scheduleTimezone?: string;
}

/**
 * The scan workflow: a Standard state machine built from SCAN_WORKFLOW (packages/aws
 * pipeline/workflow.ts: its states, payloads and paths, which the tests and the benchmark run locally) —
 * Discover → Parallel(Distributed Map(ScanBatch), Owners) → Publish (→ QuarantineSweep) — with its log
 * group, and the EventBridge Scheduler schedule that starts it, with a dead-letter queue.
 */
export class ScanWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** The state machine's execution log group (no fixed name). */
  readonly logGroup: logs.LogGroup;
  readonly schedule: Schedule;
  /** Where a start the schedule could not make lands. */
  readonly scheduleDeadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: ScanWorkflowProps) {
    super(scope, id);
    markAddedLevel(this);
    const prefix = (props.prefix ?? "orgmfa").replace(/^\/+|\/+$/g, "");
    const batchSize = props.batchSize ?? 10;
    const tolerated = props.toleratedFailurePercentage ?? 10;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100)
      throw new Error(`ScanWorkflow: batchSize must be a whole number from 1 to 100, not ${batchSize}`);
    if (!(tolerated >= 0 && tolerated <= 100))
      throw new Error(`ScanWorkflow: toleratedFailurePercentage must be 0 to 100, not ${tolerated}`);
    const { discover: discoverFn, owners: ownersFn, scanBatch: scanBatchFn, publish: publishFn } = props.functions;
    const sweepFn = props.functions.sweep;
    const key = props.encryptionKey;

    // ── Discover → Parallel(Distributed Map(ScanBatch), Owners) → Publish ────────────────────────
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
    const W = SCAN_WORKFLOW;
    const scanAccounts = new sfn.DistributedMap(this, W.map.state, {
      comment: "One ScanBatch per batch of accounts; each writes one result object per account.",
      itemReader: new TargetsItemReader(props.reportBucket, itemReaderKeyPattern(prefix), W.map.itemsKeyPath),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: batchSize,
        batchInput: Object.fromEntries(W.map.batchInput.map((k) => [`${k}.$`, `$.${k}`])),
      }),
      // Discover's mapConcurrency: the fewest batches at once that end within mapWindowMinutes at the
      // last run's pace, at most maxConcurrency (packages/core map-concurrency.ts).
      maxConcurrencyPath: W.map.maxConcurrencyPath,
      toleratedFailurePercentage: tolerated,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: W.map.state,
      resultPath: sfn.JsonPath.DISCARD,
    });
    scanAccounts.itemProcessor(invoke(W.scanBatch.state, scanBatchFn));
    // A Map that fails (more failed batches than tolerated, or the Map itself) still goes to Publish:
    // the accounts without a result are reported FAILED, the report and digest still go out, and the
    // coverage alarm fires — rather than a run that ends with no report at all.
    // Publish's result beside the run's reference (not in place of it): the sweep after it needs both.
    const publishPaths = sweepFn ? { resultPath: W.publish.resultPathBeforeSweep } : {};
    const publish = invoke(W.publish.state, publishFn, publishPaths);
    // With quarantine, the daily sweep last: whatever the events missed is corrected within a day.
    if (sweepFn)
      publish.next(
        invoke(W.sweep.state, sweepFn, {
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
    this.logGroup = new logs.LogGroup(this, "workflow-logs", {
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
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    key.grantDecrypt(this.stateMachine); // the ItemReader reads the SSE-KMS targets object
    this.acknowledgeWildcards(props, prefix);

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
    this.scheduleDeadLetters = scheduleDlq;
    this.schedule = new Schedule(this, "Daily", {
      description: "Runs the orgmfa scan",
      schedule: ScheduleExpression.expression(
        props.schedule ?? "cron(0 6 * * ? *)",
        TimeZone.of(props.scheduleTimezone ?? "UTC"),
      ),
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
    // CDK makes that role in the stack itself (one per target), not in this construct.
    const schedulerRole = Stack.of(this).node.children.find(
      (child): child is iam.Role => child instanceof iam.Role && child.node.id.startsWith("SchedulerRoleForTarget-"),
    );
    if (!schedulerRole) throw new Error("ScanWorkflow: the schedule's execution role was not found");
    schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "DeadLettersToTheEncryptedQueue",
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: [key.keyArn],
        conditions: { StringEquals: { "kms:ViaService": `sqs.${Aws.REGION}.amazonaws.com` } },
      }),
    );
  }

  /** The state machine role's wildcard resources, each with why, as cdk-nag prints them. */
  private acknowledgeWildcards(props: ScanWorkflowProps, prefix: string): void {
    const stack = Stack.of(this);
    const logicalId = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
    Validations.of(this.stateMachine).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "CloudWatch Logs delivery and X-Ray actions that Step Functions needs have no resource-level permissions.",
    });
    Validations.of(this.stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(props.reportBucket)}.Arn>/${itemReaderKeyPattern(prefix)}]`,
      reason:
        "The Distributed Map's ItemReader reads the run's targets object (runs/<scanId>/targets.json): the scan id is made at run time.",
    });
    const executions = `arn:<AWS::Partition>:states:${stack.region}:${stack.account}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(this.stateMachine)}"}]}]}`;
    for (const resource of [`${executions}:*`, `${executions}/${SCAN_WORKFLOW.map.state}:*`]) {
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          "The Distributed Map starts, describes and stops its own child executions, whose names are generated at run time.",
      });
    }
    for (const f of Object.values(props.functions).filter((x): x is lambda.IFunction => x !== undefined)) {
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId(f)}.Arn>:*]`,
        reason: "lambda:InvokeFunction on the function's versions and aliases, as CDK's LambdaInvoke grants.",
      });
    }
  }
}
