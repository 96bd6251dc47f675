import { defineRule, hasActiveCredential, hasMfa, IAM_MFA_DOC, userEvidence } from "./rule";

/**
 * USER_NO_MFA_NO_CREDENTIALS: an IAM user with no console password, no active access key and no
 * enabled MFA device. No way in today, but the gap opens the moment a credential is added, and
 * Security Hub's IAM.19 (AWS Config `iam-user-mfa-enabled`) counts the user as NON_COMPLIANT: this
 * check makes orgmfa's IAM.19 verdict the same as AWS's, at a low severity.
 */
export const userNoMfaNoCredentials = defineRule({
  checkId: "USER_NO_MFA_NO_CREDENTIALS",
  severity: "LOW",
  enabledByDefault: true,
  controls: ["IAM.19"],
  principals: ["user"],
  headline: "noCredential",
  description:
    "An IAM user has no MFA device and no credential today (no console password, no active access key): the gap opens the moment one is added.",
  remediation:
    "Enrol an MFA device before the user is given a password or an access key, or delete the user if it is not needed.",
  remediationUrl: IAM_MFA_DOC,
  asffType: "Software and Configuration Checks/AWS Security Best Practices/IAM User MFA",
  needs:
    "the credential report, iam:ListUsers; iam:ListMFADevices, iam:GetLoginProfile and iam:ListAccessKeys to confirm live",
  evaluate({ outcome }) {
    if (outcome.kind !== "facts") return [];
    return outcome.users
      .filter((u) => !hasActiveCredential(u) && !hasMfa(u))
      .map((u) => ({
        checkId: "USER_NO_MFA_NO_CREDENTIALS" as const,
        principalArn: u.arn,
        userName: u.userName,
        title: `IAM user ${u.userName} has no MFA device (and no credential yet)`,
        evidence: userEvidence(u),
      }));
  },
});
