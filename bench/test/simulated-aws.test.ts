import { ClientPool, runScan, sweepQuarantine } from "@orgmfa/aws";
import type { AccountTarget } from "@orgmfa/core";
import { afterEach, describe, expect, it } from "vitest";
import { heavyTailedOrg, type OrgShape } from "../lib/org-spec";
import { checkAgainstSimulation, SimulatedAws, type SimulatedAwsOptions } from "../lib/simulated-aws";

// The simulated AWS transport the scale benchmark (and the deployment's simulation) runs on: the real
// SDK clients, ClientPool, discovery and collector over it must reach the simulation's truth, and its
// throttling must be the kind the SDK retries.

const pools: ClientPool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.destroy();
});

async function scan(options: SimulatedAwsOptions, perAccount = 4) {
  const sim = new SimulatedAws({ latencyMs: 2, reportReadyMs: 30, ...options });
  const pool = new ClientPool({
    region: "us-east-1",
    baseCredentials: async () => ({ accessKeyId: "AKIASIMULATEDBASE", secretAccessKey: "simulated" }),
    requestHandler: sim,
  });
  pools.push(pool);
  const report = await runScan({ pool, toolVersion: "test", concurrency: 4, collect: { userConcurrency: perAccount } });
  return { sim, report, check: checkAgainstSimulation(report, sim) };
}

describe("simulated AWS", () => {
  it("answers a whole scan well enough for every verdict to match its truth", async () => {
    const { sim, report, check } = await scan({ accounts: 6, usersPerAccount: 20 });
    expect(report.summary.accounts).toMatchObject({ listed: 6, audited: 6, failed: 0 });
    expect(check).toMatchObject({ users: 120, wrong: 0, failed: [] });
    // Each account is entered once; with a fresh report no user is confirmed live.
    const ops = sim.stats().byOperation;
    expect(ops.AssumeRole).toBe(6);
    expect(ops.ListMFADevices ?? 0).toBe(0);
    // Findings follow the truth: 3 console users without MFA per 20, and the root of account 1.
    const open = report.findings.filter((f) => f.status === "OPEN");
    expect(open.filter((f) => f.checkId === "USER_CONSOLE_NO_MFA")).toHaveLength(6 * 3);
    expect(open.filter((f) => f.checkId === "ROOT_NO_MFA").map((f) => f.accountId)).toEqual([sim.accountId(1)]);
  });

  it("throttles an account beyond its rate with IAM's real error, which the SDK retries", async () => {
    const { sim, check } = await scan(
      {
        accounts: 2,
        usersPerAccount: 20,
        iamRate: { perSecond: 20, burst: 4 },
        // A report another tool left 3 hours ago: users are confirmed live, many calls at once.
        reportAgeMs: () => 3 * 3600_000,
      },
      16,
    );
    expect(sim.stats().throttled).toBeGreaterThan(0);
    expect(check).toMatchObject({ users: 40, wrong: 0, failed: [] });
  });

  it("a report older than four hours is generated anew, and the scan waits for it", async () => {
    const { sim, report, check } = await scan({ accounts: 2, usersPerAccount: 5, reportAgeMs: () => 5 * 3600_000 });
    expect(check.wrong).toBe(0);
    // One GenerateCredentialReport per account; GetCredentialReport (polling) fetches the new report.
    expect(sim.stats().byOperation.GenerateCredentialReport).toBe(2);
    expect(sim.stats().byOperation.GetCredentialReport).toBeGreaterThanOrEqual(2);
    for (const a of report.accounts)
      expect(Date.parse(a.credentialReportGeneratedAt ?? "")).toBeGreaterThan(Date.parse(report.startedAt) - 1000);
  });

  it("fails the accounts its shape fails, and checks the others against their own number of users", async () => {
    const shape: OrgShape = {
      name: "test",
      users: (i) => (i === 2 ? 130 : 20),
      failure: (i) => (i === 3 || i === 4 ? "assume-role-denied" : null),
      quarantineDeployed: () => true,
    };
    const { sim, report, check } = await scan({ accounts: 5, usersPerAccount: 20, shape });
    expect(report.accounts.filter((a) => a.status === "FAILED").map((a) => a.accountId)).toEqual([
      sim.accountId(3),
      sim.accountId(4),
    ]);
    expect(check).toMatchObject({ users: 170, wrong: 0, failed: [], failedAsSimulated: 2 });
    expect(sim.expectedUsers()).toBe(170);
  });

  it("answers the quarantine's reads and changes: a sweep quarantines, a second changes nothing, off releases", async () => {
    const shape: OrgShape = {
      ...heavyTailedOrg(),
      users: () => 20,
      failure: () => null,
      quarantineDeployed: (i) => i !== 2,
    };
    const sim = new SimulatedAws({ accounts: 4, usersPerAccount: 20, latencyMs: 2, shape });
    const pool = new ClientPool({
      region: "us-east-1",
      roleName: "OrgMfaQuarantineRole",
      baseCredentials: async () => ({ accessKeyId: "AKIASIMULATEDBASE", secretAccessKey: "simulated" }),
      requestHandler: sim,
    });
    pools.push(pool);
    const targets: AccountTarget[] = [1, 2, 3].map((i) => ({
      accountId: sim.accountId(i),
      accountName: `a${i}`,
      ouPath: "/",
      owner: null,
      state: "ACTIVE",
      skip: null,
      ouIds: sim.ouPath(sim.accountId(i)),
    }));
    const noMfa = sim
      .users()
      .filter((u) => u.kind === "consoleNoMfa")
      .map((u) => u.name);
    const found = new Map(targets.map((t) => [t.accountId, noMfa]));
    const sweep = (mode: "enforce" | "off") =>
      sweepQuarantine(pool, targets, found, { quarantine: { mode }, now: new Date(), apply: true, partition: "aws" });
    const first = await sweep("enforce");
    expect(first.accounts.map((a) => a.status)).toEqual(["reconciled", "not-deployed", "reconciled"]);
    expect(first.decisions.filter((d) => d.applied && d.action.kind === "quarantine")).toHaveLength(6);
    expect(sim.quarantinedUsers(sim.accountId(1))).toEqual(noMfa);
    expect(sim.quarantinedUsers(sim.accountId(2))).toEqual([]);
    const second = await sweep("enforce");
    expect(second.decisions.every((d) => d.action.kind === "none" && d.quarantined)).toBe(true);
    const off = await sweep("off");
    expect(off.decisions.filter((d) => d.applied && d.action.kind === "release")).toHaveLength(6);
    expect(sim.quarantinedUsers(sim.accountId(3))).toEqual([]);
    for (const op of [
      "GetUser",
      "GetLoginProfile",
      "ListMFADevices",
      "ListGroupsForUser",
      "ListAttachedUserPolicies",
      "GetGroup",
      "ListEntitiesForPolicy",
      "AddUserToGroup",
      "RemoveUserFromGroup",
    ])
      expect(sim.stats().byOperation[op] ?? 0, op).toBeGreaterThan(0);
  });
});
