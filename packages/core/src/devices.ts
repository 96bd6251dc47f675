import type { DeviceType, MfaDevice } from "./facts";

/**
 * Classifies an MFA device by its serial number (docs/checks.md, "Device classes").
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

/** Builds a device record, classifying it from its serial; `certifications` as GetMFADevice returned them. */
export function toDevice(
  serialNumber: string,
  enabledAt: Date | string | null | undefined,
  certifications?: Record<string, string>,
): MfaDevice {
  return {
    serialNumber,
    type: classifyDevice(serialNumber),
    enabledAt: enabledAt == null ? null : new Date(enabledAt).toISOString(),
    ...(certifications ? { certifications } : {}),
  };
}

/** Phishing-resistant devices: FIDO security keys and passkeys. */
export function isPhishingResistant(type: DeviceType): boolean {
  return type === "FIDO";
}

/**
 * What a device is, by what it resists (docs/checks.md, "Device classes"):
 * - `AUTHENTICATOR_APP`: a virtual TOTP device; its secret lives on a phone or in a password manager
 *   and can be copied; its codes can be phished.
 * - `HARDWARE_TOTP`: a hardware TOTP token; its secret cannot be copied off the token; its codes can
 *   be phished.
 * - `SECURITY_KEY`: a FIDO authenticator that GetMFADevice reports certified (FIDO Alliance level or
 *   FIPS 140 validation, from the FIDO Metadata Service): phishing-resistant and hardware-bound.
 * - `PASSKEY`: a FIDO authenticator with no certification (GetMFADevice was read and named none): a
 *   passkey (synced or device-bound) or an uncertified key; phishing-resistant.
 * - `FIDO`: a FIDO authenticator whose certifications were not read: a security key or a passkey,
 *   not told apart (both share the serial form `arn:…:u2f/…`); phishing-resistant.
 * - `SMS`: a legacy SMS device; phishable and open to SIM swap.
 */
export const DEVICE_CLASSES = ["SECURITY_KEY", "PASSKEY", "FIDO", "HARDWARE_TOTP", "AUTHENTICATOR_APP", "SMS"] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

/** What each class resists: the properties the checks and the report use. */
export const DEVICE_CLASS_INFO: Record<
  DeviceClass,
  { label: string; phishingResistant: boolean; hardwareBound: boolean | null }
> = {
  SECURITY_KEY: { label: "FIDO security key (certified)", phishingResistant: true, hardwareBound: true },
  PASSKEY: { label: "passkey (FIDO, no certification)", phishingResistant: true, hardwareBound: null },
  FIDO: { label: "FIDO security key or passkey", phishingResistant: true, hardwareBound: null },
  HARDWARE_TOTP: { label: "hardware TOTP token", phishingResistant: false, hardwareBound: true },
  AUTHENTICATOR_APP: { label: "authenticator app (virtual)", phishingResistant: false, hardwareBound: false },
  SMS: { label: "SMS (legacy)", phishingResistant: false, hardwareBound: false },
};

/** A device's class (see {@link DEVICE_CLASSES}). */
export function deviceClass(device: Pick<MfaDevice, "type" | "certifications">): DeviceClass {
  switch (device.type) {
    case "VIRTUAL":
      return "AUTHENTICATOR_APP";
    case "HARDWARE":
      return "HARDWARE_TOTP";
    case "SMS":
      return "SMS";
    case "FIDO":
      if (device.certifications === undefined) return "FIDO";
      return Object.keys(device.certifications).length > 0 ? "SECURITY_KEY" : "PASSKEY";
  }
}

/** One line for a person: the class and, where AWS named them, the certifications. */
export function describeDevice(device: Pick<MfaDevice, "type" | "certifications">): string {
  const c = device.certifications;
  const certs =
    c && Object.keys(c).length
      ? ` (${Object.entries(c)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")})`
      : "";
  return `${DEVICE_CLASS_INFO[deviceClass(device)].label}${certs}`;
}
