import type { AccountOutcome, AccountTarget, CheckId, Policy, UserFacts } from "../types";

/** What a rule says about one principal; evaluation adds id, severity, status and account. */
export interface FindingDraft {
  checkId: CheckId;
  principalArn: string | null;
  userName: string | null;
  title: string;
  evidence: Record<string, unknown>;
}

export interface RuleContext {
  outcome: AccountOutcome;
  target: AccountTarget;
  policy: Policy;
}

/** One check: a small pure function over plain records (like a lint rule). */
export interface Rule {
  checkId: CheckId;
  evaluate(ctx: RuleContext): FindingDraft[];
}

/** Enabled MFA devices: the collector lists only enabled (assigned, with EnableDate) devices. */
export function hasMfa(user: UserFacts): boolean {
  return user.mfaDevices.length > 0;
}

/** A user with no console password and no active access key can do nothing and raises nothing. */
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
    mfaDevices: user.mfaDevices.map((d) => ({ serialNumber: d.serialNumber, type: d.type })),
    verifiedLive: user.verifiedLive,
  };
}
