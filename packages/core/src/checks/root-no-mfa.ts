import { rootIsJudged, rootOf } from "../root";
import { rootEvidence } from "./root-evidence";
import { defineRule, label, ROOT_MFA_DOC } from "./rule";

/** ROOT_NO_MFA: root has credentials and no MFA device (Security Hub IAM.9). */
export const rootNoMfa = defineRule({
  checkId: "ROOT_NO_MFA",
  severity: "CRITICAL",
  enabledByDefault: true,
  controls: ["IAM.9", "IAM.6", "CIS v7.0 2.5", "CIS v7.0 2.6", "CIS v3.0 1.5", "CIS v3.0 1.6"],
  principals: ["root"],
  headline: "withoutMfa",

  description: "The root user has credentials (password, access key or signing certificate) and no MFA device.",
  remediation:
    "Enable a hardware or FIDO2 MFA device for the root user, or remove the root credentials (centralized root access in AWS Organizations).",
  remediationUrl: ROOT_MFA_DOC,
  asffType: "Software and Configuration Checks/AWS Security Best Practices/Root MFA",
  needs: "iam:GetAccountSummary (root credentials and MFA), the credential report's root row as fallback",
  evaluate({ outcome, target, policy }) {
    const root = rootOf(outcome);
    if (!root) return [];
    const { judged, failClosed } = rootIsJudged(root);
    if (!judged || root.mfaEnabled !== false) return [];
    return [
      {
        checkId: "ROOT_NO_MFA",
        principalArn: root.arn,
        userName: null,
        title: `Root user of ${label(target)} has credentials and no MFA`,
        evidence: rootEvidence(root, policy, failClosed),
      },
    ];
  },
});
