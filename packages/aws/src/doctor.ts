import { DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailStatusCommand } from "@aws-sdk/client-cloudtrail";
import {
  GenerateCredentialReportCommand,
  GetAccountSummaryCommand,
  GetCredentialReportCommand,
  GetLoginProfileCommand,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListUsersCommand,
  ListVirtualMFADevicesCommand,
} from "@aws-sdk/client-iam";
import { GetAccountSettingsCommand } from "@aws-sdk/client-lambda";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { GetFindingsCommand } from "@aws-sdk/client-securityhub";
import { GetTopicAttributesCommand } from "@aws-sdk/client-sns";
import type { AccountTarget } from "@orgmfa/core";
import pLimit from "p-limit";
import type { ClientPool } from "./client-pool";
import { errorCode, errorMessage } from "./errors";

/** One finding of `orgmfa doctor`: what was checked, whether it holds, and the fix when it does not. */
export interface DoctorCheck {
  check: string;
  accountId: string | null;
  accountName: string | null;
  ok: boolean;
  /** What was found (also for a check that passed: what it proved). */
  detail: string;
  /** What to do; null when the check passed. */
  fix: string | null;
  /** A check that passed without proving everything (e.g. the topic exists but may not be read). */
  warning?: boolean;
}

export interface DoctorAccountOptions {
  /** Also check each account's Security Hub in this region. */
  securityHubRegion?: string;
  /** Accounts checked at once. @default 8 */
  concurrency?: number;
}

/** A user name no account has: a per-user read of it answers NoSuchEntity when permitted. */
const PROBE_USER = "orgmfa-doctor-probe-no-such-user";

const denied = (e: unknown) => /AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(errorCode(e));

/** Every IAM read the collector makes, and the answers that prove the permission is there. */
function iamProbes(pool: ClientPool, accountId: string) {
  const iam = pool.iam(accountId);
  const okCodes = /^(NoSuchEntity|ReportNotPresent|ReportInProgress|ReportExpired|CredentialReport)/;
  const probes: Array<[string, () => Promise<unknown>]> = [
    ["iam:GenerateCredentialReport", () => iam.send(new GenerateCredentialReportCommand({}))],
    ["iam:GetCredentialReport", () => iam.send(new GetCredentialReportCommand({}))],
    ["iam:ListUsers", () => iam.send(new ListUsersCommand({ MaxItems: 1 }))],
    ["iam:ListVirtualMFADevices", () => iam.send(new ListVirtualMFADevicesCommand({ MaxItems: 1 }))],
    ["iam:GetAccountSummary", () => iam.send(new GetAccountSummaryCommand({}))],
    ["iam:ListMFADevices", () => iam.send(new ListMFADevicesCommand({ UserName: PROBE_USER }))],
    ["iam:GetLoginProfile", () => iam.send(new GetLoginProfileCommand({ UserName: PROBE_USER }))],
    ["iam:ListAccessKeys", () => iam.send(new ListAccessKeysCommand({ UserName: PROBE_USER }))],
  ];
  return { probes, okCodes };
}

async function checkAccount(pool: ClientPool, t: AccountTarget, o: DoctorAccountOptions): Promise<DoctorCheck[]> {
  const row = (check: string, ok: boolean, detail: string, fix: string | null): DoctorCheck => ({
    check,
    accountId: t.accountId,
    accountName: t.accountName,
    ok,
    detail,
    fix,
  });
  try {
    await pool.credentialsFor(t.accountId)();
  } catch (e) {
    return [
      row(
        "audit role",
        false,
        `cannot assume ${pool.auditRoleArn(t.accountId)} (${errorCode(e)}: ${errorMessage(e)})`,
        `Deploy the member StackSet (stack OrgMfaMembers) to this account's OU (${t.ouPath}), or check --role-name and --external-id.`,
      ),
    ];
  }
  const checks = [row("audit role", true, `assumed ${pool.auditRoleArn(t.accountId)}`, null)];
  try {
    const { probes, okCodes } = iamProbes(pool, t.accountId);
    const missing: string[] = [];
    const other: string[] = [];
    for (const [action, call] of probes) {
      try {
        await call();
      } catch (e) {
        if (denied(e)) missing.push(action);
        else if (!okCodes.test(errorCode(e))) other.push(`${action}: ${errorCode(e)}`);
      }
    }
    if (missing.length)
      checks.push(
        row(
          "IAM reads",
          false,
          `denied: ${missing.join(", ")}`,
          "Update the member StackSet and the management stack to the current stacksets/member-audit-role.yaml.",
        ),
      );
    else if (other.length)
      checks.push(row("IAM reads", false, other.join("; "), "Run again; if it persists, see the error codes."));
    else checks.push(row("IAM reads", true, `every read the scan makes answers (${probes.length})`, null));

    if (o.securityHubRegion) {
      const region = o.securityHubRegion;
      try {
        await pool.securityHub(t.accountId, "audit-role").send(
          new GetFindingsCommand({
            MaxResults: 1,
            Filters: { AwsAccountId: [{ Value: t.accountId, Comparison: "EQUALS" }] },
          }),
        );
        checks.push(row("Security Hub", true, `enabled in ${region} and readable`, null));
      } catch (e) {
        const code = errorCode(e);
        checks.push(
          code === "InvalidAccessException"
            ? row(
                "Security Hub",
                false,
                `not enabled in ${region} (${code})`,
                `Enable Security Hub in this account in ${region} (organization auto-enable covers only accounts created after it was turned on): from the delegated administrator, aws securityhub create-members, or in the account, aws securityhub enable-security-hub.`,
              )
            : row(
                "Security Hub",
                false,
                `${code}: ${errorMessage(e)}`,
                denied(e)
                  ? "The audit role may not read its hub: update the member StackSet to the current template."
                  : "Run again; if it persists, see the error code.",
              ),
        );
      }
    }
  } finally {
    pool.release(t.accountId);
  }
  return checks;
}

/**
 * Pre-flight of every in-scope account, at most `concurrency` at once: the audit role can be
 * assumed, every IAM read the collector makes answers, and (optionally) Security Hub is enabled.
 */
export async function doctorAccounts(
  pool: ClientPool,
  targets: readonly AccountTarget[],
  o: DoctorAccountOptions = {},
): Promise<DoctorCheck[]> {
  const limit = pLimit(Math.max(1, o.concurrency ?? 8));
  const inScope = targets.filter((t) => t.skip === null);
  const perAccount = await Promise.all(inScope.map((t) => limit(() => checkAccount(pool, t, o))));
  return perAccount.flat();
}

/** A check of the scanning account itself (no member account): the bucket, the topic, a prerequisite. */
const row = (check: string, ok: boolean, detail: string, fix: string | null, warning = false): DoctorCheck => ({
  check,
  accountId: null,
  accountName: null,
  ok,
  detail,
  fix,
  ...(warning ? { warning } : {}),
});

/** The delivery targets the scanning identity writes to: the bucket and the topic. */
export async function doctorDelivery(
  pool: ClientPool,
  o: { s3?: { bucket: string; prefix: string }; snsTopicArn?: string },
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  if (o.s3) {
    const prefix = o.s3.prefix.replace(/^\/+|\/+$/g, "");
    const key = `${prefix ? `${prefix}/` : ""}latest/report.json`;
    try {
      await pool.s3().send(new ListObjectsV2Command({ Bucket: o.s3.bucket, Prefix: key, MaxKeys: 1 }));
      checks.push(row("S3 bucket", true, `s3://${o.s3.bucket}/${key} can be listed`, null));
    } catch (e) {
      const code = errorCode(e);
      checks.push(
        row(
          "S3 bucket",
          false,
          `s3://${o.s3.bucket}: ${code}: ${errorMessage(e)}`,
          code === "NoSuchBucket"
            ? "Check --s3-bucket (the OrgMfaCentral stack outputs ReportBucket)."
            : `The scanning identity needs s3:ListBucket for the prefix ${key}, and s3:GetObject/PutObject under ${prefix || "the bucket"}/.`,
        ),
      );
    }
  }
  if (o.snsTopicArn) {
    try {
      await pool.sns().send(new GetTopicAttributesCommand({ TopicArn: o.snsTopicArn }));
      checks.push(row("SNS topic", true, `${o.snsTopicArn} exists`, null));
    } catch (e) {
      const code = errorCode(e);
      checks.push(
        /NotFound/.test(code)
          ? row(
              "SNS topic",
              false,
              `${o.snsTopicArn}: ${code}`,
              "Check --sns-topic-arn (the stack outputs DigestTopicArn).",
            )
          : denied(e)
            ? row(
                "SNS topic",
                true,
                `not verified: ${code} on sns:GetTopicAttributes (publishing needs only sns:Publish, which doctor does not try: it would send a message)`,
                null,
                true,
              )
            : row("SNS topic", false, `${code}: ${errorMessage(e)}`, "Run again; if it persists, see the error code."),
      );
    }
  }
  return checks;
}

/** What the deployment runs at once, for the Lambda concurrency check (the deployment config's values). */
export interface DoctorPrerequisiteOptions {
  /** The quarantine is (to be) deployed: its IAM events need a trail, so a missing one is a gap. */
  quarantine: boolean;
  /** The Distributed Map's ceiling (`maxConcurrency`): ScanBatch invocations at once. */
  mapConcurrency: number;
  /** Accounts one ScanBatch scans at once (`accountConcurrency`). */
  accountConcurrency: number;
  /** Concurrency reserved for Enforce (`enforceReservedConcurrency`, with the quarantine). */
  enforceReservedConcurrency?: number;
}

/** IAM publishes its CloudTrail events in us-east-1 only. */
const IAM_EVENTS_REGION = "us-east-1";

type Trail = {
  TrailARN?: string;
  Name?: string;
  HomeRegion?: string;
  IsMultiRegionTrail?: boolean;
  IsOrganizationTrail?: boolean;
};

/** Whether a trail's selectors (basic or advanced) record management write events (IAM's changes are writes). */
export function logsManagementWrites(selectors: {
  EventSelectors?: Array<{ IncludeManagementEvents?: boolean; ReadWriteType?: string }>;
  AdvancedEventSelectors?: Array<{
    FieldSelectors?: Array<{ Field?: string; Equals?: string[]; NotEquals?: string[] }>;
  }>;
}): boolean {
  const basic = (selectors.EventSelectors ?? []).some(
    (s) => s.IncludeManagementEvents !== false && (s.ReadWriteType ?? "All") !== "ReadOnly",
  );
  const advanced = (selectors.AdvancedEventSelectors ?? []).some((s) => {
    const fields = s.FieldSelectors ?? [];
    const category = fields.find((f) => f.Field === "eventCategory");
    const readOnly = fields.find((f) => f.Field === "readOnly");
    const source = fields.find((f) => f.Field === "eventSource");
    return (
      !!category?.Equals?.includes("Management") &&
      !(readOnly?.Equals?.includes("true") ?? false) &&
      !(source?.NotEquals?.includes("iam.amazonaws.com") ?? false) &&
      (source?.Equals === undefined || source.Equals.includes("iam.amazonaws.com"))
    );
  });
  return basic || advanced;
}

/**
 * Prerequisites of the deployed workflow that no stack creates, checked as the caller (the central,
 * delegated-administrator account):
 *
 * - **CloudTrail**: IAM's changes reach EventBridge as "AWS API Call via CloudTrail" events only when a
 *   trail with logging on records them ("Events from AWS services", EventBridge user guide
 *   event-types.html: "To record events with a detail-type value of AWS API Call via CloudTrail, a
 *   CloudTrail trail with logging enabled is required"); IAM's arrive in us-east-1. So a trail that
 *   covers us-east-1 (multi-region, or homed there), is logging (GetTrailStatus) and records management
 *   write events (GetEventSelectors). An organization trail covers every member account; a trail of this
 *   account alone does not. A gap with the quarantine; a warning without it (the scan does not need it).
 * - **Lambda concurrency**: the account's quota (GetAccountSettings: AccountLimit.ConcurrentExecutions
 *   and UnreservedConcurrentExecutions) against what a run takes at once: up to `mapConcurrency`
 *   ScanBatch invocations (one per batch; each scans `accountConcurrency` accounts inside itself, which
 *   costs no Lambda concurrency), plus Owners and Publish, plus Enforce's reservation.
 *
 * Each read that is denied or unavailable is a warning (not verified), never a pass.
 */
export async function doctorPrerequisites(pool: ClientPool, o: DoctorPrerequisiteOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const trailFix =
    "Create a trail that logs management events (read/write All or WriteOnly) and covers us-east-1 — best an organization trail from the management account: aws cloudtrail create-trail --name org-trail --s3-bucket-name <bucket> --is-multi-region-trail --is-organization-trail, then aws cloudtrail start-logging --name org-trail.";
  try {
    const ct = pool.cloudTrail(IAM_EVENTS_REGION);
    const trails = ((await ct.send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList ??
      []) as Trail[];
    const covering = trails.filter((t) => t.IsMultiRegionTrail || t.HomeRegion === IAM_EVENTS_REGION);
    const found: string[] = [];
    const unverified: string[] = [];
    for (const t of covering) {
      const name = t.TrailARN ?? t.Name ?? "";
      try {
        const status = await ct.send(new GetTrailStatusCommand({ Name: name }));
        const selectors = await ct.send(new GetEventSelectorsCommand({ TrailName: name }));
        if (status.IsLogging && logsManagementWrites(selectors))
          found.push(`${t.Name ?? name}${t.IsOrganizationTrail ? " (organization trail)" : ""}`);
      } catch (e) {
        unverified.push(`${t.Name ?? name}: ${errorCode(e)}`);
      }
    }
    const why = "IAM's CloudTrail events (us-east-1) reach EventBridge, as the quarantine needs";
    if (found.length)
      checks.push(row("CloudTrail", true, `${found.join(", ")} logs management events in us-east-1: ${why}`, null));
    else if (unverified.length)
      checks.push(
        row(
          "CloudTrail",
          true,
          `not verified: a trail covers us-east-1 but its status or event selectors could not be read (${unverified.join("; ")})`,
          null,
          true,
        ),
      );
    else {
      const detail = `no trail that is logging management events covers us-east-1 (${trails.length} trail(s) seen): IAM's changes never reach EventBridge`;
      checks.push(
        o.quarantine
          ? row("CloudTrail", false, `${detail}, so the quarantine acts only at the daily sweep`, trailFix)
          : row(
              "CloudTrail",
              true,
              `${detail} (the scan does not need it; the quarantine would). ${trailFix}`,
              null,
              true,
            ),
      );
    }
  } catch (e) {
    checks.push(
      row(
        "CloudTrail",
        true,
        `not verified: ${errorCode(e)} on cloudtrail:DescribeTrails in us-east-1 (doctor needs cloudtrail:DescribeTrails, GetTrailStatus and GetEventSelectors)`,
        null,
        true,
      ),
    );
  }

  // One invocation per batch at once, plus Owners beside the Map and Publish after it.
  const needed = o.mapConcurrency + 2;
  const reserved = o.enforceReservedConcurrency ?? 0;
  try {
    const r = await pool.lambda().send(new GetAccountSettingsCommand({}));
    const limit = r.AccountLimit?.ConcurrentExecutions;
    const unreserved = r.AccountLimit?.UnreservedConcurrentExecutions;
    if (limit === undefined || unreserved === undefined)
      checks.push(
        row("Lambda concurrency", true, "not verified: GetAccountSettings returned no AccountLimit", null, true),
      );
    else {
      // Reserving Enforce's share takes it from the unreserved pool (unless it is already reserved).
      const available = unreserved - reserved;
      const detail = `account quota ${limit}, unreserved ${unreserved}${reserved ? `, ${reserved} for Enforce` : ""}; a run takes up to ${needed} at once (${o.mapConcurrency} ScanBatch batches of ${o.accountConcurrency} accounts each, Owners, Publish)`;
      checks.push(
        needed <= available
          ? row("Lambda concurrency", true, detail, null)
          : row(
              "Lambda concurrency",
              false,
              `${detail}: batches beyond ${available} are throttled (retried, then failed and reported FAILED)`,
              `Lower maxConcurrency in the deployment config to at most ${Math.max(1, available - 2)}, or ask for a higher "Concurrent executions" quota (Service Quotas → AWS Lambda → Concurrent executions).`,
            ),
      );
    }
  } catch (e) {
    checks.push(
      row(
        "Lambda concurrency",
        true,
        `not verified: ${errorCode(e)} on lambda:GetAccountSettings (a run takes up to ${needed} concurrent executions)`,
        null,
        true,
      ),
    );
  }
  return checks;
}
