import { deviceClass } from "../devices";
import type { AccountOutcome, AccountTarget, UserFacts } from "../facts";
import type { Severity } from "../severity";

/** What a rule says about one principal; evaluation adds id, severity, status and account. */
export interface FindingDraft<Id extends string = string> {
  checkId: Id;
  principalArn: string | null;
  userName: string | null;
  title: string;
  evidence: Record<string, unknown>;
}

export interface RuleContext {
  outcome: AccountOutcome;
  target: AccountTarget;
  /** What of the policy a rule may read (not the checks' settings: evaluation applies those). */
  policy: RulePolicy;
}

/** The part of `Policy` rules read: apart from it, so that the check ids can be derived from the rules. */
export interface RulePolicy {
  requirePhishingResistantMfa: boolean;
  completeInventory: boolean;
  /** Organization feature `RootCredentialsManagement`: true/false when known, null when unknown. */
  rootCredentialsManagement: boolean | null;
  /** Organization feature `RootSessions` (sts:AssumeRoot into member accounts): null when unknown. */
  rootSessions: boolean | null;
  /** The organization's management account and id, when known (organization-level findings are its). */
  organization: { id: string; managementAccountId: string } | null;
}

/** Whom a check's findings are about. */
export type PrincipalKind = "root" | "user" | "account";

/** Which headline number a check's findings count in (see `headline`). */
export type HeadlineGroup = "withoutMfa" | "weakMfa" | "noCredential" | "notAudited" | "rootAccess";

/**
 * One check, whole: its definition and its rule, in one file (like a lint rule). Everything else —
 * the rule list, the config defaults, `orgmfa checks`, the renderers — reads it from here. Its id is a
 * parameter: the ids are derived from the rules (checks/index.ts, where `Rule` defaults it to `CheckId`).
 */
export interface RuleDefinition<Id extends string> {
  checkId: Id;
  /** Default severity (configurable per check). */
  severity: Severity;
  /** Whether it runs unless the config says otherwise. */
  enabledByDefault: boolean;
  /**
   * Controls whose verdict this check reproduces: a principal this check flags is NON_COMPLIANT
   * under each of them: Security Hub `IAM.n`, and CIS AWS Foundations Benchmark `CIS v7.0 n.n` with the
   * v3.0 id beside it where it differs (`CIS v3.0 n.n`), as auditors cite both today.
   */
  controls: readonly string[];
  /** Whom its findings are about. */
  principals: readonly PrincipalKind[];
  headline: HeadlineGroup;
  /** One sentence: what is wrong. */
  description: string;
  /** What to do about it (Security Hub `Remediation.Recommendation.Text`, ≤ 512 characters). */
  remediation: string;
  remediationUrl: string;
  /** ASFF `Types` entry (namespace/category/classifier). */
  asffType: string;
  /** What the check needs to run: the facts it reads, and any setting that turns it on. */
  needs: string;
  evaluate(ctx: RuleContext): FindingDraft<Id>[];
}

/**
 * A check's definition, its id kept as the literal it is: the check ids (`CHECK_IDS`, the `CheckId`
 * type, the report schema's enum) are derived from the rules, not listed beside them.
 */
export function defineRule<const Id extends string>(rule: RuleDefinition<Id>): RuleDefinition<Id> {
  return rule;
}

export const IAM_MFA_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable.html";
export const ROOT_MFA_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-mfa-for-root.html";

/** Enabled MFA devices: the collector lists only enabled (assigned, with EnableDate) devices. */
export function hasMfa(user: UserFacts): boolean {
  return user.mfaDevices.length > 0 || user.mfaActive === true;
}

/** A console password or an active access key: a way in today. */
export function hasActiveCredential(user: UserFacts): boolean {
  return user.consoleAccess || user.activeAccessKeys > 0;
}

export function label(target: AccountTarget): string {
  return `${target.accountName} (${target.accountId})`;
}

export function userEvidence(user: UserFacts): Record<string, unknown> {
  return {
    consoleAccess: user.consoleAccess,
    passwordLastUsed: user.passwordLastUsed,
    activeAccessKeys: user.activeAccessKeys,
    mfaDevices: user.mfaDevices.map((d) => ({ serialNumber: d.serialNumber, type: d.type, class: deviceClass(d) })),
    verifiedLive: user.verifiedLive,
  };
}
