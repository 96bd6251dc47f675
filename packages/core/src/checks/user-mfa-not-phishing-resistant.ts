import { DEVICE_CLASS_INFO, deviceClass } from "../devices";
import type { MfaDevice } from "../facts";
import { rootDevices, rootIsJudged, rootOf } from "../root";
import { defineRule, type FindingDraft, hasActiveCredential, hasMfa, IAM_MFA_DOC, label, userEvidence } from "./rule";

const resists = (d: MfaDevice) => DEVICE_CLASS_INFO[deviceClass(d)].phishingResistant;
const weak = (devices: MfaDevice[]) => devices.length > 0 && !devices.some(resists);
const classes = (devices: MfaDevice[]) => devices.map((d) => ({ serialNumber: d.serialNumber, class: deviceClass(d) }));

/**
 * USER_MFA_NOT_PHISHING_RESISTANT (off by default; one switch: `checks.USER_MFA_NOT_PHISHING_RESISTANT.enabled`,
 * or its synonym `requirePhishingResistantMfa`): a user, or root, whose
 * enabled devices are all virtual, hardware TOTP or SMS. Users without MFA are the other checks'.
 * Devices are judged by class (devices.ts): FIDO security keys and passkeys resist phishing.
 * Root is raised only when its device list is complete (`devicesComplete`, read through an
 * sts:AssumeRoot session): a member role sees root's virtual devices only, never its FIDO, passkey or hardware
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
    const users = outcome.kind === "facts" ? outcome.users : [];
    const drafts: FindingDraft<"USER_MFA_NOT_PHISHING_RESISTANT">[] = users
      .filter((u) => hasActiveCredential(u) && hasMfa(u) && weak(u.mfaDevices))
      .map((u) => ({
        checkId: "USER_MFA_NOT_PHISHING_RESISTANT" as const,
        principalArn: u.arn,
        userName: u.userName,
        title: `IAM user ${u.userName} has no phishing-resistant (FIDO) MFA device`,
        evidence: { ...userEvidence(u), devices: classes(u.mfaDevices) },
      }));
    const root = rootOf(outcome);
    if (
      root &&
      rootIsJudged(root).judged &&
      root.mfaEnabled === true &&
      root.devicesComplete === true &&
      weak(rootDevices(root))
    ) {
      drafts.push({
        checkId: "USER_MFA_NOT_PHISHING_RESISTANT",
        principalArn: root.arn,
        userName: null,
        title: `Root user of ${label(target)} has no phishing-resistant (FIDO) MFA device`,
        evidence: { devices: classes(rootDevices(root)), devicesComplete: true, via: root.via ?? "MEMBER_ROLE" },
      });
    }
    return drafts;
  },
});
