import { QUARANTINE_IAM_EVENTS } from "@orgmfa/core";
import { Aws, Duration, Token, Validations } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as eventsTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { IAM_EVENT_BUS_NAME } from "../paths";
import { markAddedLevel } from "./logical-ids";

export interface QuarantineEventsProps {
  /** The organization (o-…) whose accounts may put events on the bus. */
  readonly organizationId: string;
  /** The function each IAM change goes to (Enforce: one user at a time). */
  readonly enforce: lambda.IFunction;
  /** Encrypts the dead-letter queue; EventBridge is let use it for this bus's rules. */
  readonly encryptionKey: kms.IKey;
  /**
   * The bus's name: the member template's CentralEventBusArn ends with it.
   * @default "orgmfa-iam-events"
   */
  readonly eventBusName?: string;
  /**
   * How many times EventBridge retries delivering an event to Enforce (a throttled Enforce included)
   * before it goes to the dead-letter queue.
   * @default 8
   */
  readonly retryAttempts?: number;
}

/**
 * The quarantine's event path: the member accounts' IAM changes → one event bus (only the organization's
 * accounts may put events, and only IAM's CloudTrail events) → a rule → Enforce, with retries and an
 * encrypted dead-letter queue. The rule is the default child: its logical ID and the IDs CDK derives from
 * its path are made from this construct's id (see ./logical-ids.ts).
 */
export class QuarantineEvents extends Construct {
  readonly bus: events.EventBus;
  readonly rule: events.Rule;
  /** What the rule could not deliver to Enforce. */
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: QuarantineEventsProps) {
    super(scope, id);
    markAddedLevel(this);
    const busName = props.eventBusName ?? IAM_EVENT_BUS_NAME;
    const retryAttempts = props.retryAttempts ?? 8;
    if (!Token.isUnresolved(props.organizationId) && !/^o-[a-z0-9]{10,32}$/.test(props.organizationId))
      throw new Error(`QuarantineEvents: organizationId must be an organization id (o-…), not ${props.organizationId}`);
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185)
      throw new Error(`QuarantineEvents: retryAttempts must be 0 to 185 (EventBridge's limit), not ${retryAttempts}`);
    // Only the organization's accounts may put events here (the member template's forwarding rule),
    // and only IAM's CloudTrail events: EventBridge's events:source and events:detail-type condition
    // keys, as in "Example policy: Send events to a custom bus in a different account" of the
    // EventBridge user guide (eb-event-bus-example-policy-cross-account-custom-bus-source.html).
    // ForAllValues: one PutEvents call carries many entries, each must match; the Null test keeps a
    // request without the keys from passing ForAllValues vacuously.
    this.bus = new events.EventBus(this, "IamEvents", { eventBusName: busName });
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "OrgMfaMemberAccountsOnly",
        effect: iam.Effect.ALLOW,
        principals: [new iam.AnyPrincipal()],
        actions: ["events:PutEvents"],
        resources: [this.bus.eventBusArn],
        conditions: {
          StringEquals: { "aws:PrincipalOrgID": props.organizationId },
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
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(undelivered).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: "This queue is itself the Enforce rule's dead-letter queue.",
    });
    this.deadLetters = undelivered;
    // EventBridge writes an undelivered event to this queue as events.amazonaws.com: CDK's target adds
    // the queue policy (sqs:SendMessage, aws:SourceArn = the rule) but not the key policy the queue's
    // customer-managed key needs (aws/aws-cdk#20804, #33169). Without it the dead letter is lost too.
    // EventBridge user guide, "Using dead-letter queues to process undelivered events" (eb-rule-dlq.html):
    // an encrypted DLQ's key must let EventBridge use kms:GenerateDataKey and kms:Decrypt; conditioned
    // on the source as "Authorizing EventBridge to use a customer managed key" (eb-encryption-key-policy.html)
    // advises. The rules of this bus only: the rule's own ARN would make a cycle (key → rule → queue → key).
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "EventBridgeDeadLettersOfTheIamEventRules",
        principals: [new iam.ServicePrincipal("events.amazonaws.com")],
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: ["*"],
        conditions: {
          StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID },
          ArnLike: {
            "aws:SourceArn": `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/${busName}/*`,
          },
        },
      }),
    );
    this.rule = new events.Rule(this, "Default", {
      eventBus: this.bus,
      description: "orgmfa: a member account's IAM user, login-profile, MFA or group change → Enforce",
      eventPattern: {
        source: ["aws.iam"],
        detailType: ["AWS API Call via CloudTrail"],
        detail: { eventSource: ["iam.amazonaws.com"], eventName: [...QUARANTINE_IAM_EVENTS] },
      },
      targets: [
        new eventsTargets.LambdaFunction(props.enforce, {
          deadLetterQueue: undelivered,
          retryAttempts,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
  }
}
