import { type CheckId, type HeadlineGroup, RULES } from "./checks";
import type { Finding, ScanReport } from "./report-model";

const GROUP = new Map<CheckId, HeadlineGroup>(RULES.map((r) => [r.checkId, r.headline]));

/**
 * The checks whose finding means "this principal has a credential and no MFA device at all" (each
 * check's `headline` says so in its own file). A principal with one of these findings, open or
 * exempted, is a "user without MFA".
 */
export const NO_MFA_CHECKS: ReadonlySet<CheckId> = new Set(
  RULES.filter((r) => r.headline === "withoutMfa").map((r) => r.checkId),
);

/**
 * The one definition of the report's headline numbers; every renderer (terminal, report.html, the
 * SNS digest, report.json's summary) uses it, so they cannot disagree.
 *
 * - **users without MFA**: IAM users and root users of audited accounts that have a credential today
 *   (password, active access key, or for root a signing certificate) and no enabled MFA device —
 *   exempted ones included, because an exemption accepts the gap, it does not close it;
 * - **open findings** = users without MFA that are not exempted + principals whose MFA is too weak
 *   (virtual root MFA, not phishing-resistant) + accounts that could not be audited + centralized root
 *   access findings (off in the organization; member root credentials left while it is on).
 */
export interface Headline {
  /** `accounts`: accounts with at least one user without MFA. */
  withoutMfa: { total: number; iam: number; root: number; exempted: number; open: number; accounts: number };
  openFindings: {
    total: number;
    withoutMfa: number;
    weakMfa: number;
    noCredential: number;
    notAudited: number;
    /** Centralized root access: off in the organization, or member root credentials left while it is on. */
    rootAccess: number;
  };
  exemptedFindings: number;
}

/** The findings that make a principal a "user without MFA" (open and exempted). */
export function withoutMfaFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => NO_MFA_CHECKS.has(f.checkId));
}

/** Open findings meaning a principal has no MFA at all. */
export function noMfaFindings(report: ScanReport): Finding[] {
  return withoutMfaFindings(report.findings).filter((f) => f.status === "OPEN");
}

/** The headline numbers of a report (see {@link Headline}). Pure; from the findings alone. */
export function headline(report: Pick<ScanReport, "findings">): Headline {
  const gaps = withoutMfaFindings(report.findings);
  const open = report.findings.filter((f) => f.status === "OPEN");
  const openGaps = gaps.filter((f) => f.status === "OPEN");
  const count = (g: HeadlineGroup) => open.filter((f) => GROUP.get(f.checkId) === g).length;
  return {
    withoutMfa: {
      total: gaps.length,
      iam: gaps.filter((f) => f.userName !== null).length,
      root: gaps.filter((f) => f.userName === null).length,
      exempted: gaps.length - openGaps.length,
      open: openGaps.length,
      accounts: new Set(gaps.map((f) => f.accountId)).size,
    },
    openFindings: {
      total: open.length,
      withoutMfa: openGaps.length,
      weakMfa: count("weakMfa"),
      noCredential: count("noCredential"),
      notAudited: count("notAudited"),
      rootAccess: count("rootAccess"),
    },
    exemptedFindings: report.findings.length - open.length,
  };
}

/** `1 account`, `2 accounts`: a count and its noun, for every sentence a person reads. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Audited, in scope and not audited: what a count of users without MFA is a count of. */
type Coverage = Pick<ScanReport["summary"]["accounts"], "inScope" | "audited" | "failed">;

/**
 * Whether the count of users without MFA is known: only when at least one account was audited — a
 * scan that audited nothing (none in scope, discovery failed, every account refused) says "unknown",
 * never 0, in every headline.
 */
export function withoutMfaKnown(accounts: Coverage): boolean {
  return accounts.audited > 0;
}

/** Why the count of users without MFA is unknown, as a clause: `none of the 7 in-scope accounts was audited`. */
export function unknownBecause(accounts: Coverage): string {
  return accounts.inScope === 0
    ? "no account was in scope"
    : `none of the ${plural(accounts.inScope, "in-scope account")} was audited`;
}

/**
 * The headline as two sentences a person can add up, e.g.
 * `8 users without MFA (7 IAM, 1 root; 1 exempted)` and
 * `8 open findings: 7 users without MFA, 1 account not audited`. Accounts not audited are part of the
 * first sentence (`…; 2 accounts not audited`), and when no in-scope account was audited it says the
 * number is unknown.
 */
export function headlineText(report: Pick<ScanReport, "findings" | "summary">): { users: string; findings: string } {
  const h = headline(report);
  const w = h.withoutMfa;
  const a = report.summary.accounts;
  const notAudited = a.failed ? `; ${plural(a.failed, "account")} not audited` : "";
  const users = !withoutMfaKnown(a)
    ? `Users without MFA: unknown (${unknownBecause(a)})`
    : w.total === 0
      ? `0 users without MFA${notAudited}`
      : `${plural(w.total, "user")} without MFA (${w.iam} IAM, ${w.root} root${w.exempted ? `; ${w.exempted} exempted` : ""})${notAudited}`;
  const o = h.openFindings;
  const parts = [
    o.withoutMfa ? plural(o.withoutMfa, "user without MFA", "users without MFA") : "",
    o.weakMfa ? plural(o.weakMfa, "user with weak MFA", "users with weak MFA") : "",
    o.noCredential
      ? plural(o.noCredential, "user with no MFA and no credential yet", "users with no MFA and no credential yet")
      : "",
    o.notAudited ? plural(o.notAudited, "account not audited", "accounts not audited") : "",
    o.rootAccess ? plural(o.rootAccess, "root access finding") : "",
  ].filter(Boolean);
  const findings = `${plural(o.total, "open finding")}${parts.length ? `: ${parts.join(", ")}` : ""}`;
  return { users, findings };
}

/**
 * The one sentence that may say "all clear", and only when it is true: at least one account was in
 * scope, every in-scope account was audited, and nothing is open. A scan that looked at nothing
 * says so instead.
 */
export function verdictSentence(report: Pick<ScanReport, "findings" | "summary">): string {
  const a = report.summary.accounts;
  if (a.inScope === 0) return "No account was in scope: nothing was scanned, so this report says nothing about MFA.";
  const h = headline(report);
  if (h.openFindings.total > 0) return `${headlineText(report).findings}.`;
  if (a.failed > 0)
    return `${plural(a.failed, "account was", "accounts were")} not audited: their users' MFA is unknown.`;
  const exempted = h.exemptedFindings ? ` (${plural(h.exemptedFindings, "finding")} exempted)` : "";
  return `No open findings: every IAM user and root user with a credential in the ${plural(a.audited, "audited account")} has MFA${exempted}.`;
}
