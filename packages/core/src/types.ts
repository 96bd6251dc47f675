/** Domain types shared by every phase. Plain data: serialisable, no classes, no SDK types. */

export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CHECK_IDS = [
  "ROOT_NO_MFA",
  "ROOT_VIRTUAL_MFA",
  "USER_CONSOLE_NO_MFA",
  "USER_API_NO_MFA",
  "USER_NO_MFA_NO_CREDENTIALS",
  "USER_MFA_NOT_PHISHING_RESISTANT",
  "ACCOUNT_NOT_AUDITED",
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export type DeviceType = "VIRTUAL" | "HARDWARE" | "FIDO" | "SMS";

export interface MfaDevice {
  serialNumber: string;
  type: DeviceType;
  /** When the device was enabled for the user; null when the source does not say. */
  enabledAt: string | null;
}

/** One IAM user as the collector established it. */
export interface UserFacts {
  userName: string;
  arn: string;
  createdAt: string;
  consoleAccess: boolean;
  passwordLastUsed: string | null;
  activeAccessKeys: number;
  mfaDevices: MfaDevice[];
  /** True when this record was confirmed with live IAM calls rather than the credential report. */
  verifiedLive: boolean;
  /**
   * Whether `mfaDevices` is every device the user has (a live `ListMFADevices`), or only the live
   * virtual devices that prove the user has MFA (a FIDO key or SMS device beside them is not listed).
   */
  mfaDevicesComplete: boolean;
  /** When the verdict's facts were true: the credential report's GeneratedTime, or the live read. */
  verdictAsOf: string | null;
  /**
   * MFA is on (a fresh credential report says so) though no device is listed: not a virtual device,
   * and listing it would cost a call the verdict does not need (`--complete-inventory` lists it).
   */
  mfaActive?: boolean;
}

export type RootCredentials = "PRESENT" | "ABSENT" | "UNKNOWN";
export type RootMfa = "HARDWARE" | "FIDO" | "VIRTUAL" | "NONE" | "UNKNOWN";

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

export type SkipReason = "SUSPENDED" | "EXCLUDED";
export type FailureReason =
  | "ASSUME_ROLE_DENIED"
  | "STS_REGION_DISABLED"
  | "CREDENTIAL_REPORT_UNAVAILABLE"
  | "THROTTLED"
  | "TIMEOUT"
  | "ERROR";

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
  collection: "REPORT_CONFIRMED_LIVE" | "FULLY_LIVE";
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

export interface Exemption {
  account: string;
  principal: string;
  checks: CheckId[] | "*";
  reason: string;
  /** ISO date or date-time. The exemption applies up to and including this instant. */
  expires: string;
}

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

export type FindingStatus = "OPEN" | "EXEMPTED";

export interface Finding {
  id: string;
  checkId: CheckId;
  severity: Severity;
  accountId: string;
  accountName: string;
  principalArn: string | null;
  userName: string | null;
  title: string;
  status: FindingStatus;
  exemption: { reason: string; expires: string } | null;
  evidence: Record<string, unknown>;
}

/** Where a user's verdict came from. */
export type VerdictSource = "CREDENTIAL_REPORT" | "LIVE";

export interface ReportUser {
  userName: string;
  arn: string;
  createdAt: string;
  consoleAccess: boolean;
  passwordLastUsed: string | null;
  activeAccessKeys: number;
  mfaDevices: MfaDevice[];
  verifiedLive: boolean;
  /** Added in 0.2 (optional in reports written before). */
  verdictSource?: VerdictSource;
  verdictAsOf?: string | null;
  mfaDevicesComplete?: boolean;
  /** MFA is on though `mfaDevices` lists no device (see `mfaDevicesComplete`). */
  mfaActive?: boolean;
}

export interface ReportAccount {
  accountId: string;
  accountName: string;
  ouPath: string;
  owner: string | null;
  status: "AUDITED" | "FAILED" | "SKIPPED";
  reason: SkipReason | FailureReason | null;
  error: { code: string; message: string } | null;
  credentialReportGeneratedAt: string | null;
  /**
   * `devicesComplete`: whether `mfa` was judged from every device root has (false through a member
   * role, which sees root's virtual devices only). Absent in reports written before it existed.
   */
  root: { credentials: RootCredentials; mfa: RootMfa; devicesComplete?: boolean } | null;
  users: ReportUser[];
  /** How the users were collected, and notes such as the fully-live fallback (audited accounts). */
  collection?: AccountFacts["collection"] | null;
  notes?: string[];
}

/** Who ran the scan, where, with what scope and config: what an auditor needs to sign it off. */
export interface ReportRun {
  /** The scanning identity (GetCallerIdentity ARN); null when not known. */
  callerArn: string | null;
  region: string | null;
  /** The account and OU filters in force (empty lists: none). */
  filters: { accounts: string[]; excludeAccounts: string[]; ous: string[]; excludeOus: string[] };
  /** SHA-256 of the config the scan ran with (the file's bytes, or the workflow input's JSON). */
  configSha256: string | null;
  /** Whether every user's devices were listed (`--complete-inventory`). */
  completeInventory: boolean;
}

export interface ScanReport {
  schemaVersion: "1";
  tool: { name: "orgmfa"; version: string };
  scanId: string;
  startedAt: string;
  finishedAt: string;
  organizationId: string | null;
  partition: string;
  summary: {
    accounts: { listed: number; inScope: number; audited: number; failed: number; skipped: number };
    coverage: number;
    /** `withoutMfa`: IAM and root users without MFA, exempted included (see `headline`). */
    users: { total: number; console: number; withoutMfa: number };
    findings: { open: number; exempted: number; bySeverity: Record<Severity, number> };
  };
  accounts: ReportAccount[];
  findings: Finding[];
  changes: null | { previousScanId: string; new: string[]; resolved: string[] };
  /** Suspicious but valid settings the scan ran with (printed on stderr too). */
  warnings?: Array<{ field: string; message: string }>;
  /** Who, where, scope and config (added in 0.2). */
  run?: ReportRun;
  /** Every check with its switch, severity and related controls, as this scan ran them. */
  checks?: Array<{ id: CheckId; enabled: boolean; severity: Severity; controls: string[] }>;
  /** The configured exemptions, with whether each was in force when the scan finished. */
  exemptions?: Array<Exemption & { status: "ACTIVE" | "EXPIRED" }>;
}

/** Time comes from here, so reports and tests are deterministic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
