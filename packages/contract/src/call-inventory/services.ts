// The deployment's services and what configures them: the scan-configuration writer, S3 access logging,
// the functions' runtime, the workflow (Step Functions), the schedule (Scheduler), the alarms (CloudWatch)
// and the encrypted log groups (CloudWatch Logs).
import type { InventoryBuilder } from "./builder";
import { central, F, service } from "./types";

// ── The scan configuration object, written at deploy time (AwsCustomResource) ────────────────────────
export function scanConfigWriterCalls(b: InventoryBuilder) {
  const { d, cfg, s3, lambdaRuntime } = b;
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
}

// ── S3 server access logs of the report bucket (S3's logging service writes them) ────────────────────
export function accessLogCalls(b: InventoryBuilder) {
  const { d, scanner, bucket, add } = b;
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
}

// ── The functions' runtime: logs, tracing, their roles ───────────────────────────────────────────────
export function functionRuntimeCalls(b: InventoryBuilder) {
  const { d, lambdaRuntime } = b;
  lambdaRuntime("discover", d.functions.discover.logGroupArn, "Discover");
  lambdaRuntime("discover", d.functions.owners.logGroupArn, "Owners");
  lambdaRuntime("scanBatch", d.functions["scan-batch"].logGroupArn, "ScanBatch");
  lambdaRuntime("publish", d.functions.publish.logGroupArn, "Publish");
  if (d.functions.enforce) lambdaRuntime("enforce", d.functions.enforce.logGroupArn, "Enforce", true);
}

// ── The workflow (Step Functions, as its role) ───────────────────────────────────────────────────────
export function workflowCalls(b: InventoryBuilder) {
  const { d, p, scanner, run, object, s3Kms, add, key, serviceAssumes } = b;
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
}

// ── The schedule (EventBridge Scheduler, as its role) ────────────────────────────────────────────────
export function scheduleCalls(b: InventoryBuilder) {
  const { d, scanner, add, kmsVia, key, serviceAssumes } = b;
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
}

// ── Alarms → the encrypted digest topic (CloudWatch) ─────────────────────────────────────────────────
export function alarmCalls(b: InventoryBuilder) {
  const { d, scanner, add, key } = b;
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
}

// ── CloudWatch Logs encrypts every log group with the stack's key ────────────────────────────────────
export function logGroupCalls(b: InventoryBuilder) {
  const { d, key } = b;
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
}
