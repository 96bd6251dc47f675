import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { CONFIGURATIONS, config, type Statement, statementsIn, synthTemplates } from "./helpers";

// The digest topic and the alarms (constructs/digest-topic.ts, constructs/alarms.ts), and the schedule they watch.

describe("CentralStack and ManagementAccountStack", () => {
  let central: Template;

  beforeAll(() => {
    ({ central } = synthTemplates(config(CONFIGURATIONS.objectLock)));
  });
  const statementsOf = (role: string): Statement[] => statementsIn(central, role);

  it("has a KMS-encrypted digest topic with the configured e-mail subscription and TLS-only policy", () => {
    central.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    central.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "security-team@example.com",
    });
    central.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Condition: { Bool: { "aws:SecureTransport": "false" } } })]),
      },
    });
  });

  it("alarms on failed, timed-out or aborted runs to the digest topic, and runs on the schedule", () => {
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [Match.anyValue()],
      Metrics: Match.arrayWith([Match.objectLike({ Expression: "failed + timedOut + aborted" })]),
    });
    central.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "cron(0 6 * * ? *)",
      ScheduleExpressionTimezone: "UTC",
      // Discover reads the stored scan configuration: the schedule passes nothing.
      Target: { Arn: Match.anyValue(), Input: "{}" },
    });
  });

  it("lets CloudWatch publish this stack's alarms to the digest topic, whose policy replaces SNS's default", () => {
    central.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Condition: {
              StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
              ArnLike: { "aws:SourceArn": Match.anyValue() },
            },
          }),
        ]),
      },
    });
    // Every alarm's name starts with the prefix the topic policy admits, and every alarm reaches the topic.
    const topicId = Object.keys(central.findResources("AWS::SNS::Topic"))[0];
    const alarms = Object.values(central.findResources("AWS::CloudWatch::Alarm")) as Array<{
      Properties: { AlarmName: string; AlarmActions: unknown[] };
    }>;
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    for (const a of alarms) {
      expect(a.Properties.AlarmName).toMatch(/^OrgMfaCentral-/);
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  it("alarms when no run succeeded in 26 hours, on coverage below 100%, on failed accounts and on schedule dead letters", () => {
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ExecutionsSucceeded",
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    });
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "orgmfa",
      MetricName: "Coverage",
      Dimensions: [{ Name: "service", Value: "orgmfa" }],
      Threshold: 100,
      ComparisonOperator: "LessThanThreshold",
    });
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "orgmfa",
      MetricName: "AccountsFailed",
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    central.hasResourceProperties("AWS::Scheduler::Schedule", {
      Target: Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } }),
    });
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Namespace: "AWS/SQS",
    });
  });

  it("lets the schedule write its dead letters to the encrypted queue: its role may use the key, through SQS only", () => {
    const schedule = Object.values(central.findResources("AWS::Scheduler::Schedule"))[0];
    const roleId = schedule?.Properties.Target.RoleArn["Fn::GetAtt"][0] as string;
    const dlqId = schedule?.Properties.Target.DeadLetterConfig.Arn["Fn::GetAtt"][0] as string;
    const queue = central.toJSON().Resources[dlqId];
    const keyId = queue.Properties.KmsMasterKeyId["Fn::GetAtt"][0] as string;
    const statements = statementsOf(roleId);
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: "sqs:SendMessage", Resource: { "Fn::GetAtt": [dlqId, "Arn"] } }),
    );
    const kms = statements.filter((st) => [st.Action].flat().some((a) => String(a).startsWith("kms:")));
    expect(kms).toEqual([
      expect.objectContaining({
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: { "Fn::GetAtt": [keyId, "Arn"] },
        Condition: {
          StringEquals: { "kms:ViaService": { "Fn::Join": ["", ["sqs.", { Ref: "AWS::Region" }, ".amazonaws.com"]] } },
        },
      }),
    ]);
    // The alarm on that queue reaches the digest topic.
    const topicId = Object.keys(central.findResources("AWS::SNS::Topic"))[0];
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "OrgMfaCentral-ScheduleUndelivered",
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it("deploys no Enforce, its alarms or EventBridge's use of the key without quarantine", () => {
    const alarms = Object.values(central.findResources("AWS::CloudWatch::Alarm")).map((a) => a.Properties.AlarmName);
    expect(alarms).not.toContain("OrgMfaCentral-EnforceErrors");
    expect(alarms).not.toContain("OrgMfaCentral-EnforceUndelivered");
    expect(alarms).not.toContain("OrgMfaCentral-ForwardingUndelivered");
    const [key] = Object.values(central.findResources("AWS::KMS::Key"));
    const principals = key?.Properties.KeyPolicy.Statement.map((st: { Principal?: unknown }) => st.Principal);
    expect(principals).not.toContainEqual({ Service: "events.amazonaws.com" });
  });
});
