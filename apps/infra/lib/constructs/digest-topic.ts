import { Aws, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import { markAddedLevel } from "./logical-ids";

export interface DigestTopicProps {
  /**
   * Encrypts the messages. CloudWatch publishes the alarms through it, so its key policy must let
   * `cloudwatch.amazonaws.com` use it (`ReportStore`'s key does).
   */
  readonly encryptionKey: kms.IKey;
  /**
   * An e-mail address subscribed to the digest (it must confirm the subscription AWS sends).
   * @default - no subscription
   */
  readonly email?: string;
  /**
   * The name prefix of the CloudWatch alarms (of this account) that may publish here.
   * @default - the stack's name and a hyphen (`OrgMfaCentral-`)
   */
  readonly alarmNamePrefix?: string;
}

/**
 * The digest topic (SSE-KMS, TLS only): one plain-text digest per scan for people, and every alarm of
 * the deployment. `enforceSSL` makes CDK write a topic policy, which replaces SNS's default one: the
 * policy also admits this account's CloudWatch alarms whose names start with `alarmNamePrefix`.
 */
export class DigestTopic extends Construct {
  readonly topic: sns.Topic;
  /** The prefix every alarm's name must start with to publish here. */
  readonly alarmNamePrefix: string;

  constructor(scope: Construct, id: string, props: DigestTopicProps) {
    super(scope, id);
    markAddedLevel(this);
    this.alarmNamePrefix = props.alarmNamePrefix ?? `${Stack.of(this).stackName}-`;
    if (!/^[\w.-]+$/.test(this.alarmNamePrefix))
      throw new Error(
        `DigestTopic: alarmNamePrefix must be letters, digits, '.', '_' or '-' (it ends an ARN pattern), not ${JSON.stringify(this.alarmNamePrefix)}`,
      );
    this.topic = new sns.Topic(this, "Digest", {
      displayName: "orgmfa digest",
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    // Without this statement CloudWatch could not publish the alarms (scoped to this account's alarms of
    // this stack; the key policy lets CloudWatch use the key under the same account condition).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchAlarmsOfThisStack",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID },
          ArnLike: {
            "aws:SourceArn": `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${this.alarmNamePrefix}*`,
          },
        },
      }),
    );
  }
}
