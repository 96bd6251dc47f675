import { defineRule, hasMfa, IAM_MFA_DOC, userEvidence } from "./rule";

/** USER_CONSOLE_NO_MFA: an IAM user with a console password and no enabled MFA device (IAM.5). */
export const userConsoleNoMfa = defineRule({
  checkId: "USER_CONSOLE_NO_MFA",
  severity: "HIGH",
  enabledByDefault: true,
  controls: ["IAM.5", "IAM.19", "CIS v7.0 2.10", "CIS v3.0 1.10"],
  principals: ["user"],
  headline: "withoutMfa",

  description: "An IAM user with a console password has no enabled MFA device.",
  remediation:
    "Have the user enrol an MFA device (a FIDO2 security key is best), or delete the login profile if the user does not need the console.",
  remediationUrl: IAM_MFA_DOC,
  asffType: "Software and Configuration Checks/AWS Security Best Practices/IAM User MFA",
  needs:
    "the credential report, iam:ListUsers, iam:ListVirtualMFADevices; iam:ListMFADevices and iam:GetLoginProfile to confirm live",
  evaluate({ outcome }) {
    if (outcome.kind !== "facts") return [];
    return outcome.users
      .filter((u) => u.consoleAccess && !hasMfa(u))
      .map((u) => ({
        checkId: "USER_CONSOLE_NO_MFA" as const,
        principalArn: u.arn,
        userName: u.userName,
        title: `IAM user ${u.userName} can sign in to the console without MFA`,
        evidence: userEvidence(u),
      }));
  },
});
