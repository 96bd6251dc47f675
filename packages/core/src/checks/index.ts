import { accountNotAudited } from "./account-not-audited";
import { rootNoMfa } from "./root-no-mfa";
import { rootVirtualMfa } from "./root-virtual-mfa";
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
  accountNotAudited,
] as const;

export type { FindingDraft, HeadlineGroup, PrincipalKind, Rule, RuleContext } from "./rule";
export { defineRule, hasActiveCredential, hasMfa } from "./rule";
