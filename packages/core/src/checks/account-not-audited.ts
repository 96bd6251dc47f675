import { defineRule, label } from "./rule";

const WHAT_TO_DO: Record<string, string> = {
  ASSUME_ROLE_DENIED:
    "Deploy the member template (stacksets/member-audit-role.yaml) to this account, or check that its trust policy names the scanner account, role and organization.",
  STS_REGION_DISABLED:
    "STS is not active in the scanning region for this account: activate it in the account's IAM settings (Account settings, Security Token Service (STS), Endpoints), or scan from a region that is active in every account (us-east-1 always is).",
  CREDENTIAL_REPORT_UNAVAILABLE:
    "IAM could not produce a credential report and the live fallback failed; re-run the scan.",
  THROTTLED: "IAM throttled the scan beyond the retry budget; re-run with a lower --concurrency.",
  TIMEOUT: "The account did not finish within the per-account time limit; re-run, or raise the limit.",
  ERROR: "Unexpected error; see the error code and message.",
};

/** ACCOUNT_NOT_AUDITED: an in-scope account could not be scanned (coverage). */
export const accountNotAudited = defineRule({
  checkId: "ACCOUNT_NOT_AUDITED",
  severity: "HIGH",
  enabledByDefault: true,
  controls: [],
  principals: ["account"],
  headline: "notAudited",

  description: "orgmfa could not audit this account, so its users' MFA state is unknown.",
  remediation:
    "Deploy the orgmfa member template (StackSet) to the account, or fix the error named in the finding, then scan again.",
  remediationUrl:
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html",
  asffType: "Software and Configuration Checks/Coverage/Account Not Audited",
  needs: "sts:AssumeRole of the audit role (--role-name) in every in-scope account",
  evaluate({ outcome, target }) {
    if (outcome.kind !== "failure") return [];
    return [
      {
        checkId: "ACCOUNT_NOT_AUDITED",
        principalArn: null,
        userName: null,
        title: `Account ${label(target)} could not be audited (${outcome.reason})`,
        evidence: {
          reason: outcome.reason,
          error: outcome.error,
          recommendation: WHAT_TO_DO[outcome.reason],
        },
      },
    ];
  },
});
