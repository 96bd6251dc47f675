import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AddUserToGroupCommand,
  CreateGroupCommand,
  CreateVirtualMFADeviceCommand,
  GetGroupCommand,
  IAMClient,
  ListAttachedUserPoliciesCommand,
} from "@aws-sdk/client-iam";
import { ClientPool, quarantinedUsers, reconcileUser } from "@orgmfa/aws";
import type { QuarantineMode, ScanReport } from "@orgmfa/core";
import {
  accountAdminCredentials,
  DEMO_ORG,
  type Emulator,
  enrolVirtualMfa,
  MEMBER_ENFORCER_ROLE_NAME,
  REGION,
  roleCredentials,
  type SeededOrg,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnforcePlan } from "../apps/cli/src/enforce";
import { runCli, scannerEnv } from "./helpers";

// The quarantine's member side as the template deploys it (EnableQuarantine=true), driven through
// the enforcer role with IAM enforcement on: each user's live state read, decided, changed.
let emu: Emulator;
let org: SeededOrg;
let pool: ClientPool;
let scanner: AwsCredentialIdentity;
const GROUP = "OrgMfaQuarantine";
const NOW = new Date();

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, { ...DEMO_ORG, quarantine: true });
  // The identity the member enforcer roles trust (CentralEnforcerRoleName): here the scanner role.
  scanner = await roleCredentials(emu.endpoint, org.scannerRoleArn, "enforcer");
  const enforcer = scanner;
  await emu.setIamEnforcement(true);
  pool = new ClientPool({
    region: REGION,
    endpoint: emu.endpoint,
    baseCredentials: async () => enforcer,
    roleName: MEMBER_ENFORCER_ROLE_NAME,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  pool?.destroy();
  await emu?.stop();
});

const accountOf = (name: string) => org.accounts[name] as string;
const target = (accountId: string) => ({ accountId, partition: "aws", groupName: GROUP });
const reconcile = (account: string, user: string, mode: QuarantineMode = "enforce", apply = true) =>
  reconcileUser(pool.iam(accountOf(account)), target(accountOf(account)), user, {
    mode,
    groupName: GROUP,
    now: NOW,
    apply,
  });

/** The account's administrator (enforcement off only for this), to look and to change users as they would. */
const admin = <T>(account: string, act: (iam: IAMClient) => Promise<T>) =>
  emu.unenforced(async () => {
    const iam = new IAMClient({
      region: REGION,
      endpoint: emu.endpoint,
      credentials: await accountAdminCredentials(emu.endpoint, accountOf(account)),
    });
    try {
      return await act(iam);
    } finally {
      iam.destroy();
    }
  });
const members = (account: string) =>
  admin(account, async (iam) =>
    ((await iam.send(new GetGroupCommand({ GroupName: GROUP }))).Users ?? []).map((u) => u.UserName).sort(),
  );

describe("quarantine through the enforcer role (emulator, IAM enforcement on)", () => {
  it("quarantines the console user without MFA, and no one else", async () => {
    const decisions = await Promise.all(
      ["alice", "bob", "carol", "dave", "erin", "ci-deploy"].map((u) => reconcile("prod-payments", u)),
    );
    expect(decisions.map((d) => [d.userName, d.action.kind, d.applied])).toEqual([
      ["alice", "quarantine", true],
      ["bob", "none", false],
      ["carol", "none", false],
      ["dave", "none", false],
      ["erin", "none", false],
      ["ci-deploy", "none", false],
    ]);
    expect(decisions.find((d) => d.userName === "ci-deploy")?.reason).toMatch(/API-only users are never quarantined/);
    expect(await members("prod-payments")).toEqual(["alice"]);
    expect(await quarantinedUsers(pool.iam(accountOf("prod-payments")), target(accountOf("prod-payments")))).toEqual([
      "alice",
    ]);
  });

  it("reaches the same state when the same event comes again (idempotent)", async () => {
    const again = await reconcile("prod-payments", "alice");
    expect(again).toMatchObject({ action: { kind: "none" }, quarantined: true, applied: false });
    expect(await members("prod-payments")).toEqual(["alice"]);
  });

  it("notify mode and a dry run change nothing", async () => {
    const notify = await reconcile("dev-platform", "heidi", "notify");
    expect(notify).toMatchObject({ action: { kind: "quarantine", via: "group" }, applied: false });
    const dryRun = await reconcile("dev-platform", "heidi", "enforce", false);
    expect(dryRun).toMatchObject({ action: { kind: "quarantine" }, applied: false });
    expect(await members("dev-platform")).toEqual([]);
  });

  it("releases a user who enrols MFA", async () => {
    await admin("prod-payments", (iam) => enrolVirtualMfa(iam, "alice", "alice-phone"));
    const released = await reconcile("prod-payments", "alice");
    expect(released).toMatchObject({
      action: { kind: "release", from: ["group"] },
      applied: true,
      reason: "has an MFA device enabled",
    });
    expect(await members("prod-payments")).toEqual([]);
  });

  it("attaches the policy directly to a user already in ten groups, and detaches it on release", async () => {
    await admin("prod-web", async (iam) => {
      for (let i = 0; i < 10; i++) {
        await iam.send(new CreateGroupCommand({ GroupName: `team-${i}` }));
        await iam.send(new AddUserToGroupCommand({ GroupName: `team-${i}`, UserName: "grace" }));
      }
    });
    const d = await reconcile("prod-web", "grace");
    expect(d).toMatchObject({ action: { kind: "quarantine", via: "policy" }, applied: true });
    const attached = () =>
      admin("prod-web", async (iam) =>
        ((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: "grace" }))).AttachedPolicies ?? []).map(
          (p) => p.PolicyName,
        ),
      );
    expect(await attached()).toEqual([`${GROUP}Policy`]);
    expect(await quarantinedUsers(pool.iam(accountOf("prod-web")), target(accountOf("prod-web")))).toEqual(["grace"]);
    // Quarantine turned off for the account: everyone is let out.
    expect(await reconcile("prod-web", "grace", "off")).toMatchObject({
      action: { kind: "release", from: ["policy"] },
      applied: true,
    });
    expect(await attached()).toEqual([]);
  });

  it("the enforcer role can do nothing else: not another group, not another policy, not a user's credentials", async () => {
    const iam = pool.iam(accountOf("prod-web"));
    await expect(iam.send(new AddUserToGroupCommand({ GroupName: "team-1", UserName: "frank" }))).rejects.toMatchObject(
      {
        name: expect.stringMatching(/AccessDenied/),
      },
    );
    await expect(iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: "sneaky" }))).rejects.toMatchObject(
      { name: expect.stringMatching(/AccessDenied/) },
    );
  });

  it("orgmfa enforce: a plan by OU mode that changes nothing, then --apply; a second run has nothing left to do", async () => {
    const env = scannerEnv(emu.endpoint, scanner);
    const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-enforce-"));
    const config = path.join(dir, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        quarantine: {
          mode: "off",
          ous: { [org.ous["Workloads/Dev"] as string]: "enforce", [org.ous.Sandbox as string]: "notify" },
          // Workloads/Prod is off, but one of its accounts enforces.
          accounts: { [accountOf("prod-web")]: "enforce" },
        },
        exemptions: [
          {
            account: accountOf("prod-web"),
            principal: "grace",
            checks: ["USER_CONSOLE_NO_MFA"],
            reason: "break-glass user, device in the safe",
            expires: "2099-12-31",
          },
        ],
      }),
    );
    const enforce = async (...extra: string[]) => {
      const r = await runCli(
        ["enforce", "--org-role-arn", org.orgRoleArn, "--config", config, "--format", "json", ...extra],
        env,
      );
      return { code: r.code, stderr: r.stderr, plan: JSON.parse(r.stdout || "null") as EnforcePlan | null };
    };
    const decision = (p: EnforcePlan | null, user: string) => p?.decisions.find((d) => d.userName === user);

    const plan = await enforce();
    expect(plan.code, plan.stderr).toBe(4); // legacy-unmanaged has no audit role: not reconciled
    expect(decision(plan.plan, "heidi")).toMatchObject({
      mode: "enforce",
      action: { kind: "quarantine" },
      applied: false,
    });
    expect(decision(plan.plan, "mallory")).toMatchObject({
      mode: "notify",
      action: { kind: "quarantine" },
      applied: false,
    });
    // prod-web enforces (its own entry wins over its OU's "off"); its break-glass user is exempted.
    expect(decision(plan.plan, "frank")).toMatchObject({ mode: "enforce", action: { kind: "quarantine" } });
    expect(decision(plan.plan, "grace")).toMatchObject({
      action: { kind: "none" },
      exemption: { reason: "break-glass user, device in the safe" },
    });
    // prod-payments is off (its OU's mode) and nobody there is quarantined: nobody is looked at.
    expect(plan.plan?.decisions.filter((d) => d.accountId === accountOf("prod-payments"))).toEqual([]);
    expect(plan.plan?.summary).toMatchObject({ quarantined: 0, pending: 3 });
    expect(await members("dev-platform")).toEqual([]);

    const applied = await enforce("--apply");
    expect(decision(applied.plan, "heidi")).toMatchObject({
      action: { kind: "quarantine", via: "group" },
      applied: true,
    });
    // notify mode never changes anything, even with --apply.
    expect(decision(applied.plan, "mallory")).toMatchObject({ applied: false });
    expect(applied.plan?.summary).toMatchObject({ quarantined: 2, pending: 1 });
    expect(await members("dev-platform")).toEqual(["heidi"]);
    expect(await members("prod-web")).toEqual(["frank"]);
    expect(await members("sandbox-ml")).toEqual([]);

    const again = await enforce("--apply");
    expect(decision(again.plan, "heidi")).toMatchObject({ action: { kind: "none" }, quarantined: true });
    expect(again.plan?.summary).toMatchObject({ quarantined: 0, released: 0 });
  });

  it("orgmfa enforce with an enrolment deadline: notifies before it, quarantines after it (the clock is the previous report's first-found dates)", async () => {
    const env = scannerEnv(emu.endpoint, scanner);
    const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-deadline-"));
    const config = path.join(dir, "config.json");
    const days = 7;
    writeFileSync(
      config,
      JSON.stringify({
        quarantine: {
          mode: "off",
          accounts: { [accountOf("dev-platform")]: "enforce", [accountOf("sandbox-ml")]: "enforce" },
          deadlineDays: days,
        },
      }),
    );
    // The previous scan: it found heidi ten days ago (her deadline passed three days ago); mallory today.
    const scanned = await runCli(
      ["scan", "--org-role-arn", org.orgRoleArn, "--config", config, "--format", "json"],
      env,
    );
    const previous = JSON.parse(scanned.stdout) as ScanReport;
    const finding = (r: ScanReport, user: string) =>
      r.findings.find((f) => f.userName === user && f.checkId === "USER_CONSOLE_NO_MFA");
    expect(finding(previous, "mallory")?.enrolBy).toBe(
      new Date(Date.parse(previous.startedAt) + days * 86_400_000).toISOString(),
    );
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString();
    const heidi = finding(previous, "heidi");
    if (!heidi) throw new Error("no finding for heidi");
    heidi.firstSeenAt = tenDaysAgo;
    const previousFile = path.join(dir, "report.json");
    writeFileSync(previousFile, JSON.stringify(previous));

    const r = await runCli(
      [
        "enforce",
        "--org-role-arn",
        org.orgRoleArn,
        "--config",
        config,
        "--previous",
        previousFile,
        "--apply",
        "--format",
        "json",
      ],
      env,
    );
    const plan = JSON.parse(r.stdout || "null") as EnforcePlan | null;
    const decision = (user: string) => plan?.decisions.find((d) => d.userName === user);
    // (An earlier test may have quarantined her already: either way she is quarantined now.)
    expect(decision("heidi"), r.stderr).toMatchObject({
      quarantine: true,
      enrolBy: new Date(Date.parse(tenDaysAgo) + days * 86_400_000).toISOString(),
      reason: expect.stringMatching(/deadline .* has passed/),
    });
    expect(decision("mallory")).toMatchObject({
      quarantine: false,
      action: { kind: "none" },
      enrolBy: finding(previous, "mallory")?.enrolBy,
      reason: expect.stringMatching(/enrol by/),
    });
    expect(await members("dev-platform")).toEqual(["heidi"]);
    expect(await members("sandbox-ml")).toEqual([]);

    const bad = await runCli(
      ["enforce", "--org-role-arn", org.orgRoleArn, "--previous", path.join(dir, "nope.json")],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--previous .*nope\.json: no such file/);
  });
});
