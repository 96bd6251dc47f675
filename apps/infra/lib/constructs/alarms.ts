import { POWERTOOLS } from "@orgmfa/aws/settings";
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { markAddedLevel } from "./logical-ids";

/** The quarantine's parts the alarms watch. */
export interface QuarantineAlarmSources {
  /** The Enforce function (IAM events and the daily sweep). */
  readonly enforce: lambda.IFunction;
  /** Where the IAM-event rule keeps what it could not deliver to Enforce. */
  readonly deadLetters: sqs.IQueue;
}

export interface AlarmsProps {
  /** Every alarm's action: the digest topic, whose policy must admit alarms named `alarmNamePrefix…`. */
  readonly topic: sns.ITopic;
  /** Each alarm is named `<alarmNamePrefix><alarm>` (`OrgMfaCentral-RunFailed`). */
  readonly alarmNamePrefix: string;
  /** The scan workflow's state machine: failed, timed-out, aborted and succeeded runs. */
  readonly stateMachine: sfn.IStateMachine;
  /** The schedule's dead-letter queue: a start the schedule could not make. */
  readonly scheduleDeadLetters: sqs.IQueue;
  /**
   * With the quarantine: Enforce's dead letters and errors, and the IAM events member accounts could not forward.
   * @default - no quarantine alarms
   */
  readonly quarantine?: QuarantineAlarmSources;
}

/**
 * The deployment's alarms, each to the digest topic (docs/deployment.md, "What each alarm means"): a run
 * that failed, timed out or was aborted; no run succeeded in 26 hours; a discovery that failed; coverage
 * below 100 %; accounts not audited; a schedule dead letter; with the quarantine, Enforce's dead letters
 * and errors and the IAM events member accounts could not forward. The functions' metrics are read
 * under Powertools' namespace and service of the settings contract (`@orgmfa/aws/settings`).
 */
export class Alarms extends Construct {
  /** The alarms, by their id (the end of their name). */
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    markAddedLevel(this);
    const { stateMachine } = props;
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, alarmId, { alarmName: `${props.alarmNamePrefix}${alarmId}`, ...alarmProps });
      a.addAlarmAction(new SnsAction(props.topic));
      this.alarms[alarmId] = a;
    };
    /** A dead-letter queue that holds anything at all: something was not delivered. */
    const deadLettersAlarm = (alarmId: string, queue: sqs.IQueue, alarmDescription: string) =>
      alarm(alarmId, {
        alarmDescription,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: "Maximum" }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    // Published by the functions (Powertools metrics: namespace orgmfa, dimension service=orgmfa).
    const orgmfaMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: POWERTOOLS.metricsNamespace,
        metricName,
        dimensionsMap: { service: POWERTOOLS.serviceName },
        statistic,
        period: Duration.hours(1),
      });

    // ── A failed, timed-out or aborted run ───────────────────────────────────────────────────────
    alarm("RunFailed", {
      alarmDescription:
        "An orgmfa scan did not complete: see the Step Functions execution and the publish function's logs.",
      metric: new cloudwatch.MathExpression({
        label: "Failed, timed-out or aborted orgmfa runs",
        expression: "failed + timedOut + aborted",
        usingMetrics: {
          failed: stateMachine.metricFailed({ statistic: "Sum" }),
          timedOut: stateMachine.metricTimedOut({ statistic: "Sum" }),
          aborted: stateMachine.metricAborted({ statistic: "Sum" }),
        },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Silence is a failure too: 26 hourly periods without one succeeded run (missing data breaches).
    alarm("NoSuccessfulRun", {
      alarmDescription:
        "No orgmfa scan has succeeded in 26 hours: check the schedule, its dead-letter queue and the workflow.",
      metric: stateMachine.metricSucceeded({ statistic: "Sum", period: Duration.hours(1) }),
      threshold: 1,
      evaluationPeriods: 26,
      datapointsToAlarm: 26,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
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
    if (props.quarantine) {
      deadLettersAlarm(
        "EnforceUndelivered",
        props.quarantine.deadLetters,
        "An IAM change could not be delivered to orgmfa's Enforce function: see its dead-letter queue (the daily sweep still reconciles the user).",
      );
      alarm("EnforceErrors", {
        alarmDescription:
          "orgmfa's Enforce function failed (an IAM event or the daily sweep): see the enforce function's logs.",
        metric: props.quarantine.enforce.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
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
    // ── A start the schedule could not make ──────────────────────────────────────────────────────
    deadLettersAlarm(
      "ScheduleUndelivered",
      props.scheduleDeadLetters,
      "The orgmfa schedule could not start the workflow: see the dead-letter queue.",
    );
  }
}
