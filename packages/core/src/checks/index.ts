import { accountNotAudited } from "./account-not-audited";
import { rootNoMfa } from "./root-no-mfa";
import { rootVirtualMfa } from "./root-virtual-mfa";
import type { Rule } from "./rule";
import { userApiNoMfa } from "./user-api-no-mfa";
import { userConsoleNoMfa } from "./user-console-no-mfa";
import { userMfaNotPhishingResistant } from "./user-mfa-not-phishing-resistant";
import { userNoMfaNoCredentials } from "./user-no-mfa-no-credentials";

/** Every check, in report order. */
export const RULES: readonly Rule[] = [
  rootNoMfa,
  rootVirtualMfa,
  userConsoleNoMfa,
  userApiNoMfa,
  userNoMfaNoCredentials,
  userMfaNotPhishingResistant,
  accountNotAudited,
];

export type { FindingDraft, HeadlineGroup, PrincipalKind, Rule, RuleContext } from "./rule";
export { hasActiveCredential, hasMfa } from "./rule";
