import { describe, expect, it } from "vitest";
import {
  type AccountOutcome,
  type AccountTarget,
  buildReport,
  ConfigError,
  deadlineDaysFor,
  decideQuarantine,
  type Exemption,
  parseConfig,
  policyFromConfig,
  type QuarantineUserState,
  quarantineModeFor,
  type ScanReport,
  type UserFacts,
  usersWithoutMfa,
} from "../src";

const NOW = new Date("2026-11-22T12:00:00Z");
const GROUP = "OrgMfaQuarantine";
const user = (o: Partial<QuarantineUserState> = {}): QuarantineUserState => ({
  accountId: "111111111111",
  userName: "alice",
  passwordSetAt: new Date("2026-01-01T00:00:00Z"),
  mfaEnabled: false,
  groups: [],
  policyAttached: false,
  ...o,
});
const decide = (
  u: QuarantineUserState,
  o: { mode?: "off" | "notify" | "enforce"; graceHours?: number; exemptions?: Exemption[] } = {},
) =>
  decideQuarantine(u, {
    mode: o.mode ?? "enforce",
    groupName: GROUP,
    now: NOW,
    graceHours: o.graceHours,
    exemptions: o.exemptions,
  });
const tenGroups = Array.from({ length: 10 }, (_, i) => `team-${i}`);

describe("quarantine decisions", () => {
  it("quarantines a console user without MFA by the group, or by the policy when already in ten groups", () => {
    expect(decide(user())).toMatchObject({
      quarantine: true,
      quarantined: false,
      action: { kind: "quarantine", via: "group" },
    });
    const full = decide(user({ groups: tenGroups }));
    expect(full.action).toEqual({ kind: "quarantine", via: "policy" });
    expect(full.reason).toMatch(/already in 10 groups .*attached to the user directly/);
  });

  it("does nothing to a user already where they should be, however they got there", () => {
    expect(decide(user({ groups: [GROUP] })).action).toEqual({ kind: "none" });
    expect(decide(user({ groups: tenGroups, policyAttached: true })).action).toEqual({ kind: "none" });
    expect(decide(user({ mfaEnabled: true })).action).toEqual({ kind: "none" });
  });

  it("releases users who enrolled, lost console access, became exempt, or are in an OU turned off — from both group and policy", () => {
    const inBoth = { groups: [GROUP], policyAttached: true };
    expect(decide(user({ ...inBoth, mfaEnabled: true }))).toMatchObject({
      quarantine: false,
      action: { kind: "release", from: ["group", "policy"] },
      reason: "has an MFA device enabled",
    });
    expect(decide(user({ groups: [GROUP], passwordSetAt: null })).reason).toMatch(
      /API-only users are never quarantined/,
    );
    const breakGlass: Exemption = {
      account: "*",
      principal: "break-glass-*",
      checks: ["USER_CONSOLE_NO_MFA"],
      reason: "sealed envelope",
      expires: "2027-01-31",
    };
    expect(decide(user({ userName: "break-glass-1", groups: [GROUP] }), { exemptions: [breakGlass] })).toMatchObject({
      action: { kind: "release", from: ["group"] },
      exemption: { reason: "sealed envelope", expires: "2027-01-31" },
    });
    expect(decide(user({ policyAttached: true }), { mode: "off" })).toMatchObject({
      action: { kind: "release", from: ["policy"] },
      reason: "quarantine is off here",
    });
  });

  it("an expired exemption, or one for another check, keeps no one out", () => {
    const expired: Exemption = { account: "*", principal: "alice", checks: "*", reason: "r", expires: "2026-11-21" };
    const other: Exemption = {
      account: "*",
      principal: "alice",
      checks: ["USER_API_NO_MFA"],
      reason: "r",
      expires: "2099-01-01",
    };
    expect(decide(user(), { exemptions: [expired, other] }).quarantine).toBe(true);
  });

  it("waits out the grace period after a password is set, then quarantines", () => {
    const fresh = user({ passwordSetAt: new Date("2026-11-22T00:00:00Z") });
    expect(decide(fresh, { graceHours: 24 })).toMatchObject({
      quarantine: false,
      action: { kind: "none" },
      graceUntil: "2026-11-23T00:00:00.000Z",
    });
    expect(decide(fresh, { graceHours: 12 }).action).toEqual({ kind: "quarantine", via: "group" });
  });

  it("never acts on a deleted user", () => {
    expect(decide(user({ deleted: true, groups: [GROUP] })).action).toEqual({ kind: "none" });
  });

  it("decides the same from the same state, whatever event led there (replayed or reordered events converge)", () => {
    const states = [
      user(),
      user({ groups: [GROUP] }),
      user({ mfaEnabled: true, groups: [GROUP] }),
      user({ mfaEnabled: true }),
    ];
    // Applying each decision's action gives a state whose decision is "none": one step reaches the fixed point.
    for (const s of states) {
      const d = decide(s);
      const after: QuarantineUserState =
        d.action.kind === "quarantine"
          ? d.action.via === "group"
            ? { ...s, groups: [...s.groups, GROUP] }
            : { ...s, policyAttached: true }
          : d.action.kind === "release"
            ? { ...s, groups: s.groups.filter((g) => g !== GROUP), policyAttached: false }
            : s;
      expect(decide(after).action).toEqual({ kind: "none" });
    }
  });
});

describe("quarantine modes", () => {
  const q = {
    mode: "off" as const,
    ous: { "ou-root-aaaaaaaa": "notify" as const, "ou-root-bbbbbbbb": "enforce" as const },
    accounts: { "222222222222": "off" as const },
  };
  it("the account's own entry, else the deepest OU named, else the default", () => {
    expect(quarantineModeFor(q, "111111111111", ["r-root"])).toBe("off");
    expect(quarantineModeFor(q, "111111111111", ["r-root", "ou-root-aaaaaaaa"])).toBe("notify");
    expect(quarantineModeFor(q, "111111111111", ["r-root", "ou-root-aaaaaaaa", "ou-root-bbbbbbbb"])).toBe("enforce");
    expect(quarantineModeFor(q, "111111111111", ["r-root", "ou-root-bbbbbbbb", "ou-root-aaaaaaaa"])).toBe("notify");
    expect(quarantineModeFor(q, "222222222222", ["r-root", "ou-root-bbbbbbbb"])).toBe("off");
    expect(quarantineModeFor(undefined, "111111111111", [])).toBe("off");
  });

  it("are validated in the config, every bad field named", () => {
    expect(
      parseConfig({ quarantine: { mode: "notify", ous: { "ou-ab12-cd34ef56": "enforce" }, graceHours: 24 } }),
    ).toMatchObject({
      quarantine: { mode: "notify" },
    });
    let message = "";
    try {
      parseConfig(
        { quarantine: { mode: "on", ous: { eu: "enforce" }, groupName: "has space", graceHours: -1 } },
        "cfg.json",
      );
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/quarantine\.mode: must be one of "off", "notify", "enforce"/);
    expect(message).toMatch(/quarantine\.ous\.eu: must be an OU id/);
    expect(message).toMatch(/quarantine\.groupName: must be an IAM name/);
    expect(message).toMatch(/quarantine\.graceHours/);
  });
});

describe("the users a sweep starts from", () => {
  it("are every audited account's console users without MFA (exempted too) and its open API-only ones", () => {
    const finding = (accountId: string, checkId: string, userName: string | null, status = "OPEN") =>
      ({ accountId, checkId, userName, status }) as ScanReport["findings"][number];
    const report = {
      accounts: [
        { accountId: "111111111111", status: "AUDITED" },
        { accountId: "222222222222", status: "AUDITED" },
        { accountId: "333333333333", status: "FAILED" },
      ] as ScanReport["accounts"],
      findings: [
        finding("111111111111", "USER_CONSOLE_NO_MFA", "alice"),
        finding("111111111111", "USER_CONSOLE_NO_MFA", "break-glass", "EXEMPTED"),
        finding("111111111111", "USER_API_NO_MFA", "ci"),
        finding("111111111111", "USER_API_NO_MFA", "vendor", "EXEMPTED"),
        finding("111111111111", "ROOT_NO_MFA", null),
        finding("333333333333", "ACCOUNT_NOT_AUDITED", null),
      ],
    };
    expect(usersWithoutMfa(report)).toEqual({
      console: { "111111111111": ["alice", "break-glass"], "222222222222": [] },
      apiOnly: { "111111111111": ["ci"] },
      enrolBy: {},
    });
  });
});

describe("enrolment deadlines (quarantine.deadlineDays)", () => {
  const target = (accountId: string, ouIds: string[]): AccountTarget => ({
    accountId,
    accountName: accountId,
    ouPath: "Root/X",
    owner: null,
    state: "ACTIVE",
    skip: null,
    ouIds,
  });
  const consoleUser = (name: string): UserFacts => ({
    userName: name,
    arn: `arn:aws:iam::111111111111:user/${name}`,
    createdAt: "2026-01-01T00:00:00.000Z",
    consoleAccess: true,
    passwordLastUsed: null,
    activeAccessKeys: 0,
    mfaDevices: [],
    verifiedLive: true,
    verdictAsOf: "2026-11-22T12:00:00.000Z",
    mfaDevicesComplete: true,
  });
  const facts = (accountId: string, users: UserFacts[]): AccountOutcome => ({
    kind: "facts",
    accountId,
    partition: "aws",
    credentialReportGeneratedAt: null,
    collection: "FULLY_LIVE",
    notes: [],
    users,
    root: {
      arn: `arn:aws:iam::${accountId}:root`,
      credentials: "ABSENT",
      password: false,
      activeAccessKeys: false,
      activeSigningCertificates: false,
      mfaEnabled: false,
      virtualDevices: [],
      source: "GetAccountSummary",
    },
  });
  const config = {
    quarantine: { mode: "enforce" as const, deadlineDays: 7, deadlineDaysByOu: { "ou-ab12-00000002": 0 } },
  };
  const scan = (startedAt: string, previous: ScanReport | null) =>
    buildReport({
      scanId: `scan-${startedAt}`,
      toolVersion: "t",
      startedAt: new Date(startedAt),
      finishedAt: new Date(startedAt),
      organizationId: null,
      partition: "aws",
      targets: [
        target("111111111111", ["r-ab12", "ou-ab12-00000001"]),
        target("222222222222", ["r-ab12", "ou-ab12-00000002"]),
      ],
      outcomes: new Map([
        ["111111111111", facts("111111111111", [consoleUser("alice")])],
        ["222222222222", facts("222222222222", [consoleUser("bob")])],
      ]),
      policy: policyFromConfig(config),
      previous: previous
        ? { scanId: previous.scanId, startedAt: previous.startedAt, findings: previous.findings }
        : null,
    });

  it("sets enrol-by from the scan that first found the user, keeps it from scan to scan, and none where an OU says 0", () => {
    const first = scan("2026-12-01T06:00:00.000Z", null);
    const alice = first.findings.find((f) => f.userName === "alice");
    expect(alice).toMatchObject({ firstSeenAt: "2026-12-01T06:00:00.000Z", enrolBy: "2026-12-08T06:00:00.000Z" });
    expect(first.findings.find((f) => f.userName === "bob")?.enrolBy).toBeUndefined();
    const later = scan("2026-12-05T06:00:00.000Z", first);
    expect(later.findings.find((f) => f.userName === "alice")).toMatchObject({
      firstSeenAt: "2026-12-01T06:00:00.000Z",
      enrolBy: "2026-12-08T06:00:00.000Z",
    });
    expect(usersWithoutMfa(later).enrolBy).toEqual({ "111111111111": { alice: "2026-12-08T06:00:00.000Z" } });
  });

  it("notifies before the deadline and quarantines after it (the sweep's decision, with a clock)", () => {
    const at = (now: string) =>
      decideQuarantine(user(), {
        mode: "enforce",
        groupName: GROUP,
        now: new Date(now),
        enrolBy: "2026-12-08T06:00:00.000Z",
      });
    expect(at("2026-12-07T06:00:00Z")).toMatchObject({
      quarantine: false,
      action: { kind: "none" },
      enrolBy: "2026-12-08T06:00:00.000Z",
      reason: expect.stringMatching(/enrol by 2026-12-08T06:00:00.000Z/),
    });
    expect(at("2026-12-08T06:00:01Z")).toMatchObject({
      quarantine: true,
      action: { kind: "quarantine", via: "group" },
      reason: expect.stringMatching(/deadline 2026-12-08T06:00:00.000Z has passed/),
    });
  });

  it("takes the deepest OU's deadline, else the default", () => {
    const q = { deadlineDays: 7, deadlineDaysByOu: { "ou-a": 14, "ou-b": 0 } };
    expect(deadlineDaysFor(q, ["r", "ou-a"])).toBe(14);
    expect(deadlineDaysFor(q, ["r", "ou-a", "ou-b"])).toBe(0);
    expect(deadlineDaysFor(q, ["r", "ou-c"])).toBe(7);
    expect(deadlineDaysFor(undefined, ["r"])).toBe(0);
  });
});
