import { describe, expect, it } from "vitest";
import { type EnforcePlan, renderPlan } from "../apps/cli/src/enforce";

// The enforce plan as a person reads it at 800 accounts: the failures named, the rest counted.
const account = (i: number, over: Partial<EnforcePlan["accounts"][number]> = {}): EnforcePlan["accounts"][number] => ({
  accountId: String(100000000000 + i),
  accountName: `acct-${i}`,
  mode: "off",
  status: "not-deployed",
  error: { code: "NoSuchEntity", message: "no enforcer role or quarantine group in this account" },
  users: 0,
  ...over,
});

describe("orgmfa enforce's plan", () => {
  const plan: EnforcePlan = {
    apply: false,
    scanId: "scan-1",
    summary: { quarantined: 0, released: 0, pending: 0, unchanged: 0, failed: 0, accountsNotReconciled: 2 },
    accounts: [
      ...Array.from({ length: 800 }, (_, i) => account(i)),
      account(900, {
        accountName: "prod-web",
        mode: "enforce",
        status: "failed",
        error: { code: "AccessDenied", message: "the enforcer role refused" },
      }),
    ],
    decisions: [],
    notAudited: [
      { accountId: "999999999999", accountName: "legacy", reason: "ASSUME_ROLE_DENIED", error: "AccessDenied: x" },
    ],
  };
  const text = renderPlan(plan, false, 120);

  it("names every account not reconciled, with why, and summarises accounts where quarantine is off", () => {
    expect(text).toMatch(/prod-web\s*│[^\n]*│ enforce │ failed[^\n]*the enforcer role refused/);
    expect(text).toMatch(/legacy[\s\S]*not audited[\s\S]*ASSUME_ROLE_DENIED/);
    expect(text).toMatch(
      /2 in-scope accounts not reconciled \(named above: 1 where quarantine is on but could not be reconciled, 1 the scan could not audit\)\./,
    );
    expect(text).toMatch(/800 accounts with quarantine off and no quarantine resources deployed: not looked at/);
    expect(text).not.toMatch(/see the rows above/);
  });

  it("stays short: the 800 accounts where quarantine is off are one line, not 800 rows", () => {
    expect(text.split("\n").length).toBeLessThan(30);
    expect(text).not.toMatch(/acct-1\b/);
  });
});
