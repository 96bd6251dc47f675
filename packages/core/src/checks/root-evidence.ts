import type { Policy, RootFacts } from "../types";

export function rootEvidence(root: RootFacts, policy: Policy, failClosed: boolean): Record<string, unknown> {
  const evidence: Record<string, unknown> = {
    credentials: root.credentials,
    password: root.password,
    activeAccessKeys: root.activeAccessKeys,
    activeSigningCertificates: root.activeSigningCertificates,
    mfaEnabled: root.mfaEnabled,
    virtualDevices: root.virtualDevices.map((d) => d.serialNumber),
    source: root.source,
    recommendation:
      policy.rootCredentialsManagement === true
        ? "Centralized root access is enabled for this organization: remove this account's root credentials (password, access keys, signing certificates) from the management account instead of adding MFA."
        : "Enable a FIDO security key or hardware MFA device for the root user, or enable centralized root access and remove the root credentials.",
  };
  if (failClosed) {
    evidence.note =
      "Root credential state could not be read; AccountMFAEnabled is 0, so root is treated as having credentials (fail closed).";
  }
  return evidence;
}
