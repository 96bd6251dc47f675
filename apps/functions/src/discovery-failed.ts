import {
  type ClientPool,
  type DiscoveryFailedEvent,
  discoveryFilters,
  newScanId,
  publishDigest,
  reportRun,
  storeScan,
} from "@orgmfa/aws";
import { buildReport, OrgMfaError, parseConfig, policyFromConfig } from "@orgmfa/core";
import { snsSubject } from "@orgmfa/render";

export { type DiscoveryFailedEvent, isDiscoveryFailed } from "@orgmfa/aws";

import type { Settings } from "./runtime";

/** Thrown by Publish after reporting a failed discovery: the execution fails, and the RunFailed alarm fires. */
export class DiscoveryFailedError extends OrgMfaError {
  readonly kind = "aws";
}

/** Step Functions' error and cause, in one line a person can read (a Lambda error's cause is its JSON). */
export function discoveryErrorText(e: DiscoveryFailedEvent["discoveryError"]): string {
  let cause = e.Cause ?? "";
  try {
    const parsed = JSON.parse(cause) as { errorType?: string; errorMessage?: string };
    if (parsed && typeof parsed === "object" && parsed.errorMessage)
      cause = `${parsed.errorType ? `${parsed.errorType}: ` : ""}${parsed.errorMessage}`;
  } catch {
    // not JSON: the cause as Step Functions gave it
  }
  const text = [e.Error, cause].filter(Boolean).join(" — ");
  return (text || "unknown error").replace(/\s+/g, " ").slice(0, 2000);
}

/**
 * The report and digest of a run whose discovery failed. No account was listed, so none was audited:
 * the report (under `scans/` only — `latest/` keeps the last real scan, which the next run compares
 * with) has no account and a `discovery` warning naming the error, its verdict reads "nothing was
 * scanned", never an all-clear; the digest's subject says the scan failed and that MFA is unknown.
 * Security Hub is left as it is (nothing was audited, so nothing may be archived). Then it throws, so
 * the execution fails and the RunFailed alarm tells the digest topic too.
 */
export async function publishDiscoveryFailure(
  event: DiscoveryFailedEvent,
  s: Settings,
  pool: ClientPool,
  onMetric: (name: string, value: number) => void,
): Promise<never> {
  const now = new Date();
  const scanId = newScanId(now);
  const error = discoveryErrorText(event.discoveryError);
  const headline = `The organization could not be listed (${error}): no account was audited, so the MFA of every account is unknown. This is not an all-clear.`;
  const config = parseConfig({}, "the defaults");
  const caller = await pool.whoAmI();
  const policy = policyFromConfig(config);
  const report = buildReport({
    scanId,
    toolVersion: s.ORGMFA_VERSION,
    startedAt: now,
    finishedAt: now,
    organizationId: null,
    partition: pool.partition,
    targets: [],
    policy,
    previous: null,
    warnings: [{ field: "discovery", message: headline }],
    run: reportRun({
      callerArn: s.SCANNER_ROLE_ARN ?? caller.arn,
      region: s.AWS_REGION,
      filters: discoveryFilters(config),
      configSha256: null,
      policy,
    }),
  });
  const problems: string[] = [];
  let reportUri: string | null = null;
  try {
    const stored = await storeScan(
      pool.s3(),
      {
        bucket: s.REPORT_BUCKET,
        prefix: s.REPORT_PREFIX,
        kmsKeyId: s.KMS_KEY_ID,
        latest: false,
        ...(s.EVIDENCE_RETENTION_DAYS
          ? {
              retention: {
                mode: "GOVERNANCE",
                until: new Date(now.getTime() + s.EVIDENCE_RETENTION_DAYS * 86_400_000),
              },
            }
          : {}),
      },
      report,
      { report },
    );
    reportUri = `${stored.scanUri}report.html`;
  } catch (e) {
    problems.push(`s3: ${(e as Error).name}: ${(e as Error).message}`);
  }
  if (s.DIGEST_TOPIC_ARN) {
    const message = [
      `orgmfa scan ${scanId} FAILED at ${now.toISOString()}: the organization could not be listed.`,
      "",
      "Users without MFA: unknown. No account was audited, so this is not an all-clear.",
      "",
      `Discovery failed: ${error}`,
      "",
      "What to do: see the Discover function's log and the Step Functions execution. The usual causes are",
      "the management account's audit role (OrgMfaManagement stack) not assumable by the Discover role,",
      "Organizations throttling the walk past Discover's time limit, or an invalid scan configuration",
      "object. Then start the state machine again.",
      "",
      reportUri
        ? `Report of this failed run: ${reportUri} (latest/ still holds the last complete scan).`
        : "No report of this failed run could be written.",
      ...(problems.length ? ["", "Not delivered:", ...problems.map((p) => `  - ${p}`)] : []),
    ].join("\n");
    await publishDigest(pool.sns(), s.DIGEST_TOPIC_ARN, {
      subject: snsSubject(`orgmfa: scan FAILED - organization could not be listed, users without MFA unknown`),
      message,
    });
  }
  onMetric("DiscoveryFailed", 1);
  onMetric("Coverage", 0);
  throw new DiscoveryFailedError(`${headline}${problems.length ? ` Not delivered: ${problems.join("; ")}` : ""}`);
}
