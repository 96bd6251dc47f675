// The public names of @orgmfa/core, module by module (no export *).
export {
  type AccountEntry,
  accountEntry,
  type BuildReportInput,
  buildReport,
  diffReports,
  withPackedUsers,
} from "./aggregate";
export { CHECK_INFO, type CheckInfo } from "./catalog";
export {
  CHECK_IDS,
  type CheckId,
  defineRule,
  type FindingDraft,
  type HeadlineGroup,
  hasActiveCredential,
  hasMfa,
  type PrincipalKind,
  RULES,
  type Rule,
  type RuleContext,
} from "./checks";
export { type Clock, systemClock } from "./clock";
export {
  CHECK_DEFAULTS,
  CHECK_PRINCIPALS,
  ConfigError,
  type ConfigWarning,
  configSchema,
  configWarnings,
  type OrgMfaConfig,
  type Policy,
  parseConfig,
  parseConfigText,
  parseJsonWith,
  parseWith,
  policyFromConfig,
} from "./config";
export {
  CredentialReportFormatError,
  type ParsedCredentialReport,
  parseCredentialReport,
  ROOT_ROW_USER,
} from "./credential-report";
export { classifyDevice, isPhishingResistant, toDevice } from "./devices";
export { type ErrorKind, EXIT_CODE_OF, OrgMfaError } from "./errors";
export { evaluateAccount } from "./evaluate";
export {
  type ExemptionSubject,
  exemptionMatches,
  expiringWithin,
  expiryInstant,
  findExemption,
  isExpired,
} from "./exemptions";
export { EXIT, exitCodeFor, type FailOn } from "./exit-code";
export {
  type AccountFacts,
  type AccountFailure,
  type AccountOutcome,
  type AccountTarget,
  type CredentialReportRow,
  collectionSchema,
  type DeviceType,
  type FailureReason,
  failureReasonSchema,
  type MfaDevice,
  mfaDeviceSchema,
  type ReportUser,
  type RootCredentials,
  type RootFacts,
  type RootMfa,
  reportUserSchema,
  rootCredentialsSchema,
  rootMfaSchema,
  type SkipReason,
  skipReasonSchema,
  type UserFacts,
  userFactsSchema,
  type VerdictSource,
} from "./facts";
export { findingId, type Principal, parseFindingId, principalLabel, principalOf } from "./finding-id";
export {
  type Headline,
  headline,
  headlineText,
  NO_MFA_CHECKS,
  noMfaFindings,
  plural,
  unknownBecause,
  verdictSentence,
  withoutMfaFindings,
  withoutMfaKnown,
} from "./headline";
export {
  ACCOUNT_ID_PATTERN,
  DEFAULT_AUDIT_ROLE_NAME,
  DEFAULT_CENTRAL_ENFORCER_ROLE_NAME,
  DEFAULT_DISCOVER_ROLE_NAME,
  DEFAULT_ENFORCER_ROLE_NAME,
  DEFAULT_PUBLISH_ROLE_NAME,
  DEFAULT_SCANNER_ROLE_NAME,
  isAccountId,
  isOuOrRootId,
  isRoleName,
  OU_OR_ROOT_ID_PATTERN,
  ROLE_NAME_PATTERN,
} from "./names";
export {
  CENTRAL_ENFORCER_ROLE,
  DEFAULT_ENFORCER_ROLE,
  DEFAULT_QUARANTINE_GROUP,
  type DecideOptions,
  decideQuarantine,
  MAX_GROUPS_PER_USER,
  QUARANTINE_IAM_EVENTS,
  QUARANTINE_MODES,
  type QuarantineAction,
  type QuarantineConfig,
  type QuarantineDecision,
  type QuarantineMode,
  type QuarantineUserState,
  quarantineModeFor,
  quarantinePolicyName,
  usersWithoutMfa,
} from "./quarantine";
export {
  checkIdSchema,
  type Exemption,
  exemptionSchema,
  type Finding,
  type FindingStatus,
  findingSchema,
  findingStatusSchema,
  REPORT_SCHEMA_ID,
  type ReportAccount,
  type ReportRun,
  reportAccountSchema,
  reportJsonSchema,
  reportJsonSchemaText,
  reportRunSchema,
  type ScanReport,
  scanReportSchema,
  severitySchema,
} from "./report-model";
export { reportRegistry } from "./report-registry";
export {
  assertValidReport,
  type PreviousScan,
  parseReportJson,
  ReportSchemaError,
  readPreviousScan,
  reportProblems,
  reportSchema,
} from "./report-schema";
export { type AccountSummaryRoot, type RootBasis, rootArn, rootFacts, rootIsJudged, rootMfaKind } from "./root";
export { SEVERITIES, type Severity } from "./severity";
