import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { QUARANTINE_IAM_EVENTS } from "@orgmfa/core";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { includeMemberTemplate } from "../lib/paths";
import { CONFIGURATIONS, config, PARTITION, synth, text } from "./helpers";

// The quarantine (constructs/quarantine-events.ts, Enforce, the member side's forwarding).
describe("quarantine (quarantine: true)", () => {
  let central: Template;
  let members: Template;
  let management: Template;
  let outdir: string;
  beforeAll(() => {
    // Without operatorRoleName (the default): no operator anywhere; an enforcer operator.
    const s = synth(config(CONFIGURATIONS.quarantine));
    central = Template.fromStack(s.central);
    members = Template.fromStack(s.members);
    management = Template.fromStack(s.management);
    outdir = s.outdir;
  });

  it("without operatorRoleName (the default) trusts no operator: no OperatorRoleName given, its empty default kept; the policy to attach is still deployed", () => {
    const [set] = Object.values(members.findResources("AWS::CloudFormation::StackSet"));
    const keys = ((set?.Properties.Parameters ?? []) as Array<{ ParameterKey: string }>).map((p) => p.ParameterKey);
    expect(keys).toContain("ScannerRoleName");
    expect(keys).not.toContain("OperatorRoleName");
    expect(management.toJSON().Parameters.OperatorRoleName).toMatchObject({ Default: "" });
    expect(management.toJSON().Conditions.Operator).toEqual({
      "Fn::Not": [{ "Fn::Equals": [{ Ref: "OperatorRoleName" }, ""] }],
    });
    // An Identity Center permission set can reference it only once it exists in the account, and the
    // operator's role name (with its suffix) is known only after that: so it exists before the name is set.
    expect(
      Object.values(central.findResources("AWS::IAM::ManagedPolicy")).filter(
        (p) => p.Properties.ManagedPolicyName === "OrgMfaOperatorPolicy",
      ),
    ).toHaveLength(1);
    expect(central.toJSON().Outputs.OperatorPolicyArn.Description).toMatch(/not set, so no audit role trusts one yet/);
  });

  it("is clean under cdk-nag and cfn-lint", () => {
    // synth() threw on any unacknowledged cdk-nag finding.
    const templates = readdirSync(outdir)
      .filter((f) => f.endsWith(".template.json") && !f.startsWith("OrgMfaManagement"))
      .map((f) => path.join(outdir, f));
    execFileSync("cfn-lint", ["--ignore-checks", "W3005", "--", ...templates], { stdio: "pipe" });
  });

  it("has an event bus that only the organization's accounts may put events on", () => {
    const [bus] = Object.values(central.findResources("AWS::Events::EventBus"));
    expect(bus?.Properties.Name).toBe("orgmfa-iam-events");
    const [policy] = Object.values(central.findResources("AWS::Events::EventBusPolicy"));
    expect(policy?.Properties.Statement).toMatchObject({
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "events:PutEvents",
      Condition: { StringEquals: { "aws:PrincipalOrgID": "o-exampleorg1" } },
    });
  });

  it("accepts on the bus only IAM's CloudTrail events, every entry of a PutEvents call, and never a call without them", () => {
    const [policy] = Object.values(central.findResources("AWS::Events::EventBusPolicy"));
    expect(policy?.Properties.Statement.Condition).toEqual({
      StringEquals: { "aws:PrincipalOrgID": "o-exampleorg1" },
      "ForAllValues:StringEquals": {
        "events:source": ["aws.iam"],
        "events:detail-type": ["AWS API Call via CloudTrail"],
      },
      Null: { "events:source": "false", "events:detail-type": "false" },
    });
  });

  it("lets EventBridge write Enforce's dead letters to the encrypted queue: the key, for this bus's rules of this account", () => {
    const [rule] = Object.values(central.findResources("AWS::Events::Rule")).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === "aws.iam",
    );
    const dlqId = rule?.Properties.Targets[0].DeadLetterConfig.Arn["Fn::GetAtt"][0] as string;
    const queue = central.toJSON().Resources[dlqId];
    const keyId = queue.Properties.KmsMasterKeyId["Fn::GetAtt"][0] as string;
    const keyPolicy = central.toJSON().Resources[keyId].Properties.KeyPolicy.Statement as Array<
      Record<string, unknown> & { Principal?: unknown; Condition?: Record<string, Record<string, unknown>> }
    >;
    const forEvents = keyPolicy.filter((st) => JSON.stringify(st.Principal) === '{"Service":"events.amazonaws.com"}');
    expect(forEvents).toHaveLength(1);
    expect(forEvents[0]).toMatchObject({
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
    });
    expect(text(forEvents[0]?.Condition?.ArnLike?.["aws:SourceArn"])).toBe(
      "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/orgmfa-iam-events/*",
    );
    // The queue policy CDK adds: EventBridge may send, for this rule only.
    const queuePolicy = Object.values(central.findResources("AWS::SQS::QueuePolicy")).find((p) =>
      p.Properties.Queues.some((q: { Ref: string }) => q.Ref === dlqId),
    );
    const ruleId = Object.entries(central.findResources("AWS::Events::Rule")).find(([, r]) => r === rule)?.[0];
    expect(queuePolicy?.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } },
      }),
    );
  });

  it("alarms to the digest topic on Enforce's dead letters and on its errors", () => {
    const topicId = Object.keys(central.findResources("AWS::SNS::Topic"))[0];
    const [rule] = Object.values(central.findResources("AWS::Events::Rule")).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === "aws.iam",
    );
    const dlqId = rule?.Properties.Targets[0].DeadLetterConfig.Arn["Fn::GetAtt"][0] as string;
    const enforceId = rule?.Properties.Targets[0].Arn["Fn::GetAtt"][0] as string;
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "OrgMfaCentral-EnforceUndelivered",
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [{ Ref: topicId }],
    });
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "OrgMfaCentral-EnforceErrors",
      Namespace: "AWS/Lambda",
      MetricName: "Errors",
      Dimensions: [{ Name: "FunctionName", Value: { Ref: enforceId } }],
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it("alarms to the digest topic when the sweep counts IAM events a member account could not forward", () => {
    const topicId = Object.keys(central.findResources("AWS::SNS::Topic"))[0];
    const [alarm, ...more] = Object.values(central.findResources("AWS::CloudWatch::Alarm")).filter(
      (a) => a.Properties.AlarmName === "OrgMfaCentral-ForwardingUndelivered",
    );
    expect(more).toEqual([]);
    // The metric the sweep publishes every day (Powertools: namespace orgmfa, dimension service=orgmfa):
    // any event waiting breaches; no datapoint (no sweep that hour) does not.
    expect(alarm?.Properties).toMatchObject({
      Namespace: "orgmfa",
      MetricName: "IamEventsNotForwarded",
      Dimensions: [{ Name: "service", Value: "orgmfa" }],
      Statistic: "Maximum",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      EvaluationPeriods: 1,
      TreatMissingData: "notBreaching",
      AlarmActions: [{ Ref: topicId }],
    });
    expect(alarm?.Properties.AlarmDescription).toMatch(/then purge each account's orgmfa-forward-iam-events-dlq/);
  });

  it("reserves Enforce's concurrency (5 unless configured)", () => {
    const [rule] = Object.values(central.findResources("AWS::Events::Rule")).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === "aws.iam",
    );
    const enforceId = rule?.Properties.Targets[0].Arn["Fn::GetAtt"][0] as string;
    expect(central.toJSON().Resources[enforceId].Properties.ReservedConcurrentExecutions).toBe(5);
    // The sweep over 10,000 accounts is CPU-bound: 1024 MB buys the CPU to end it within a third of its limit.
    expect(central.toJSON().Resources[enforceId].Properties).toMatchObject({ MemorySize: 1024, Timeout: 900 });
    const others = Object.entries(central.findResources("AWS::Lambda::Function")).filter(([id]) => id !== enforceId);
    for (const [, f] of others) expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(() => config({ quarantine: true, enforceReservedConcurrency: 0 })).toThrow(/enforceReservedConcurrency/);
  });

  it("sends exactly the followed IAM changes to Enforce, with retries and a dead-letter queue", () => {
    const [rule] = Object.values(central.findResources("AWS::Events::Rule")).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === "aws.iam",
    );
    expect(rule?.Properties.EventPattern).toEqual({
      source: ["aws.iam"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: { eventSource: ["iam.amazonaws.com"], eventName: [...QUARANTINE_IAM_EVENTS] },
    });
    const target = rule?.Properties.Targets[0];
    expect(text(target.Arn)).toBe("<token>");
    expect(target.DeadLetterConfig).toBeDefined();
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 8 });
    // The member template forwards the very same calls.
    const stack = new Stack(new App(), "Member");
    includeMemberTemplate(stack, "Template");
    const forward = Template.fromStack(stack).toJSON().Resources.ForwardIamEventsRule;
    expect(forward.Properties.EventPattern.detail.eventName).toEqual([...QUARANTINE_IAM_EVENTS]);
  });

  it("keeps what the member accounts could not forward in a dead-letter queue only that forwarding rule may write to", () => {
    const stack = new Stack(new App(), "Member");
    includeMemberTemplate(stack, "Template");
    const r = Template.fromStack(stack).toJSON().Resources;
    const target = r.ForwardIamEventsRule.Properties.Targets[0];
    // A GetAtt as the template writes it (`!GetAtt X.Arn`), or in its long form.
    const getAtt = (v: { "Fn::GetAtt": string | string[] }) => [v["Fn::GetAtt"]].flat().join(".");
    expect(Object.keys(target.DeadLetterConfig)).toEqual(["Arn"]);
    expect(getAtt(target.DeadLetterConfig.Arn)).toBe("ForwardIamEventsDeadLetters.Arn");
    // Without a KMS key in every member account: SQS's own encryption, which EventBridge writes with no key permission.
    // A fixed name: the sweep reaches it in every account by its ARN (one queue per account, us-east-1 only).
    expect(r.ForwardIamEventsDeadLetters).toMatchObject({
      Type: "AWS::SQS::Queue",
      Condition: "ForwardIamEvents",
      Properties: {
        QueueName: "orgmfa-forward-iam-events-dlq",
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
      },
    });
    const policy = r.ForwardIamEventsDeadLettersPolicy;
    expect(policy.Condition).toBe("ForwardIamEvents");
    expect(policy.Properties.Queues).toEqual([{ Ref: "ForwardIamEventsDeadLetters" }]);
    const allows = policy.Properties.PolicyDocument.Statement.filter((st: { Effect: string }) => st.Effect === "Allow");
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Condition: { ArnEquals: { "aws:SourceArn": expect.anything() } },
      }),
    ]);
    expect(getAtt(allows[0].Condition.ArnEquals["aws:SourceArn"])).toBe("ForwardIamEventsRule.Arn");
  });

  it("lets the member enforcer role count that queue's messages, and nothing else of SQS", () => {
    const stack = new Stack(new App(), "Member");
    includeMemberTemplate(stack, "Template");
    const r = Template.fromStack(stack).toJSON().Resources;
    const statements = r.EnforcerPolicy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    const sqs = statements.filter((st) => [st.Action].flat().some((a) => String(a).startsWith("sqs:")));
    // The role is made in the primary region, the queue in us-east-1: its ARN from its name, not a GetAtt.
    expect(sqs).toEqual([
      {
        Sid: "CountUndeliveredIamEvents",
        Effect: "Allow",
        Action: "sqs:GetQueueAttributes",
        Resource: { "Fn::Sub": `arn:${PARTITION}:sqs:us-east-1:\${AWS::AccountId}:orgmfa-forward-iam-events-dlq` },
      },
    ]);
  });

  it("runs Enforce as OrgMfaEnforcer, which may assume only the member enforcer roles of this organization", () => {
    const roles = central.findResources("AWS::IAM::Role");
    const [roleId] = Object.entries(roles).find(([, r]) => r.Properties.RoleName === "OrgMfaEnforcer") ?? [];
    const statements = Object.values(central.findResources("AWS::IAM::Policy"))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const assume = statements.filter((st: { Action: unknown }) => [st.Action].flat().includes("sts:AssumeRole"));
    expect(assume).toHaveLength(1);
    expect(text(assume[0].Resource)).toBe("arn:<AWS::Partition>:iam::*:role/OrgMfaQuarantineRole");
    expect(assume[0].Condition).toEqual({ StringEquals: { "aws:ResourceOrgID": "o-exampleorg1" } });
    expect(statements.flatMap((st: { Action: unknown }) => [st.Action].flat())).not.toContain("iam:AddUserToGroup");
  });

  it("sweeps after Publish, the run's reference kept beside Publish's result", () => {
    const sm = Object.values(central.findResources("AWS::StepFunctions::StateMachine"))[0];
    const parts = sm?.Properties.DefinitionString["Fn::Join"][1] as unknown[];
    const definition = JSON.parse(parts.map((p) => (typeof p === "string" ? p : "TOKEN")).join(""));
    expect(definition.States.Publish).toMatchObject({ Next: "QuarantineSweep", ResultPath: "$.published" });
    expect(definition.States.QuarantineSweep).toMatchObject({
      End: true,
      ResultPath: "$.quarantine",
      // Invoked with the payload as its input (payloadResponseOnly): { sweep: <the run's reference> }.
      Parameters: { "sweep.$": "$" },
    });
  });

  it("deploys the member side with the bus and the enforcer roles' trust", () => {
    const [set] = Object.values(members.findResources("AWS::CloudFormation::StackSet"));
    const params = Object.fromEntries(
      ((set?.Properties.Parameters ?? []) as Array<{ ParameterKey: string; ParameterValue: unknown }>).map((p) => [
        p.ParameterKey,
        text(p.ParameterValue),
      ]),
    );
    // An instance in us-east-1 (IAM's events arrive there), the IAM resources only in the deployment's region.
    expect(set?.Properties.StackInstancesGroup[0].Regions).toEqual(["eu-west-1", "us-east-1"]);
    expect(params).toMatchObject({
      PrimaryRegion: "eu-west-1",
      EnableQuarantine: "true",
      QuarantineGroupName: "OrgMfaQuarantine",
      EnforcerRoleName: "OrgMfaQuarantineRole",
      CentralEnforcerRoleName: "OrgMfaEnforcer",
      EnforcerOperatorRoleName: "AWSReservedSSO_SecurityAdmin",
      CentralEventBusArn: "arn:<AWS::Partition>:events:eu-west-1:222222222222:event-bus/orgmfa-iam-events",
    });
  });
});
