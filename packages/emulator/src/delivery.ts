import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DetachRolePolicyCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { type AwsSecurityFinding, GetFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  cliDeliveryStatements,
  discoverStatements,
  enforceStatements,
  type IamStatement,
  publishStatements,
  type ScannerPolicyInput,
  scanBatchStatements,
  scanConfigKey,
} from "@orgmfa/contract";
import type { AwsCredentialIdentity } from "@smithy/types";
import { accountAdminCredentials } from "./credentials";
import {
  ADMIN,
  AUDIT_ROLE_NAME,
  DISCOVER_ROLE_NAME,
  ENFORCER_ROLE_NAME,
  MEMBER_ENFORCER_ROLE_NAME,
  PUBLISH_ROLE_NAME,
  REGION,
  SCANNER_ASSUME_POLICY_NAME,
  SCANNER_ROLE_NAME,
  type SeededOrg,
} from "./org-spec";

/** Where a scan's deliverables go in the emulated security-tooling account. */
export interface SeededDelivery {
  bucket: string;
  prefix: string;
  kmsKeyArn: string;
  topicArn: string;
  /** An SQS queue subscribed to the topic: how the digest is read back. */
  queueUrl: string;
  /** Where the deployed scan configuration goes (`scanConfigKey`), as the CDK app writes it. */
  configKey: string;
  /** The version of the scan configuration object the seed wrote (`scanConfig` given), else absent. */
  configVersionId?: string;
  /**
   * The deployed workflow's roles, each with exactly its function's statements (`as: "workflow"`
   * only): get credentials for one with `roleCredentials`. `scanBatch` is the scanner role.
   */
  roles?: { discover: string; scanBatch: string; publish: string; enforce: string };
}

export interface SeedDeliveryOptions {
  /** Key prefix of the reports. @default "orgmfa" */
  prefix?: string;
  /**
   * Which identities the scanner account gets, with the very statements of packages/contract/src/policies.ts:
   * - "cli": the scanner role is the identity `orgmfa scan` runs as, and may also deliver everywhere
   *   (`cliDeliveryStatements`);
   * - "workflow": as the CDK app deploys it, one role per function: the scanner role is ScanBatch's
   *   (`scanBatchStatements` and nothing else), beside Discover's and Publish's roles.
   * @default "cli"
   */
  as?: "cli" | "workflow";
  /** A scan configuration to store at `configKey`, as the CDK app does at deploy time. */
  scanConfig?: unknown;
}

function clients(endpoint: string, credentials: AwsCredentialIdentity) {
  const common = { endpoint, region: REGION, credentials, maxAttempts: 2 };
  return {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sns: new SNSClient(common),
    sqs: new SQSClient(common),
    kms: new KMSClient(common),
    iam: new IAMClient(common),
    securityHub: new SecurityHubClient(common),
  };
}

/**
 * Creates the delivery side in the scanner's account, as the CDK app does in a real one: a KMS key,
 * the report bucket, the digest topic with an SQS subscription, and the policies of the identities
 * that use them (see {@link SeedDeliveryOptions.as}), written once in packages/contract/src/policies.ts and
 * deployed by the CDK app.
 */
export async function seedDelivery(
  endpoint: string,
  org: SeededOrg,
  options: SeedDeliveryOptions = {},
): Promise<SeededDelivery> {
  const prefix = options.prefix ?? "orgmfa";
  const account = org.scannerAccountId;
  const c = clients(endpoint, await accountAdminCredentials(endpoint, account));
  const key = await c.kms.send(new CreateKeyCommand({ Description: "orgmfa reports and digest" }));
  const kmsKeyArn = key.KeyMetadata?.Arn ?? "";
  const bucket = `orgmfa-reports-${account}`;
  await c.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // Versioned, as the deployed bucket is (each deployed scan configuration is a version).
  await c.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
  const configKey = scanConfigKey(prefix);
  const stored =
    options.scanConfig === undefined
      ? undefined
      : await c.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: configKey,
            Body: JSON.stringify(options.scanConfig, null, 2),
            ContentType: "application/json",
          }),
        );
  const topic = await c.sns.send(new CreateTopicCommand({ Name: "orgmfa-digest" }));
  const topicArn = topic.TopicArn ?? "";
  const queue = await c.sqs.send(new CreateQueueCommand({ QueueName: "orgmfa-digest-inbox" }));
  const queueUrl = queue.QueueUrl ?? "";
  const attrs = await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  await c.sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: attrs.Attributes?.QueueArn ?? "" }),
  );
  const input: ScannerPolicyInput = {
    partition: "aws",
    accountId: account,
    region: REGION,
    organizationId: org.organizationId,
    managementAccountId: org.managementAccountId,
    auditRoleName: AUDIT_ROLE_NAME,
    bucketArn: `arn:aws:s3:::${bucket}`,
    prefix,
    kmsKeyArn,
    topicArn,
  };
  const attach = async (roleName: string, policyName: string, statements: IamStatement[]) => {
    const policy = await c.iam.send(
      new CreatePolicyCommand({
        PolicyName: policyName,
        PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
      }),
    );
    await c.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.Policy?.Arn }));
  };
  let roles: SeededDelivery["roles"];
  if (options.as === "workflow") {
    // The scanner role becomes ScanBatch's, holding exactly its statements (which include the
    // assume statement seedOrganization gave it).
    const assumePolicy = `arn:aws:iam::${account}:policy/${SCANNER_ASSUME_POLICY_NAME}`;
    await c.iam.send(new DetachRolePolicyCommand({ RoleName: SCANNER_ROLE_NAME, PolicyArn: assumePolicy }));
    await attach(SCANNER_ROLE_NAME, "OrgMfaScanBatch", scanBatchStatements(input));
    for (const [name, statements] of [
      [DISCOVER_ROLE_NAME, discoverStatements(input)],
      [PUBLISH_ROLE_NAME, publishStatements(input)],
      [ENFORCER_ROLE_NAME, enforceStatements({ ...input, enforcerRoleName: MEMBER_ENFORCER_ROLE_NAME })],
    ] as const) {
      // Lambda assumes the deployed roles; here the tests do, from the scanner account.
      await c.iam.send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "sts:AssumeRole" },
            ],
          }),
        }),
      );
      await attach(name, name, statements);
    }
    const arn = (name: string) => `arn:aws:iam::${account}:role/${name}`;
    roles = {
      discover: arn(DISCOVER_ROLE_NAME),
      scanBatch: arn(SCANNER_ROLE_NAME),
      publish: arn(PUBLISH_ROLE_NAME),
      enforce: arn(ENFORCER_ROLE_NAME),
    };
  } else {
    await attach(SCANNER_ROLE_NAME, "OrgMfaScannerDelivery", cliDeliveryStatements(input));
  }
  for (const x of Object.values(c)) x.destroy();
  return {
    bucket,
    prefix,
    kmsKeyArn,
    topicArn,
    queueUrl,
    configKey,
    ...(stored?.VersionId ? { configVersionId: stored.VersionId } : {}),
    ...(roles ? { roles } : {}),
  };
}

/** An SNS notification as an SQS subscriber receives it. */
export interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** Reads what landed, as an administrator of the account would in the console. */
export class DeliveryReader {
  constructor(
    private readonly endpoint: string,
    private readonly delivery: SeededDelivery,
    private readonly org: Pick<SeededOrg, "scannerAccountId" | "managementAccountId">,
  ) {}

  private get scannerAccountId(): string {
    return this.org.scannerAccountId;
  }

  private async as(accountId: string) {
    const admin =
      accountId === this.org.managementAccountId ? ADMIN : await accountAdminCredentials(this.endpoint, accountId);
    return clients(this.endpoint, admin);
  }

  /** Every object key under a prefix of the report bucket. */
  async keys(under = ""): Promise<string[]> {
    const c = await this.as(this.scannerAccountId);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await c.s3.send(
        new ListObjectsV2Command({ Bucket: this.delivery.bucket, Prefix: under, ContinuationToken: token }),
      );
      keys.push(...(r.Contents ?? []).map((o) => o.Key ?? ""));
      token = r.NextContinuationToken;
    } while (token);
    c.s3.destroy();
    return keys.sort();
  }

  /** One object's bytes and its server-side encryption headers. */
  async object(key: string): Promise<{ body: Buffer; sse: string | undefined; kmsKeyId: string | undefined }> {
    const c = await this.as(this.scannerAccountId);
    const r = await c.s3.send(new GetObjectCommand({ Bucket: this.delivery.bucket, Key: key }));
    const body = Buffer.from((await r.Body?.transformToByteArray()) ?? []);
    c.s3.destroy();
    return { body, sse: r.ServerSideEncryption, kmsKeyId: r.SSEKMSKeyId };
  }

  /** Every finding in one account's Security Hub (all products, all record states). */
  async findings(accountId: string): Promise<AwsSecurityFinding[]> {
    const c = await this.as(accountId);
    const out: AwsSecurityFinding[] = [];
    let token: string | undefined;
    do {
      const r = await c.securityHub.send(new GetFindingsCommand({ NextToken: token, MaxResults: 100 }));
      out.push(...(r.Findings ?? []).filter((f) => f.AwsAccountId === accountId));
      token = r.NextToken || undefined;
    } while (token);
    c.securityHub.destroy();
    return out;
  }

  /**
   * The SNS messages delivered to the subscribed queue since the last call (the SNS envelope:
   * Subject, Message, MessageAttributes), oldest first.
   */
  async messages(): Promise<
    Array<{ Subject?: string; Message: string; MessageAttributes?: Record<string, { Type: string; Value: string }> }>
  > {
    const c = await this.as(this.scannerAccountId);
    const out = [];
    for (;;) {
      const r = await c.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.delivery.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      const msgs = r.Messages ?? [];
      if (msgs.length === 0) break;
      out.push(...msgs.map((m) => JSON.parse(m.Body ?? "{}") as SnsEnvelope));
      await c.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.delivery.queueUrl,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
        }),
      );
    }
    c.sqs.destroy();
    return out.sort((a, b) => a.Timestamp.localeCompare(b.Timestamp));
  }
}
