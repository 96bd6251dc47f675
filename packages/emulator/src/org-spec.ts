import {
  DEFAULT_AUDIT_ROLE_NAME,
  DEFAULT_CENTRAL_ENFORCER_ROLE_NAME,
  DEFAULT_DISCOVER_ROLE_NAME,
  DEFAULT_ENFORCER_ROLE_NAME,
  DEFAULT_PUBLISH_ROLE_NAME,
  DEFAULT_SCANNER_ROLE_NAME,
} from "@orgmfa/core";

// What an emulated organization is made of (OrgSpec), what seeding it gives back (SeededOrg), and the
// names and identities the seed and the tests share.

export type DeviceKind = "virtual" | "hardware" | "fido";

export interface UserSpec {
  name: string;
  console?: boolean;
  activeKeys?: number;
  inactiveKeys?: number;
  devices?: DeviceKind[];
  /** A virtual device created for the user but never enabled. */
  unenabledVirtual?: boolean;
  /** A virtual device enabled and then deactivated. */
  deactivated?: boolean;
}

export interface AccountSpec {
  name: string;
  /** OU path below Root, e.g. "Workloads/Prod"; "" for the root. */
  ou: string;
  owner?: string;
  users?: UserSpec[];
  root?: EmulatedRootState;
  /** Closed after creation (Organizations then says SUSPENDED). */
  closed?: boolean;
}

export interface OrgSpec {
  /** OU paths the member StackSet targets (accounts elsewhere do not get the audit role). */
  stackSetOus: string[];
  /** The security-tooling account the scanner runs in (by name). */
  scannerAccount: string;
  accounts: AccountSpec[];
  managementUsers?: UserSpec[];
  managementRoot?: EmulatedRootState;
  /** Deploy the management account's stack with EnableRootAudit=true (sts:AssumeRoot with the audit task policy). */
  rootAudit?: boolean;
  /**
   * Deploy the member template with EnableQuarantine=true (the quarantine group, its policy and the
   * enforcer role), trusting the scanner role as the enforcer's operator (the CLI), which may then
   * assume it; the central enforcer role (CentralEnforcerRoleName) is the workflow's (seedDelivery).
   */
  quarantine?: boolean;
  /**
   * With `quarantine`: the member StackSet also gets CentralEventBusArn (the scanner account's
   * {@link IAM_EVENT_BUS_NAME} bus), so its instances — in us-east-1, {@link REGION} — forward IAM's
   * events there and have the forwarding dead-letter queue ({@link FORWARDING_DLQ_NAME}). The
   * management account's stack does not: as when the deployment's region is not us-east-1 (the
   * management stack is a single stack in that region), its account has no such queue.
   */
  forwardIamEvents?: boolean;
  /**
   * Deploy the member template with OperatorRoleName set to this (the StackSet and the management
   * account's stack), and create that role in the scanner account as IAM Identity Center creates a
   * permission set's role — `role/aws-reserved/sso.amazonaws.com/<region>/<name>`, trusting the
   * account's Identity Center SAML provider — holding exactly `operatorStatements` (the policy the CDK
   * app deploys for it). Its sessions are a person's: see {@link roleCredentials}.
   */
  operatorRoleName?: string;
}

export interface SeededOrg {
  organizationId: string;
  managementAccountId: string;
  scannerAccountId: string;
  scannerRoleArn: string;
  /** The audit role of the management account (EnableOrganizationsRead=true), for --org-role-arn. */
  orgRoleArn: string;
  /** The operator role (OrgSpec.operatorRoleName), with its Identity Center path. */
  operatorRoleArn?: string;
  /** Account ids by name (the management account is "management"). */
  accounts: Record<string, string>;
  /** OU ids by path. */
  ous: Record<string, string>;
}

/** The central event bus the member accounts forward IAM's events to (the CDK app's, a fixed name). */
export const IAM_EVENT_BUS_NAME = "orgmfa-iam-events";
/** The member template's forwarding dead-letter queue (its fixed QueueName, in us-east-1 only). */
export const FORWARDING_DLQ_NAME = "orgmfa-forward-iam-events-dlq";

/** The deployed Enforce function's role (the member template's CentralEnforcerRoleName default). */
export const ENFORCER_ROLE_NAME = DEFAULT_CENTRAL_ENFORCER_ROLE_NAME;
/** The member template's enforcer role (EnforcerRoleName's default). */
export const MEMBER_ENFORCER_ROLE_NAME = DEFAULT_ENFORCER_ROLE_NAME;

/** The scanner role: the identity the member audit roles trust (the deployed ScanBatch function's). */
export const SCANNER_ROLE_NAME = DEFAULT_SCANNER_ROLE_NAME;
/** The deployed Discover function's role (trusted by the management account's audit role only). */
export const DISCOVER_ROLE_NAME = DEFAULT_DISCOVER_ROLE_NAME;
/** The deployed Publish function's role. */
export const PUBLISH_ROLE_NAME = DEFAULT_PUBLISH_ROLE_NAME;
/** The policy `seedOrganization` gives the scanner role: assuming the audit roles. */
export const SCANNER_ASSUME_POLICY_NAME = "OrgMfaScannerAssumeAuditRoles";
export const AUDIT_ROLE_NAME = DEFAULT_AUDIT_ROLE_NAME;
/**
 * A person's role (OrgSpec.operatorRoleName): an IAM Identity Center permission set `OrgMfaOperator`'s
 * role as Identity Center names it, AWSReservedSSO_<permission set>_<unique suffix>.
 */
export const OPERATOR_ROLE_NAME = "AWSReservedSSO_OrgMfaOperator_0123456789abcdef";
/**
 * Where Identity Center puts a permission set's roles: aws-reserved/sso.amazonaws.com/<region>/ (no
 * region when the identity source is in us-east-1). IAM Identity Center user guide, "Referencing
 * permission sets in resource policies, Amazon EKS, and AWS KMS" (referencingpermissionsets.html).
 */
export const IDENTITY_CENTER_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
export const REGION = "us-east-1";
export const ADMIN = { accessKeyId: "testing", secretAccessKey: "testing" };

/** What the emulator cannot say about root: the state an emulated account's root user is in (moto has no root credentials). */
export interface EmulatedRootState {
  password: boolean;
  accessKeys: boolean;
  mfa: boolean;
  /** An active signing certificate. @default false */
  signingCertificates?: boolean;
  /**
   * Root's MFA devices by serial: `arn:…:mfa/…` virtual (listed by ListVirtualMFADevices to any
   * reader), `arn:…:u2f/root/…` a security key or passkey, a plain serial a hardware TOTP token (both
   * seen only by root itself or an sts:AssumeRoot session). @default one hardware token when `mfa`, none otherwise
   */
  devices?: string[];
}
