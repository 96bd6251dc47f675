import { isPhishingResistant } from "../devices";
import type { MfaDevice } from "../facts";
import { rootIsJudged } from "../root";
import { defineRule, type FindingDraft, hasActiveCredential, hasMfa, IAM_MFA_DOC, label, userEvidence } from "./rule";

const weak = (devices: MfaDevice[]) => devices.length > 0 && !devices.some((d) => isPhishingResistant(d.type));

/**
 * USER_MFA_NOT_PHISHING_RESISTANT (off by default; one switch: `checks.USER_MFA_NOT_PHISHING_RESISTANT.enabled`,
 * or its synonym `requirePhishingResistantMfa`): a user, or root, whose
 * enabled devices are all virtual, hardware TOTP or SMS. Users without MFA are the other checks'.
 * Root is raised only when its device list is complete (`devicesComplete`, read as root or through
 * sts:AssumeRoot): a member role sees root's virtual devices only, never its FIDO, passkey or hardware
 * devices, so root with a virtual device and a passkey must not be told it has no phishing-resistant
 * device.
 */
export const userMfaNotPhishingResistant = defineRule({
  checkId: "USER_MFA_NOT_PHISHING_RESISTANT",
  severity: "MEDIUM",
  enabledByDefault: false,
  controls: [],
  principals: ["user", "root"],
  headline: "weakMfa",

  description: "An IAM user's only MFA devices are not phishing-resistant (virtual or SMS).",
  remediation: "Register a FIDO2 security key or passkey for the user and remove the weaker devices.",
  remediationUrl: IAM_MFA_DOC,
  asffType: "Software and Configuration Checks/AWS Security Best Practices/Phishing-Resistant MFA",
  needs: `off by default: --checks USER_MFA_NOT_PHISHING_RESISTANT or config checks.USER_MFA_NOT_PHISHING_RESISTANT.enabled (or "requirePhishingResistantMfa": true); then iam:ListMFADevices for every user`,
  evaluate({ outcome, target }) {
    if (outcome.kind !== "facts") return [];
    const drafts: FindingDraft<"USER_MFA_NOT_PHISHING_RESISTANT">[] = outcome.users
      .filter((u) => hasActiveCredential(u) && hasMfa(u) && weak(u.mfaDevices))
      .map((u) => ({
        checkId: "USER_MFA_NOT_PHISHING_RESISTANT" as const,
        principalArn: u.arn,
        userName: u.userName,
        title: `IAM user ${u.userName} has no phishing-resistant (FIDO) MFA device`,
        evidence: userEvidence(u),
      }));
    const root = outcome.root;
    if (
      rootIsJudged(root).judged &&
      root.mfaEnabled === true &&
      root.devicesComplete === true &&
      weak(root.virtualDevices)
    ) {
      drafts.push({
        checkId: "USER_MFA_NOT_PHISHING_RESISTANT",
        principalArn: root.arn,
        userName: null,
        title: `Root user of ${label(target)} has no phishing-resistant (FIDO) MFA device`,
        evidence: { virtualDevices: root.virtualDevices.map((d) => d.serialNumber) },
      });
    }
    return drafts;
  },
});
