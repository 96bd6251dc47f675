import picomatch from "picomatch";
import type { CheckId } from "./checks";
import type { Principal } from "./finding-id";
import type { Exemption } from "./report-model";

/** Whom a finding is about, for exemption matching. */
export interface ExemptionSubject {
  accountId: string;
  checkId: CheckId;
  /** Root, an IAM user (with its name), or the account itself (coverage findings). */
  principal: Principal;
}

const DAY_MS = 86_400_000;

/**
 * The instant an exemption stops applying. A date without a time (`2026-12-31`) covers that whole
 * UTC day; a date-time is taken as written.
 */
export function expiryInstant(expires: string): Date {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(expires);
  const d = new Date(dateOnly ? `${expires}T00:00:00.000Z` : expires);
  return dateOnly ? new Date(d.getTime() + DAY_MS - 1) : d;
}

export function isExpired(e: Exemption, now: Date): boolean {
  return expiryInstant(e.expires).getTime() < now.getTime();
}

/** Exemptions still in force that end within `days` days of `now`. */
export function expiringWithin(exemptions: readonly Exemption[], now: Date, days = 14): Exemption[] {
  const horizon = now.getTime() + days * DAY_MS;
  return exemptions.filter((e) => !isExpired(e, now) && expiryInstant(e.expires).getTime() <= horizon);
}

/**
 * Whether an exemption names this subject, regardless of expiry. `principal` is a user-name glob
 * (case-insensitive, as IAM user names are), or "root" for the root user only; "*" also covers
 * account-level findings.
 */
export function exemptionMatches(e: Exemption, s: ExemptionSubject): boolean {
  if (e.account !== "*" && e.account !== s.accountId) return false;
  if (e.checks !== "*" && !e.checks.includes(s.checkId)) return false;
  if (e.principal === "*") return true;
  if (e.principal === "root") return s.principal.kind === "root";
  // An IAM user named "root" is a user: only a glob reaches it, never the word "root".
  return (
    s.principal.kind === "user" && picomatch.isMatch(s.principal.userName, e.principal, { nocase: true, dot: true })
  );
}

/** The exemption in force for a subject, and the expired one that would have matched, if any. */
export function findExemption(
  exemptions: readonly Exemption[],
  subject: ExemptionSubject,
  now: Date,
): { active: Exemption | null; expired: Exemption | null } {
  let expired: Exemption | null = null;
  for (const e of exemptions) {
    if (!exemptionMatches(e, subject)) continue;
    if (!isExpired(e, now)) return { active: e, expired: null };
    expired ??= e;
  }
  return { active: null, expired };
}
