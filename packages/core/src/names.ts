/**
 * The names orgmfa gives things and the shapes of AWS's identifiers, in one place: the CLI's flags,
 * the config file, the deployment configuration, the functions' settings and the emulator all take
 * their defaults and validators from here.
 */

/** The member template's read-only role, assumed in every member account (its AuditRoleName). */
export const DEFAULT_AUDIT_ROLE_NAME = "OrgMfaAuditRole";
/** The member template's quarantine role (its EnforcerRoleName). */
export const DEFAULT_ENFORCER_ROLE_NAME = "OrgMfaQuarantineRole";
/** The central role that reads the accounts (ScanBatch's), which the member template trusts by name. */
export const DEFAULT_SCANNER_ROLE_NAME = "OrgMfaScanner";
/** The central role of Discover and Owners, which the management account's audit role trusts by name. */
export const DEFAULT_DISCOVER_ROLE_NAME = "OrgMfaDiscover";
/** The central role of Publish. */
export const DEFAULT_PUBLISH_ROLE_NAME = "OrgMfaPublish";
/** The central role of Enforce, which the member enforcer roles trust by name (CentralEnforcerRoleName). */
export const DEFAULT_CENTRAL_ENFORCER_ROLE_NAME = "OrgMfaEnforcer";

/** An IAM role name (IAM API Reference, CreateRole: `[\w+=,.@-]+`, 1 to 64 characters). */
export const ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
/** An AWS account id: twelve digits. */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** An organizational unit id (`ou-…`) or the organization's root id (`r-…`) (Organizations API Reference). */
export const OU_OR_ROOT_ID_PATTERN = /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;

export const isRoleName = (s: string) => ROLE_NAME_PATTERN.test(s);
export const isAccountId = (s: string) => ACCOUNT_ID_PATTERN.test(s);
export const isOuOrRootId = (s: string) => OU_OR_ROOT_ID_PATTERN.test(s);
