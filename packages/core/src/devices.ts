import type { DeviceType, MfaDevice } from "./facts";

/**
 * Classifies an MFA device by its serial number (docs/checks.md).
 *
 * @example classifyDevice("arn:aws:iam::111122223333:u2f/user/alice/key-ABC") // "FIDO"
 */
export function classifyDevice(serialNumber: string): DeviceType {
  if (!serialNumber.startsWith("arn:")) return "HARDWARE";
  if (serialNumber.includes(":u2f/")) return "FIDO";
  if (serialNumber.includes(":sms-mfa/")) return "SMS";
  // ":mfa/" and any other ARN form IAM uses for authenticator apps.
  return "VIRTUAL";
}

/** Builds a device record, classifying it from its serial. */
export function toDevice(serialNumber: string, enabledAt: Date | string | null | undefined): MfaDevice {
  return {
    serialNumber,
    type: classifyDevice(serialNumber),
    enabledAt: enabledAt == null ? null : new Date(enabledAt).toISOString(),
  };
}

/** Phishing-resistant devices: FIDO security keys and passkeys. */
export function isPhishingResistant(type: DeviceType): boolean {
  return type === "FIDO";
}
