import { deviceClass } from "../devices";
import type { RootFacts } from "../facts";
import { type RootBasis, rootDevices, rootIsJudged } from "../root";
import type { RulePolicy } from "./rule";

export function rootEvidence(root: RootFacts, policy: RulePolicy, failClosed: boolean): Record<string, unknown> {
  const basis: RootBasis | null = rootIsJudged(root).basis;
  const evidence: Record<string, unknown> = {
    credentials: root.credentials,
    password: root.password,
    activeAccessKeys: root.activeAccessKeys,
    activeSigningCertificates: root.activeSigningCertificates,
    mfaEnabled: root.mfaEnabled,
    virtualDevices: root.virtualDevices.map((d) => d.serialNumber),
    // Every device with its class where root was read through sts:AssumeRoot; the virtual ones otherwise.
    devices: rootDevices(root).map((d) => ({ serialNumber: d.serialNumber, class: deviceClass(d) })),
    source: root.source,
    via: root.via ?? "MEMBER_ROLE",
    devicesComplete: root.devicesComplete === true,
    recommendation:
      policy.rootCredentialsManagement === true
        ? "Centralized root access is enabled for this organization: remove this account's root credentials (password, access keys, signing certificates) from the management account instead of adding MFA."
        : "Enable a FIDO security key or hardware MFA device for the root user, or enable centralized root access and remove the root credentials.",
  };
  if (basis === "mfaEvidence") {
    evidence.note =
      "Whether root has a password is unknown (GetAccountSummary did not report AccountPasswordPresent and no credential report row said); root has MFA on with a virtual device assigned, so it is judged from that.";
  }
  if (failClosed) {
    evidence.note =
      "Root credential state could not be read; AccountMFAEnabled is 0, so root is treated as having credentials (fail closed).";
  }
  return evidence;
}
