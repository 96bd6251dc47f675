import { defineRule, hasMfa, IAM_MFA_DOC, userEvidence } from "./rule";

/**
 * USER_API_NO_MFA: an IAM user without a console password, with at least one active access key
 * and no enabled MFA device (IAM.19). Console users are USER_CONSOLE_NO_MFA's, never both.
 */
export const userApiNoMfa = defineRule({
  checkId: "USER_API_NO_MFA",
  severity: "MEDIUM",
  enabledByDefault: true,
  controls: ["IAM.19"],
  principals: ["user"],
  headline: "withoutMfa",

  description: "An IAM user with active access keys and no console password has no MFA device.",
  remediation:
    "Enrol an MFA device and require it for sensitive calls (aws:MultiFactorAuthPresent), or replace the access keys with roles.",
  remediationUrl: IAM_MFA_DOC,
  asffType: "Software and Configuration Checks/AWS Security Best Practices/IAM User MFA",
  needs: "the credential report, iam:ListUsers; iam:ListAccessKeys and iam:ListMFADevices to confirm live",
  evaluate({ outcome }) {
    if (outcome.kind !== "facts") return [];
    return outcome.users
      .filter((u) => !u.consoleAccess && u.activeAccessKeys > 0 && !hasMfa(u))
      .map((u) => ({
        checkId: "USER_API_NO_MFA" as const,
        principalArn: u.arn,
        userName: u.userName,
        title: `IAM user ${u.userName} has ${u.activeAccessKeys} active access key${u.activeAccessKeys === 1 ? "" : "s"} and no MFA`,
        evidence: userEvidence(u),
      }));
  },
});
