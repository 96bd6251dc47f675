import { accountNotAudited } from "./account-not-audited";
import { orgRootCredentialsManagementOff, orgRootSessionsOff, rootCredentialsRemain } from "./root-access";
import { rootNoMfa } from "./root-no-mfa";
import { rootVirtualMfa } from "./root-virtual-mfa";
import type { RuleDefinition } from "./rule";
import { userApiNoMfa } from "./user-api-no-mfa";
import { userConsoleNoMfa } from "./user-console-no-mfa";
import { userMfaNotPhishingResistant } from "./user-mfa-not-phishing-resistant";
import { userNoMfaNoCredentials } from "./user-no-mfa-no-credentials";

/** Every check, in report order: the one list of checks (their ids are derived from it). */
export const RULES = [
  rootNoMfa,
  rootVirtualMfa,
  userConsoleNoMfa,
  userApiNoMfa,
  userNoMfaNoCredentials,
  userMfaNotPhishingResistant,
  rootCredentialsRemain,
  orgRootCredentialsManagementOff,
  orgRootSessionsOff,
  accountNotAudited,
] as const;

/** A check's id: one of the rules', in report order. */
export type CheckId = (typeof RULES)[number]["checkId"];
/** Every check id, in report order (the report schema's enum of check ids is built from it). */
export const CHECK_IDS = RULES.map((r) => r.checkId) as unknown as readonly [CheckId, ...CheckId[]];

/** One check (see {@link RuleDefinition}); any of ours unless its id is given. */
export type Rule<Id extends string = CheckId> = RuleDefinition<Id>;

export type { FindingDraft, HeadlineGroup, PrincipalKind, RuleContext } from "./rule";
export { defineRule, hasActiveCredential, hasMfa } from "./rule";
