/**
 * What the collector produces and the rules read: the facts of an account (its users, its root, why it
 * was skipped or failed) as zod schemas and the types inferred from them, and the plain records around
 * them. The bottom layer of the domain: it imports nothing of the checks or of the report, so that the
 * checks (checks/), whose ids the report's schema is built from, can be typed by it.
 *
 * The IAM user is written once, as the report's user ({@link reportUserSchema}); the collector's
 * {@link userFactsSchema} is derived from it.
 */
import { z } from "zod";
import { count, isoTime, meta } from "./report-registry";

export const SKIP_REASONS = ["SUSPENDED", "EXCLUDED"] as const;
export const FAILURE_REASONS = [
  "ASSUME_ROLE_DENIED",
  "STS_REGION_DISABLED",
  "CREDENTIAL_REPORT_UNAVAILABLE",
  "THROTTLED",
  "TIMEOUT",
  "ERROR",
] as const;

export const mfaDeviceSchema = meta(
  z.strictObject({
    serialNumber: z.string().min(1),
    type: z.enum(["VIRTUAL", "HARDWARE", "FIDO", "SMS"]),
    /** When the device was enabled for the user; null when the source does not say. */
    enabledAt: isoTime.nullable(),
    /**
     * A FIDO device's certifications as GetMFADevice returns them (e.g. `{"FIDO": "L1", "FIPS-140-3":
     * "L2"}`; `{}`: none). Absent when they were not read (every non-FIDO device; FIDO devices unless
     * device lists were complete). Added in 0.3.
     */
    certifications: meta(z.record(z.string(), z.string()), {
      description: "A FIDO device's certifications (GetMFADevice): {} none; absent when not read.",
    }).optional(),
  }),
  { id: "device" },
);

/** One IAM user in the report. */
export const reportUserSchema = meta(
  z.strictObject({
    userName: z.string().min(1),
    arn: z.string().regex(/^arn:[a-z-]+:iam::\d{12}:user\//),
    createdAt: isoTime,
    consoleAccess: z.boolean(),
    passwordLastUsed: isoTime.nullable(),
    activeAccessKeys: count,
    mfaDevices: z.array(mfaDeviceSchema).max(8),
    /** True when this record was confirmed with live IAM calls rather than the credential report. */
    verifiedLive: z.boolean(),
    /** Added in 0.2, like the next three (optional in reports written before). */
    verdictSource: meta(z.enum(["CREDENTIAL_REPORT", "LIVE"]), {
      description: "Where the verdict came from.",
    }).optional(),
    /** When the verdict's facts were true: the credential report's GeneratedTime, or the live read. */
    verdictAsOf: meta(isoTime.nullable(), { description: "When the verdict's facts were true." }).optional(),
    /**
     * Whether `mfaDevices` is every device the user has (a live `ListMFADevices`), or only the live
     * virtual devices that prove the user has MFA (a FIDO key or SMS device beside them is not listed).
     */
    mfaDevicesComplete: meta(z.boolean(), {
      description: "true: mfaDevices lists every device; false: only the live virtual devices that prove MFA.",
    }).optional(),
    /** MFA is on though `mfaDevices` lists no device (see `mfaDevicesComplete`); absent otherwise. */
    mfaActive: meta(z.literal(true), {
      description: "MFA is on though mfaDevices lists no device (not a virtual one; --complete-inventory lists it).",
    }).optional(),
  }),
  { id: "user" },
);

/**
 * One IAM user as the collector established it: the report's user without `verdictSource` (the report
 * reads it from `verifiedLive`), with `verdictAsOf` and `mfaDevicesComplete` always known (optional in
 * the report only for reports written before them), and `mfaActive` possibly false (the report writes
 * it only when true and no device is listed).
 */
export const userFactsSchema = reportUserSchema
  .omit({ verdictSource: true })
  .required({ verdictAsOf: true, mfaDevicesComplete: true })
  .extend({
    /**
     * MFA is on (a fresh credential report says so) though no device is listed: not a virtual device,
     * and listing it would cost a call the verdict does not need (`--complete-inventory` lists it).
     */
    mfaActive: z.boolean().optional(),
  });

export const rootCredentialsSchema = z.enum(["PRESENT", "ABSENT", "UNKNOWN"]);
export const rootMfaSchema = z.enum(["HARDWARE", "FIDO", "VIRTUAL", "NONE", "UNKNOWN"]);
/** How root was read: the member audit role (root's virtual devices only) or an sts:AssumeRoot session (every device). */
export const rootViaSchema = z.enum(["MEMBER_ROLE", "ASSUME_ROOT"]);
export type RootVia = z.output<typeof rootViaSchema>;
export const skipReasonSchema = z.enum(SKIP_REASONS);
export const failureReasonSchema = z.enum(FAILURE_REASONS);
/** How an account's user records were obtained. */
export const collectionSchema = z.enum(["REPORT_CONFIRMED_LIVE", "FULLY_LIVE"]);

export type MfaDevice = z.output<typeof mfaDeviceSchema>;
export type DeviceType = MfaDevice["type"];
/** One IAM user in the report. */
export type ReportUser = z.output<typeof reportUserSchema>;
/** Where a user's verdict came from. */
export type VerdictSource = NonNullable<ReportUser["verdictSource"]>;
/** One IAM user as the collector established it (derived from the report's user: see above). */
export type UserFacts = z.output<typeof userFactsSchema>;

export type RootCredentials = z.output<typeof rootCredentialsSchema>;
export type RootMfa = z.output<typeof rootMfaSchema>;

/** The root user's state and where each part of it came from. */
export interface RootFacts {
  arn: string;
  credentials: RootCredentials;
  /** Which credentials are present, when known. */
  password: boolean | null;
  activeAccessKeys: boolean | null;
  activeSigningCertificates: boolean | null;
  /** `AccountMFAEnabled` (or `mfa_active` of the report's root row); null when unknown. */
  mfaEnabled: boolean | null;
  /** Root's virtual devices, from `ListVirtualMFADevices` (matched by exact root ARN). */
  virtualDevices: MfaDevice[];
  /**
   * Every device root has, when read through an sts:AssumeRoot session (`ListMFADevices` as root):
   * set together with `devicesComplete: true`; absent through a member role.
   */
  devices?: MfaDevice[];
  /** How root was read: through the member audit role, or an sts:AssumeRoot session. @default "MEMBER_ROLE" */
  via?: RootVia;
  /**
   * Whether root's device list is every device it has. A member role sees root's virtual devices only
   * (ListMFADevices without UserName lists the *caller's* devices; root's FIDO and hardware devices are
   * visible to root itself or an sts:AssumeRoot session), so through it the list is incomplete and no
   * verdict may rest on what is missing from it. @default false
   */
  devicesComplete?: boolean;
  /** "GetAccountSummary" | "CredentialReport" | "AssumeRoot" | null (no source answered). */
  source: "GetAccountSummary" | "CredentialReport" | "AssumeRoot" | null;
}

/** One row of an IAM credential report, normalised (credential-report.ts). Unknown values are null. */
export interface CredentialReportRow {
  user: string;
  arn: string;
  createdAt: string | null;
  /** true / false; null for `not_supported` or a missing column. */
  passwordEnabled: boolean | null;
  passwordLastUsed: string | null;
  mfaActive: boolean | null;
  /** Active access keys among `access_key_N_active`; null when no such column is present. */
  activeAccessKeys: number | null;
  /** Active signing certificates among `cert_N_active`; null when no such column is present. */
  activeCertificates: number | null;
}

export type SkipReason = z.output<typeof skipReasonSchema>;
export type FailureReason = z.output<typeof failureReasonSchema>;

/** An account the organization lists, as discovery saw it. */
export interface AccountTarget {
  accountId: string;
  accountName: string;
  ouPath: string;
  owner: string | null;
  /** Organizations `State` (or `Status` where `State` is absent). */
  state: string;
  /** null when the account is in scope. */
  skip: SkipReason | null;
  /** The ids of the root and the OUs above the account, root first (for settings by OU). */
  ouIds?: string[];
}

/** Everything the collector learned about one account. */
export interface AccountFacts {
  kind: "facts";
  accountId: string;
  partition: string;
  credentialReportGeneratedAt: string | null;
  /** How the user records were obtained. */
  collection: z.output<typeof collectionSchema>;
  /** Human-readable notes that end up in the evidence (fallbacks taken, and why). */
  notes: string[];
  users: UserFacts[];
  root: RootFacts;
}

export interface AccountFailure {
  kind: "failure";
  accountId: string;
  reason: FailureReason;
  error: { code: string; message: string };
  /**
   * Root, read through an sts:AssumeRoot session though the member audit role failed: the account's
   * users are not audited, its root is (and is judged).
   */
  root?: RootFacts;
  /** Notes for the evidence (how root was read, or why it was not). */
  notes?: string[];
}

export type AccountOutcome = AccountFacts | AccountFailure;
