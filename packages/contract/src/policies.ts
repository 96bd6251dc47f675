import { HISTORY_TABLES } from "@orgmfa/render";
import { historyFilePattern, keyUnder, runFilePattern, stateFilePattern, TOP_FOLDERS } from "./layout";

/**
 * The central identities' permissions, written once: the CDK app attaches exactly these statements to
 * the deployed roles (one per function: Discover — Owners runs as it —, ScanBatch, Publish, and with
 * the quarantine Enforce), and the emulator's seed attaches exactly these to its roles, so every
 * emulated test runs under the policy that is deployed (values here are plain strings; the CDK app
 * passes its tokens).
 *
 * What each function touches in the report bucket (the layout of `layout.ts`, under the prefix):
 *
 * | key                                       | Discover / Owners | ScanBatch | Publish | Enforce |
 * |-------------------------------------------|-------------------|-----------|---------|---------|
 * | `config/scan-config.json`                 | list, read        |           |         | read    |
 * | `latest/report.json`                      | list, read        |           |         |         |
 * | `state/owner-tags.json`                   | list, read, write |           |         |         |
 * | `state/account-ous.json`                  | write             |           |         | list, read |
 * | `state/pace.json`                         | list, read        |           | write   |         |
 * | `runs/<scan>/context.json`                | write             | read      | read    | read    |
 * | `runs/<scan>/ledger.json`                 | write             |           | read    | read    |
 * | `runs/<scan>/targets.json`                | write, read       |           |         |         |
 * | `runs/<scan>/previous-report.json`        | write (a copy)    |           | read    |         |
 * | `runs/<scan>/owners.json`                 | write             |           | list, read |      |
 * | `runs/<scan>/results/<account>.json`      |                   | write     | list, read |      |
 * | `runs/<scan>/console-without-mfa.json`    |                   |           | write   | read    |
 * | `runs/<scan>/quarantine.json`, `quarantine/…` |               |           |         | write   |
 * | `scans/…`                                 |                   |           | write (locked), read (copy source) | |
 * | `latest/…`                                |                   |           | write (a copy) |  |
 * | `history/<table>/dt=<day>/<scan>.jsonl.gz` |                  |           | write   |         |
 *
 * (The Distributed Map's ItemReader reads `targets.json` as the state machine's role.)
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
  /** The management account, whose audit role (with Organizations read) Discover assumes. */
  managementAccountId: string;
  auditRoleName: string;
  bucketArn: string;
  /** Key prefix of the reports in the bucket, without slashes at either end ("" for the root). */
  prefix: string;
  kmsKeyArn: string;
  topicArn: string;
}

const under = (prefix: string, p: string) => `${prefix ? `${prefix}/` : ""}${p}`;

/**
 * Where the deployed scan configuration is (written by the CDK app at deploy time, one version per
 * change, read by Discover), under the report prefix.
 */
export const scanConfigKey = (prefix: string) => keyUnder(prefix, "config/scan-config.json");
/**
 * The one key pattern the workflow's role may read (s3:GetObject): each run's targets, which the
 * Distributed Map's ItemReader reads as the state machine's role — not the bucket.
 */
export const itemReaderKeyPattern = (prefix: string) => under(prefix, runFilePattern("targets"));
const objects = (i: Pick<ScannerPolicyInput, "bucketArn" | "prefix">, ...keys: string[]) => {
  const arns = keys.map((k) => `${i.bucketArn}/${under(i.prefix, k)}`);
  return arns.length === 1 ? (arns[0] as string) : arns;
};

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

/** Assume the management account's audit role (the one with Organizations read), and no other. */
export function orgRoleAssumeStatement(
  i: Pick<ScannerPolicyInput, "partition" | "managementAccountId" | "auditRoleName">,
): IamStatement {
  return {
    Sid: "AssumeManagementAuditRoleForDiscovery",
    Effect: "Allow",
    Action: "sts:AssumeRole",
    Resource: `arn:${i.partition}:iam::${i.managementAccountId}:role/${i.auditRoleName}`,
  };
}

/** The report key: SSE-KMS objects are read with Decrypt and written with GenerateDataKey. */
function reportKeyStatement(i: Pick<ScannerPolicyInput, "kmsKeyArn">): IamStatement {
  return { Sid: "ReportKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: i.kmsKeyArn };
}

/**
 * Listing only the one `latest/report.json` key: what exists is found by listing, and S3 answers a
 * missing key with 403 instead of 404 unless the caller may list it.
 */
function listLatestReportStatement(i: Pick<ScannerPolicyInput, "bucketArn" | "prefix">): IamStatement {
  return {
    Sid: "ListLatestReportOnly",
    Effect: "Allow",
    Action: "s3:ListBucket",
    Resource: i.bucketArn,
    Condition: { StringLike: { "s3:prefix": under(i.prefix, `${TOP_FOLDERS.latest}report.json`) } },
  };
}

/**
 * Writing the auditor files (the scan's own folder and `latest/`), multipart uploads included (an
 * upload that fails is aborted). `latest/` is a server-side copy of the scan's folder, so whoever
 * writes it also reads `scans/*`: see each function's statements.
 */
function writeReportsStatement(i: Pick<ScannerPolicyInput, "bucketArn" | "prefix">): IamStatement {
  return {
    Sid: "WriteReports",
    Effect: "Allow",
    Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
    Resource: objects(i, `${TOP_FOLDERS.scans}*`, `${TOP_FOLDERS.latest}*`),
  };
}

/** The digest topic, and the scanning account's own Security Hub (coverage findings, read back to archive). */
function digestAndOwnHubStatements(
  i: Pick<ScannerPolicyInput, "partition" | "region" | "accountId" | "topicArn">,
): IamStatement[] {
  return [
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

/**
 * Discover, and the Owners step that runs as the same role (both read the organization, through the
 * management account's audit role, which trusts this one role): Organizations through that role only;
 * the deployed scan configuration read; the run's context, ledger and targets, and a copy of
 * `latest/report.json` (the scan this run compares with), written under `runs/`; the owner tags read (the
 * run's `owners.json`) and the owner-tag cache kept between runs (`state/owner-tags.json`); the last
 * run's pace read (`state/pace.json`, for the Map's concurrency). It lists only the keys it reads
 * that may be missing (so that a missing one is a 404, not a 403).
 */
export function discoverStatements(i: ScannerPolicyInput): IamStatement[] {
  return [
    orgRoleAssumeStatement(i),
    {
      Sid: "WriteRunStateAndOwnerTagCache",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: objects(
        i,
        runFilePattern("context"),
        runFilePattern("ledger"),
        runFilePattern("targets"),
        runFilePattern("previous"),
        runFilePattern("owners"),
        stateFilePattern("ownerTags"),
        stateFilePattern("accountOus"),
      ),
    },
    {
      Sid: "ReadScanConfigLatestReportTargetsOwnerTagCacheAndPace",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: objects(
        i,
        "config/scan-config.json",
        `${TOP_FOLDERS.latest}report.json`,
        runFilePattern("targets"),
        stateFilePattern("ownerTags"),
        stateFilePattern("pace"),
      ),
    },
    {
      Sid: "ListScanConfigLatestReportOwnerTagCacheAndPaceOnly",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: i.bucketArn,
      Condition: {
        StringLike: {
          "s3:prefix": [
            under(i.prefix, "config/scan-config.json"),
            under(i.prefix, `${TOP_FOLDERS.latest}report.json`),
            under(i.prefix, stateFilePattern("ownerTags")),
            under(i.prefix, stateFilePattern("pace")),
          ],
        },
      },
    },
    reportKeyStatement(i),
  ];
}

/**
 * ScanBatch: the member audit roles (member Security Hubs are reached through them); the run's
 * context read, and each account's result written. Nothing of the reports, the digest or its own
 * account's hub (Publish syncs that one).
 */
export function scanBatchStatements(i: ScannerPolicyInput): IamStatement[] {
  return [
    scannerAssumeStatement(i),
    { Sid: "ReadRunContext", Effect: "Allow", Action: "s3:GetObject", Resource: objects(i, runFilePattern("context")) },
    {
      Sid: "WriteAccountResults",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: objects(i, runFilePattern("results")),
    },
    reportKeyStatement(i),
  ];
}

/**
 * Publish: no role to assume. The run's context, results (found by listing the results folder) and
 * previous-report copy read; the auditor files, the history files and the run's pace written; the
 * digest; its own account's Security Hub.
 */
export function publishStatements(i: ScannerPolicyInput): IamStatement[] {
  return [
    {
      Sid: "ReadRunState",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: objects(
        i,
        runFilePattern("context"),
        runFilePattern("ledger"),
        runFilePattern("owners"),
        runFilePattern("results"),
        runFilePattern("previous"),
      ),
    },
    {
      Sid: "ListRunResultsAndOwners",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: i.bucketArn,
      Condition: {
        StringLike: {
          "s3:prefix": [under(i.prefix, runFilePattern("results")), under(i.prefix, runFilePattern("owners"))],
        },
      },
    },
    writeReportsStatement(i),
    {
      // Each scan's files are written with S3 Object Lock retention (GOVERNANCE, evidenceRetentionDays):
      // a PutObject (or CreateMultipartUpload) carrying x-amz-object-lock-mode and
      // x-amz-object-lock-retain-until-date needs s3:PutObjectRetention besides s3:PutObject ("Object
      // Lock — Required permissions", S3 user guide object-lock.html). Under scans/ only: latest/ is
      // rewritten every run and never locked. No s3:BypassGovernanceRetention: Publish cannot shorten
      // or remove a lock, nor delete a locked version.
      Sid: "LockScanFiles",
      Effect: "Allow",
      Action: "s3:PutObjectRetention",
      Resource: objects(i, `${TOP_FOLDERS.scans}*`),
    },
    {
      // For the quarantine sweep after it: who the run found with a console password and no MFA; and
      // the run's pace, which the next run's Map concurrency follows.
      Sid: "WriteConsoleUsersWithoutMfaAndPace",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: objects(i, runFilePattern("withoutMfa"), stateFilePattern("pace")),
    },
    {
      // The history Athena and DuckDB query (docs/history.md): one file per table and scan, exactly
      // these names; multipart above 8 MB, so an upload that fails is aborted. Never read, never locked.
      Sid: "WriteHistory",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: objects(i, ...HISTORY_TABLES.map(historyFilePattern)),
    },
    {
      // latest/ is a server-side copy of the scan just stored: CopyObject reads its source.
      Sid: "CopyStoredScanToLatest",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: objects(i, `${TOP_FOLDERS.scans}*`),
    },
    reportKeyStatement(i),
    ...digestAndOwnHubStatements(i),
  ];
}

/**
 * Enforce: the member enforcer roles (in this organization only), which may only move users into and
 * out of the quarantine group; the deployed scan configuration and the accounts' OU ids read (listed
 * only where missing would be a 403); for the daily sweep, the run's context, ledger and console users
 * without MFA read, its record written, and the changes announced on the digest topic.
 */
export function enforceStatements(i: ScannerPolicyInput & { enforcerRoleName: string }): IamStatement[] {
  return [
    {
      Sid: "AssumeMemberEnforcerRoles",
      Effect: "Allow",
      Action: "sts:AssumeRole",
      Resource: `arn:${i.partition}:iam::*:role/${i.enforcerRoleName}`,
      Condition: { StringEquals: { "aws:ResourceOrgID": i.organizationId } },
    },
    {
      Sid: "ReadScanConfigAccountOusAndTheRunsSweepInput",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: objects(
        i,
        "config/scan-config.json",
        stateFilePattern("accountOus"),
        runFilePattern("context"),
        runFilePattern("ledger"),
        runFilePattern("withoutMfa"),
      ),
    },
    {
      Sid: "ListAccountOusOnly",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: i.bucketArn,
      Condition: { StringLike: { "s3:prefix": under(i.prefix, stateFilePattern("accountOus")) } },
    },
    {
      Sid: "WriteTheSweepsAndTheEventsRecords",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: objects(i, runFilePattern("quarantine"), `${TOP_FOLDERS.quarantine}*`),
    },
    { Sid: "AnnounceChanges", Effect: "Allow", Action: "sns:Publish", Resource: i.topicArn },
    reportKeyStatement(i),
  ];
}

/**
 * What `orgmfa scan` needs besides assuming the audit roles ({@link scannerAssumeStatement}) when it
 * delivers everywhere (`--s3-bucket`, `--s3-prefix` anywhere under the prefix, `--sns-topic-arn`,
 * `--security-hub`): the reports read and written under the prefix (it reads only the previous
 * `latest/report.json`), that one key listed (so a first scan finds none rather than a 403), the key,
 * the digest and its own Security Hub. Not deployed by the CDK app (its functions have the roles above);
 * the emulator's seed gives it to the identity the CLI runs as.
 */
export function cliDeliveryStatements(i: ScannerPolicyInput): IamStatement[] {
  return [
    {
      Sid: "ReportsUnderThePrefix",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: objects(i, "*"),
    },
    listLatestReportStatement(i),
    reportKeyStatement(i),
    ...digestAndOwnHubStatements(i),
  ];
}

/**
 * The operator: the role a person assumes in the scanning account to run `orgmfa doctor` and `orgmfa
 * scan` (the member template's `OperatorRoleName`, an IAM role or an IAM Identity Center permission
 * set's role). The audit roles of this organization — the management account's too, for
 * `--org-role-arn` discovery — and the read-only calls `orgmfa doctor` makes in the scanning account
 * to check the deployment's prerequisites (a CloudTrail trail logging management events; Lambda's
 * concurrency); without those two, doctor reports them "not verified". Nothing in the report bucket:
 * its files are the deployed workflow's (the evidence Publish locks); to deliver from the CLI to a
 * bucket and topic of your own, add {@link cliDeliveryStatements} for them. The CDK app deploys exactly
 * these as the managed policy `OrgMfaOperatorPolicy` in the scanning account (attached to nothing: an
 * IAM role attaches it, an Identity Center permission set references it by name); the emulator's seed
 * gives them to its operator role.
 */
export function operatorStatements(
  i: Pick<ScannerPolicyInput, "partition" | "organizationId" | "auditRoleName">,
): IamStatement[] {
  return [
    scannerAssumeStatement(i),
    {
      // DescribeTrails and GetAccountSettings have no resource type; GetTrailStatus and
      // GetEventSelectors name a trail that may be another account's (an organization trail).
      Sid: "DoctorPrerequisiteReads",
      Effect: "Allow",
      Action: [
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "lambda:GetAccountSettings",
      ],
      Resource: "*",
    },
  ];
}

/** The managed policy the CDK app deploys for the operator (`operatorRoleName`), by this name. */
export const OPERATOR_POLICY_NAME = "OrgMfaOperatorPolicy";
