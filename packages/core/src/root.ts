import type { AccountOutcome, CredentialReportRow, MfaDevice, RootCredentials, RootFacts, RootMfa } from "./facts";

/** The root user's ARN. Root is identified by this exact ARN, never by a name or substring. */
export function rootArn(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

/** The `SummaryMap` keys of `GetAccountSummary` that describe root. */
export interface AccountSummaryRoot {
  AccountPasswordPresent?: number;
  AccountAccessKeysPresent?: number;
  AccountSigningCertificatesPresent?: number;
  AccountMFAEnabled?: number;
}

function flag(v: number | undefined): boolean | null {
  return v === undefined ? null : v > 0;
}

function credentialsOf(parts: (boolean | null)[]): RootCredentials {
  if (parts.some((p) => p === true)) return "PRESENT";
  if (parts.every((p) => p === false)) return "ABSENT";
  return "UNKNOWN";
}

/**
 * Root state from the live source (`GetAccountSummary`), falling back to the credential report's
 * `<root_account>` row for anything the summary does not say, per docs/checks.md.
 */
export function rootFacts(input: {
  arn: string;
  summary: AccountSummaryRoot | null;
  reportRow: CredentialReportRow | null;
  virtualDevices: MfaDevice[];
}): RootFacts {
  // (devicesComplete stays absent: this is the member role's view, root's virtual devices only.)
  const { summary, reportRow } = input;
  const fromSummary = summary
    ? {
        password: flag(summary.AccountPasswordPresent),
        keys: flag(summary.AccountAccessKeysPresent),
        certs: flag(summary.AccountSigningCertificatesPresent),
        mfa: flag(summary.AccountMFAEnabled),
      }
    : null;
  const fromReport = reportRow
    ? {
        password: reportRow.passwordEnabled,
        keys: reportRow.activeAccessKeys === null ? null : reportRow.activeAccessKeys > 0,
        certs: reportRow.activeCertificates === null ? null : reportRow.activeCertificates > 0,
        mfa: reportRow.mfaActive,
      }
    : null;
  const pick = (k: "password" | "keys" | "certs" | "mfa"): boolean | null =>
    fromSummary?.[k] ?? fromReport?.[k] ?? null;
  const password = pick("password");
  const keys = pick("keys");
  const certs = pick("certs");
  return {
    arn: input.arn,
    credentials: credentialsOf([password, keys, certs]),
    password,
    activeAccessKeys: keys,
    activeSigningCertificates: certs,
    mfaEnabled: pick("mfa") ?? (input.virtualDevices.length > 0 ? true : null),
    virtualDevices: input.virtualDevices,
    source: fromSummary ? "GetAccountSummary" : fromReport ? "CredentialReport" : null,
  };
}

/**
 * Root as an sts:AssumeRoot session with the task policy `IAMAuditRootUserCredentials` reads it
 * (docs/aws-semantics.md §3): its login profile (NoSuchEntity: no password), its access keys and
 * signing certificates (active ones count), and every MFA device it has. Every part is known, so the
 * device list is complete.
 */
export function rootFromSession(input: {
  arn: string;
  password: boolean;
  activeAccessKeys: number;
  activeSigningCertificates: number;
  devices: MfaDevice[];
}): RootFacts {
  const keys = input.activeAccessKeys > 0;
  const certs = input.activeSigningCertificates > 0;
  return {
    arn: input.arn,
    credentials: credentialsOf([input.password, keys, certs]),
    password: input.password,
    activeAccessKeys: keys,
    activeSigningCertificates: certs,
    mfaEnabled: input.devices.length > 0,
    virtualDevices: input.devices.filter((d) => d.type === "VIRTUAL"),
    devices: input.devices,
    devicesComplete: true,
    via: "ASSUME_ROOT",
    source: "AssumeRoot",
  };
}

/** Every device of root that is known: all of them through AssumeRoot, the virtual ones through a member role. */
export function rootDevices(root: RootFacts): MfaDevice[] {
  return root.devices ?? root.virtualDevices;
}

/**
 * The root facts of an account's outcome: an audited account's, or those an sts:AssumeRoot session
 * read where the member audit role failed; null when root was not read.
 */
export function rootOf(outcome: AccountOutcome): RootFacts | null {
  return outcome.kind === "facts" ? outcome.root : (outcome.root ?? null);
}

/** Why root is judged: its credentials are known, or only part of the evidence is there. */
export type RootBasis = "credentials" | "failClosed" | "mfaEvidence";

/**
 * Whether root is to be judged:
 * - PRESENT credentials;
 * - UNKNOWN credentials with MFA known to be off (fail closed);
 * - UNKNOWN credentials (e.g. `AccountPasswordPresent` missing from GetAccountSummary and no report
 *   row) with MFA on and a root virtual device assigned: the device is evidence enough for
 *   ROOT_VIRTUAL_MFA, which would otherwise never be judged (`mfaEvidence`).
 * ABSENT means both root checks are NOT_APPLICABLE; so does the aws-us-gov partition.
 */
export function rootIsJudged(root: RootFacts): { judged: boolean; failClosed: boolean; basis: RootBasis | null } {
  // AWS GovCloud (US): root cannot sign in to the console and AWS offers no root MFA rule there
  // (docs/aws-semantics.md §5): not applicable, never a fail-closed CRITICAL in every account.
  if (root.arn.startsWith("arn:aws-us-gov:")) return { judged: false, failClosed: false, basis: null };
  if (root.credentials === "PRESENT") return { judged: true, failClosed: false, basis: "credentials" };
  if (root.credentials === "UNKNOWN" && root.mfaEnabled === false)
    return { judged: true, failClosed: true, basis: "failClosed" };
  if (root.credentials === "UNKNOWN" && root.mfaEnabled === true && root.virtualDevices.length > 0)
    return { judged: true, failClosed: false, basis: "mfaEvidence" };
  return { judged: false, failClosed: false, basis: null };
}

/**
 * The report's root `mfa` field. A member role can list root's virtual devices but not its
 * hardware or FIDO devices, so MFA that is on with no virtual device listed is reported as
 * `HARDWARE` (a non-virtual device, as Security Hub IAM.6 uses the word). Through an sts:AssumeRoot
 * session the list is complete: `FIDO` when root has a FIDO device and no virtual one.
 */
export function rootMfaKind(root: RootFacts): RootMfa {
  if (root.mfaEnabled === false) return "NONE";
  if (root.virtualDevices.length > 0) return "VIRTUAL";
  // The whole list (AssumeRoot): FIDO where root has a FIDO device, HARDWARE for a hardware TOTP token.
  if (root.devicesComplete && root.devices?.some((d) => d.type === "FIDO")) return "FIDO";
  if (root.mfaEnabled === true) return "HARDWARE";
  return "UNKNOWN";
}
