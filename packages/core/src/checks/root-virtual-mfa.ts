import { deviceClass } from "../devices";
import { rootDevices, rootIsJudged, rootOf } from "../root";
import { rootEvidence } from "./root-evidence";
import { defineRule, label, ROOT_MFA_DOC } from "./rule";

/** ROOT_VIRTUAL_MFA: root has credentials and at least one virtual MFA device (Security Hub IAM.6). */
export const rootVirtualMfa = defineRule({
  checkId: "ROOT_VIRTUAL_MFA",
  severity: "CRITICAL",
  enabledByDefault: true,
  controls: ["IAM.6", "CIS v7.0 2.6", "CIS v3.0 1.6"],
  principals: ["root"],
  headline: "weakMfa",

  description: "The root user has credentials and uses a virtual MFA device.",
  remediation:
    "Replace the root user's virtual MFA device with a hardware or FIDO2 security key, or remove the root credentials.",
  remediationUrl: ROOT_MFA_DOC,
  asffType: "Software and Configuration Checks/AWS Security Best Practices/Root Hardware MFA",
  needs: "iam:GetAccountSummary and iam:ListVirtualMFADevices (root's assigned virtual device)",
  evaluate({ outcome, target, policy }) {
    const root = rootOf(outcome);
    if (!root) return [];
    const { judged, failClosed } = rootIsJudged(root);
    if (!judged || root.mfaEnabled === false) return [];
    // An authenticator app among root's devices (Config's root-account-hardware-mfa-enabled: any
    // virtual device permitted for root is NON_COMPLIANT), whatever else root has.
    if (!rootDevices(root).some((d) => deviceClass(d) === "AUTHENTICATOR_APP")) return [];
    return [
      {
        checkId: "ROOT_VIRTUAL_MFA",
        principalArn: root.arn,
        userName: null,
        title: `Root user of ${label(target)} uses a virtual MFA device instead of a hardware or FIDO device`,
        evidence: rootEvidence(root, policy, failClosed),
      },
    ];
  },
});
