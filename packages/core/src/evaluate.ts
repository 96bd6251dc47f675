import { type CheckId, type FindingDraft, RULES } from "./checks";
import type { Policy } from "./config";
import { findExemption } from "./exemptions";
import type { AccountOutcome, AccountTarget } from "./facts";
import { findingId, principalOf } from "./finding-id";
import type { Finding } from "./report-model";

/**
 * Evaluates one account: every enabled rule, then severities and exemptions from the policy.
 * A rule that throws becomes an ERROR finding for that account instead of aborting the scan.
 */
export function evaluateAccount(target: AccountTarget, outcome: AccountOutcome, policy: Policy, now: Date): Finding[] {
  const findings: Finding[] = [];
  for (const rule of RULES) {
    const check = policy.checks[rule.checkId];
    if (!check.enabled) continue;
    let drafts: FindingDraft<CheckId>[];
    try {
      drafts = rule.evaluate({ outcome, target, policy });
    } catch (e) {
      drafts = [
        {
          checkId: "ACCOUNT_NOT_AUDITED",
          principalArn: null,
          userName: null,
          title: `Check ${rule.checkId} failed for account ${target.accountName} (${target.accountId})`,
          evidence: { reason: "ERROR", error: { code: "RuleError", message: (e as Error).message } },
        },
      ];
    }
    for (const d of drafts) {
      const principal = principalOf(d);
      const { active, expired } = findExemption(
        policy.exemptions,
        { accountId: target.accountId, checkId: d.checkId, principal },
        now,
      );
      const evidence = expired
        ? { ...d.evidence, expiredExemption: { reason: expired.reason, expires: expired.expires } }
        : d.evidence;
      findings.push({
        id: findingId(d.checkId, target.accountId, principal),
        checkId: d.checkId,
        severity: policy.checks[d.checkId].severity,
        accountId: target.accountId,
        accountName: target.accountName,
        principalArn: d.principalArn,
        userName: d.userName,
        title: d.title,
        status: active ? "EXEMPTED" : "OPEN",
        exemption: active ? { reason: active.reason, expires: active.expires } : null,
        evidence,
      });
    }
  }
  return findings;
}
