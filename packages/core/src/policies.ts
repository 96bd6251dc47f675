/**
 * The scanner role's permissions, written once: the CDK app attaches exactly these statements to the
 * deployed role, and the emulator's seed attaches exactly these to its scanner role, so every
 * emulated test runs under the policy that is deployed (values here are plain strings; the CDK app
 * passes its tokens).
 */
export interface IamStatement {
  Sid: string;
  Effect: "Allow";
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface ScannerPolicyInput {
  partition: string;
  /** The scanning account and its region. */
  accountId: string;
  region: string;
  organizationId: string;
  auditRoleName: string;
  bucketArn: string;
  /** Key prefix of the reports in the bucket, without slashes at either end ("" for the root). */
  prefix: string;
  kmsKeyArn: string;
  topicArn: string;
}

const under = (prefix: string, p: string) => `${prefix ? `${prefix}/` : ""}${p}`;

/** Assume the member audit role in any account of this organization, and nothing else. */
export function scannerAssumeStatement(i: Pick<ScannerPolicyInput, "partition" | "organizationId" | "auditRoleName">) {
  return {
    Sid: "AssumeAuditRolesInThisOrganization",
    Effect: "Allow",
    Action: "sts:AssumeRole",
    Resource: `arn:${i.partition}:iam::*:role/${i.auditRoleName}`,
    Condition: { StringEquals: { "aws:ResourceOrgID": i.organizationId } },
  } satisfies IamStatement;
}

/**
 * What the scanner does besides assuming roles: reports and run state under the prefix; listing only
 * the run state (per-account results, found by listing) and the one `latest/report.json` key (S3
 * answers a missing key with 403 unless the caller may list it); the key for SSE-KMS and the encrypted
 * topic; the digest; its own Security Hub (coverage findings, and reading them back to archive).
 */
export function scannerDeliveryStatements(i: ScannerPolicyInput): IamStatement[] {
  return [
    {
      Sid: "ReportsAndRunState",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: `${i.bucketArn}/${under(i.prefix, "*")}`,
    },
    {
      Sid: "ListRunStateAndLatestReport",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: i.bucketArn,
      Condition: { StringLike: { "s3:prefix": [under(i.prefix, "runs/*"), under(i.prefix, "latest/report.json")] } },
    },
    {
      Sid: "ReportKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: i.kmsKeyArn,
    },
    { Sid: "Digest", Effect: "Allow", Action: "sns:Publish", Resource: i.topicArn },
    {
      Sid: "OwnSecurityHubForCoverageFindings",
      Effect: "Allow",
      Action: "securityhub:BatchImportFindings",
      Resource: `arn:${i.partition}:securityhub:${i.region}:${i.accountId}:product/${i.accountId}/default`,
    },
    {
      Sid: "ReadOwnHub",
      Effect: "Allow",
      Action: "securityhub:GetFindings",
      Resource: `arn:${i.partition}:securityhub:${i.region}:${i.accountId}:hub/default`,
    },
  ];
}
