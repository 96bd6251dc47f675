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

/** The delivery targets the scanning identity writes to: the bucket and the topic. */
export async function doctorDelivery(
  pool: ClientPool,
  o: { s3?: { bucket: string; prefix: string }; snsTopicArn?: string },
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const row = (check: string, ok: boolean, detail: string, fix: string | null, warning = false): DoctorCheck => ({
    check,
    accountId: null,
    accountName: null,
    ok,
    detail,
    fix,
    ...(warning ? { warning } : {}),
  });
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
