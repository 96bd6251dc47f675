import { keyUnder, scanConfigKey, TOP_FOLDERS } from "@orgmfa/contract";
import type { OrgMfaConfig } from "@orgmfa/core";
import { Aws, Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { markAddedLevel } from "./logical-ids";

/** A bucket-wide Object Lock default retention. */
export interface ObjectLockDefault {
  readonly mode: "GOVERNANCE" | "COMPLIANCE";
  /** Days every new object version stays locked. */
  readonly days: number;
}

export interface ReportStoreProps {
  /**
   * The scan configuration (checks, severities, exemptions, owner tag, filters): written at deploy time
   * to `<prefix>/config/scan-config.json`, where Discover (and Enforce) read it. Any size.
   */
  readonly scanConfig: OrgMfaConfig;
  /**
   * The key prefix of everything orgmfa writes (`"orgmfa"`, `"/orgmfa/"` and `"orgmfa/"` are the same;
   * `""` is the bucket's root).
   * @default "orgmfa"
   */
  readonly prefix?: string;
  /**
   * Days before a scan's files move to Infrequent Access (Glacier Instant Retrieval at the latest of
   * 365 days and this + 90). S3 moves nothing to Infrequent Access before 30 days.
   * @default 90
   */
  readonly transitionToInfrequentAccessDays?: number;
  /**
   * Days Publish locks each scan's files for: their past versions under `scans/` are kept at least as
   * long (lifecycle cannot delete a locked version anyway).
   * @default 365
   */
  readonly evidenceRetentionDays?: number;
  /**
   * A default retention for every new object version of the bucket, on top of the per-object locks of
   * Publish: it locks the run state, `latest/` and the configuration too (S3 has no default per prefix).
   * @default - none: only each scan's files are locked, by Publish
   */
  readonly objectLock?: ObjectLockDefault;
}

/**
 * The evidence store: the deployment's KMS key (rotation on: the bucket, the digest topic, the log
 * groups and the queues), the report bucket (private, TLS only, versioned, SSE-KMS with a bucket key,
 * Object Lock always on, server access logs to a second bucket, lifecycle by the layout's folders) and
 * the scan configuration object, written at deploy time.
 */
export class ReportStore extends Construct {
  /** The deployment's key. CloudWatch (alarms to the encrypted topic) and CloudWatch Logs may use it. */
  readonly key: kms.Key;
  /** The report bucket's server access logs (SSE-S3: S3's logging cannot write SSE-KMS). */
  readonly accessLogs: s3.Bucket;
  readonly bucket: s3.Bucket;
  /** The prefix, without leading or trailing slashes. */
  readonly prefix: string;
  /** The scan configuration object's key. */
  readonly scanConfigKey: string;
  /** Writes the scan configuration object at deploy time: what reads it depends on this. */
  readonly scanConfigWriter: AwsCustomResource;

  constructor(scope: Construct, id: string, props: ReportStoreProps) {
    super(scope, id);
    markAddedLevel(this);
    const transitionDays = props.transitionToInfrequentAccessDays ?? 90;
    const retentionDays = props.evidenceRetentionDays ?? 365;
    if (!Number.isInteger(transitionDays) || transitionDays < 30)
      throw new Error(
        `ReportStore: transitionToInfrequentAccessDays must be a whole number of at least 30 (S3's minimum for Infrequent Access), not ${transitionDays}`,
      );
    if (!Number.isInteger(retentionDays) || retentionDays < 1)
      throw new Error(
        `ReportStore: evidenceRetentionDays must be a whole number of days, at least 1, not ${retentionDays}`,
      );
    if (props.objectLock && (!Number.isInteger(props.objectLock.days) || props.objectLock.days < 1))
      throw new Error(
        `ReportStore: objectLock.days must be a whole number of days, at least 1, not ${props.objectLock.days}`,
      );
    this.prefix = (props.prefix ?? "orgmfa").replace(/^\/+|\/+$/g, "");
    const folder = (name: keyof typeof TOP_FOLDERS) => keyUnder(this.prefix, TOP_FOLDERS[name]);

    // ── Encryption ───────────────────────────────────────────────────────────────────────────────
    this.key = new kms.Key(this, "Key", {
      alias: "alias/orgmfa",
      description: "orgmfa: report bucket, digest topic and logs",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms publish to the encrypted topic; CloudWatch Logs encrypts the log groups.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
    );
    this.key.addToResourcePolicy(
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
    this.accessLogs = accessLogs;

    this.bucket = new s3.Bucket(this, "Reports", {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
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
      ...(props.objectLock
        ? {
            objectLockDefaultRetention:
              props.objectLock.mode === "COMPLIANCE"
                ? s3.ObjectLockRetention.compliance(Duration.days(props.objectLock.days))
                : s3.ObjectLockRetention.governance(Duration.days(props.objectLock.days)),
          }
        : {}),
      lifecycleRules: [
        {
          id: "reports-to-cheaper-storage",
          prefix: folder("scans"),
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(transitionDays) },
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(Math.max(365, transitionDays + 90)),
            },
          ],
          // A past version of a scan's file (Publish retried, or someone overwrote it) stays as long as
          // the file's lock, never less: lifecycle cannot delete a locked version anyway ("Managing S3
          // Lifecycle policies with Object Lock", S3 user guide object-lock-managing.html), so a shorter
          // expiry would only promise what S3 does not do.
          noncurrentVersionExpiration: Duration.days(Math.max(90, retentionDays, props.objectLock?.days ?? 0)),
        },
        // latest/ is rewritten by every run (a copy of the newest scan, never locked by Publish): its past
        // versions are only copies of what scans/ keeps, so they go after a week rather than piling up.
        { id: "expire-past-latest", prefix: folder("latest"), noncurrentVersionExpiration: Duration.days(7) },
        // The workflow's working state (targets and per-account results) is not evidence.
        {
          id: "expire-run-state",
          prefix: folder("runs"),
          expiration: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(1),
        },
        // State kept between runs (the owner tags read so far), rewritten by every run: its past versions go.
        { id: "expire-past-state", prefix: folder("state"), noncurrentVersionExpiration: Duration.days(7) },
        { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ── The scan configuration, stored in the bucket: one version per deployed change ──────────────
    // Written at deploy time by one S3 PutObject (not BucketDeployment, whose function may delete
    // objects in this evidence bucket): onCreate and onUpdate write the object, a changed config being
    // a new version; onDelete does nothing, so the history stays. Its function's role may put this one
    // object and write its own log group, nothing else.
    this.scanConfigKey = scanConfigKey(this.prefix);
    const putConfig: AwsSdkCall = {
      service: "S3",
      action: "putObject",
      parameters: {
        Bucket: this.bucket.bucketName,
        Key: this.scanConfigKey,
        Body: JSON.stringify(props.scanConfig, null, 2),
        ContentType: "application/json",
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: this.key.keyArn,
      },
      physicalResourceId: PhysicalResourceId.of(this.scanConfigKey),
    };
    const writerLogs = new logs.LogGroup(this, "ScanConfigWriterLogs", {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const writerRole = new iam.Role(this, "ScanConfigWriterRole", {
      description: "orgmfa: writes the deployed scan configuration object (one key of the report bucket), nothing else",
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    });
    writerLogs.grantWrite(writerRole);
    this.scanConfigWriter = new AwsCustomResource(this, "ScanConfig", {
      resourceType: "Custom::OrgMfaScanConfig",
      onCreate: putConfig,
      onUpdate: putConfig,
      role: writerRole,
      policy: AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ["s3:PutObject"],
          resources: [this.bucket.arnForObjects(this.scanConfigKey)],
        }),
        new iam.PolicyStatement({ actions: ["kms:GenerateDataKey"], resources: [this.key.keyArn] }),
      ]),
      installLatestAwsSdk: false,
      logGroup: writerLogs,
      timeout: Duration.minutes(2),
    });
  }
}
