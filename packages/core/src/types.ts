/** Domain types shared by every phase. Plain data: serialisable, no classes, no SDK types. */
import type { z } from "zod";
import { RULES } from "./checks";
import type {
  collectionSchema,
  exemptionSchema,
  failureReasonSchema,
  findingSchema,
  findingStatusSchema,
  mfaDeviceSchema,
  reportAccountSchema,
  reportRunSchema,
  reportUserSchema,
  rootCredentialsSchema,
  rootMfaSchema,
  scanReportSchema,
  skipReasonSchema,
  userFactsSchema,
} from "./report-model";

export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"] as const;
export type Severity = (typeof SEVERITIES)[number];
/** A check's id: one of the rules' (checks/index.ts), in report order. */
export type CheckId = (typeof RULES)[number]["checkId"];
export const CHECK_IDS = RULES.map((r) => r.checkId) as unknown as readonly [CheckId, ...CheckId[]];
export type MfaDevice = z.output<typeof mfaDeviceSchema>;
export type DeviceType = MfaDevice["type"];
/** One IAM user as the collector established it (derived from the report's user: see report-model). */
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
   * Whether root's device list is every device it has. A member role sees root's virtual devices only
   * (ListMFADevices without UserName lists the *caller's* devices; root's FIDO and hardware devices are
   * visible to root itself or an sts:AssumeRoot session), so through it the list is incomplete and no
   * verdict may rest on what is missing from it. @default false
   */
  devicesComplete?: boolean;
  /** "GetAccountSummary" | "CredentialReport" | null (no source answered). */
  source: "GetAccountSummary" | "CredentialReport" | null;
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
}

export type AccountOutcome = AccountFacts | AccountFailure;

export type Exemption = z.output<typeof exemptionSchema>;

/** Policy for evaluation: which checks run, their severities, exemptions. */
export interface Policy {
  checks: Record<CheckId, { enabled: boolean; severity: Severity }>;
  requirePhishingResistantMfa: boolean;
  /** List every user's devices (config `completeInventory`, `--complete-inventory`). */
  completeInventory: boolean;
  exemptions: Exemption[];
  /** Organization feature `RootCredentialsManagement`: true/false when known, null when unknown. */
  rootCredentialsManagement: boolean | null;
}

// The report and its parts: inferred from report-model.ts, the one source of their shape (the
// published JSON Schema is emitted from it too).
export type FindingStatus = z.output<typeof findingStatusSchema>;
export type Finding = z.output<typeof findingSchema>;
/** Where a user's verdict came from. */
export type VerdictSource = NonNullable<ReportUser["verdictSource"]>;
export type ReportUser = z.output<typeof reportUserSchema>;
export type ReportAccount = z.output<typeof reportAccountSchema>;
/** Who ran the scan, where, with what scope and config: what an auditor needs to sign it off. */
export type ReportRun = z.output<typeof reportRunSchema>;
export type ScanReport = z.output<typeof scanReportSchema>;

/** Time comes from here, so reports and tests are deterministic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
