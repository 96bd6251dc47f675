import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AccountOutcome,
  buildReport,
  CHECK_IDS,
  classifyDevice,
  evaluateAccount,
  exitCodeFor,
  type Finding,
  findingId,
  parseFindingId,
  reportProblems,
  rootFacts,
  rootMfaKind,
} from "../src";
import {
  ACCOUNT,
  defaultPolicy,
  FIDO,
  facts,
  HARDWARE,
  NOW,
  reportAt,
  root,
  SMS,
  target,
  user,
  VIRTUAL,
} from "./fixtures";

const checksOf = (fs: Finding[]) =>
  fs.map((f) => `${f.checkId}:${f.userName ?? (f.principalArn ? "root" : "account")}`).sort();
const run = (o: AccountOutcome, cfg: Parameters<typeof defaultPolicy>[0] = {}) =>
  evaluateAccount(target(), o, defaultPolicy(cfg), NOW);

describe("device classification", () => {
  it.each([
    [VIRTUAL, "VIRTUAL"],
    [FIDO, "FIDO"],
    [SMS, "SMS"],
    [HARDWARE, "HARDWARE"],
    ["arn:aws-us-gov:iam::111122223333:mfa/root-account-mfa-device", "VIRTUAL"],
  ])("%s is %s", (serial, type) => expect(classifyDevice(serial)).toBe(type));
});

describe("user checks", () => {
  it("console user without MFA gets USER_CONSOLE_NO_MFA only, never also USER_API_NO_MFA", () => {
    expect(checksOf(run(facts([user("alice", { consoleAccess: true, activeAccessKeys: 2 })])))).toEqual([
      "USER_CONSOLE_NO_MFA:alice",
    ]);
  });
  it("API-only user with an active key and no MFA gets USER_API_NO_MFA", () => {
    const [f] = run(facts([user("ci", { activeAccessKeys: 1 })]));
    expect(f).toMatchObject({ checkId: "USER_API_NO_MFA", severity: "MEDIUM", userName: "ci", status: "OPEN" });
    expect(f?.id).toBe(`orgmfa/USER_API_NO_MFA/${ACCOUNT}/user/ci`);
  });
  it("one enabled device of any type is enough", () => {
    for (const d of [VIRTUAL, FIDO, HARDWARE, SMS]) {
      expect(run(facts([user("u", { consoleAccess: true, activeAccessKeys: 1, devices: [d] })]))).toEqual([]);
    }
  });
  it("a user with no active credential and no MFA raises only the LOW USER_NO_MFA_NO_CREDENTIALS (IAM.19)", () => {
    const fs = run(
      facts([user("idle"), user("old-keys", { activeAccessKeys: 0 }), user("idle-with-mfa", { devices: [VIRTUAL] })]),
    );
    expect(fs.map((f) => `${f.checkId}:${f.userName}:${f.severity}`)).toEqual([
      "USER_NO_MFA_NO_CREDENTIALS:idle:LOW",
      "USER_NO_MFA_NO_CREDENTIALS:old-keys:LOW",
    ]);
  });
  it("phishing-resistant check is off by default, and on flags users whose devices are all virtual/TOTP/SMS", () => {
    const users = [
      user("v", { consoleAccess: true, devices: [VIRTUAL] }),
      user("h", { consoleAccess: true, devices: [HARDWARE, SMS] }),
      user("f", { consoleAccess: true, devices: [VIRTUAL, FIDO] }),
      user("none", { consoleAccess: true }),
    ];
    expect(checksOf(run(facts(users)))).toEqual(["USER_CONSOLE_NO_MFA:none"]);
    expect(checksOf(run(facts(users), { requirePhishingResistantMfa: true }))).toEqual([
      "USER_CONSOLE_NO_MFA:none",
      "USER_MFA_NOT_PHISHING_RESISTANT:h",
      "USER_MFA_NOT_PHISHING_RESISTANT:v",
    ]);
  });
  it("checks can be switched off and re-graded", () => {
    const fs = run(facts([user("a", { consoleAccess: true }), user("b", { activeAccessKeys: 1 })]), {
      checks: { USER_API_NO_MFA: { enabled: false }, USER_CONSOLE_NO_MFA: { severity: "CRITICAL" } },
    });
    expect(fs.map((f) => [f.checkId, f.severity])).toEqual([["USER_CONSOLE_NO_MFA", "CRITICAL"]]);
  });
  it("an IAM user named like root is an IAM user, not root", () => {
    const fs = run(facts([user("rootops", { consoleAccess: true })], root({ credentials: "ABSENT" })));
    expect(checksOf(fs)).toEqual(["USER_CONSOLE_NO_MFA:rootops"]);
  });
});

describe("root model and root checks", () => {
  const arn = `arn:aws:iam::${ACCOUNT}:root`;
  it("PRESENT without MFA raises ROOT_NO_MFA (CRITICAL)", () => {
    const fs = run(facts([], root({ credentials: "PRESENT", password: true, mfaEnabled: false })));
    expect(fs.map((f) => [f.checkId, f.severity, f.principalArn, f.userName])).toEqual([
      ["ROOT_NO_MFA", "CRITICAL", arn, null],
    ]);
  });
  it("ABSENT credentials: both root checks are not applicable", () => {
    expect(run(facts([], root({ credentials: "ABSENT", mfaEnabled: false })))).toEqual([]);
    expect(
      run(
        facts(
          [],
          root({
            credentials: "ABSENT",
            mfaEnabled: true,
            virtualDevices: [{ serialNumber: VIRTUAL, type: "VIRTUAL", enabledAt: null }],
          }),
        ),
      ),
    ).toEqual([]);
  });
  it("PRESENT with a virtual device raises ROOT_VIRTUAL_MFA only", () => {
    const fs = run(
      facts(
        [],
        root({
          credentials: "PRESENT",
          mfaEnabled: true,
          virtualDevices: [{ serialNumber: VIRTUAL, type: "VIRTUAL", enabledAt: null }],
        }),
      ),
    );
    expect(checksOf(fs)).toEqual(["ROOT_VIRTUAL_MFA:root"]);
  });
  it("PRESENT with non-virtual MFA passes, and is reported as HARDWARE", () => {
    const r = root({ credentials: "PRESENT", mfaEnabled: true });
    expect(run(facts([], r))).toEqual([]);
    expect(rootMfaKind(r)).toBe("HARDWARE");
  });
  it("UNKNOWN with AccountMFAEnabled=0 fails closed and says so", () => {
    const [f] = run(facts([], root({ credentials: "UNKNOWN", password: null, mfaEnabled: false })));
    expect(f?.checkId).toBe("ROOT_NO_MFA");
    expect(String(f?.evidence.note)).toMatch(/fail closed/);
  });
  it("root's phishing resistance is never judged from a member role's view (virtual devices only)", () => {
    const policy = defaultPolicy({ requirePhishingResistantMfa: true });
    const virtual = [{ serialNumber: VIRTUAL, type: "VIRTUAL" as const, enabledAt: null }];
    // Root with a virtual device and, unseen by the member role, a passkey: not called weak.
    const partial = root({ credentials: "PRESENT", password: true, mfaEnabled: true, virtualDevices: virtual });
    expect(checksOf(evaluateAccount(target(), facts([], partial), policy, NOW))).toEqual(["ROOT_VIRTUAL_MFA:root"]);
    // The whole list (root itself or sts:AssumeRoot) with only the virtual device: weak.
    const complete = { ...partial, devicesComplete: true };
    expect(checksOf(evaluateAccount(target(), facts([], complete), policy, NOW))).toEqual([
      "ROOT_VIRTUAL_MFA:root",
      "USER_MFA_NOT_PHISHING_RESISTANT:root",
    ]);
    const [f] = evaluateAccount(target(), facts([], partial), policy, NOW);
    expect(f?.evidence.devicesComplete).toBe(false);
  });
  it("password unknown (no AccountPasswordPresent), MFA on with a root virtual device: ROOT_VIRTUAL_MFA, and says why", () => {
    const s = rootFacts({
      arn,
      summary: { AccountAccessKeysPresent: 0, AccountSigningCertificatesPresent: 0, AccountMFAEnabled: 1 },
      reportRow: null,
      virtualDevices: [{ serialNumber: VIRTUAL, type: "VIRTUAL", enabledAt: null }],
    });
    expect(s).toMatchObject({ credentials: "UNKNOWN", password: null, mfaEnabled: true });
    const [f, ...rest] = run(facts([], s));
    expect(rest).toEqual([]);
    expect(f?.checkId).toBe("ROOT_VIRTUAL_MFA");
    expect(String(f?.evidence.note)).toMatch(/password is unknown/);
    // No virtual device and MFA on: nothing to judge from.
    expect(run(facts([], { ...s, virtualDevices: [] }))).toEqual([]);
  });
  it("AWS GovCloud (US): root has no console sign-in, so the root MFA checks do not apply (never a fail-closed CRITICAL)", () => {
    const gov = (o: Parameters<typeof root>[0]) => root({ ...o, arn: `arn:aws-us-gov:iam::${ACCOUNT}:root` });
    expect(run(facts([], gov({ credentials: "UNKNOWN", password: null, mfaEnabled: false })))).toEqual([]);
    expect(
      run(facts([], gov({ credentials: "PRESENT", password: false, activeAccessKeys: true, mfaEnabled: false }))),
    ).toEqual([]);
  });
  it("UNKNOWN with MFA unknown raises nothing", () => {
    expect(run(facts([], root({ credentials: "UNKNOWN", password: null, mfaEnabled: null })))).toEqual([]);
  });
  it("recommends removing root credentials when centralized root access is enabled", () => {
    const p = { ...defaultPolicy(), rootCredentialsManagement: true };
    const [f] = evaluateAccount(target(), facts([], root({ credentials: "PRESENT", mfaEnabled: false })), p, NOW);
    expect(String(f?.evidence.recommendation)).toMatch(/remove this account's root credentials/);
  });
  it("summary is the primary source; the report row fills what it lacks", () => {
    const s = rootFacts({
      arn,
      summary: { AccountAccessKeysPresent: 0, AccountSigningCertificatesPresent: 0, AccountMFAEnabled: 0 },
      reportRow: {
        user: "<root_account>",
        arn,
        createdAt: null,
        passwordEnabled: true,
        passwordLastUsed: null,
        mfaActive: true,
        activeAccessKeys: 0,
        activeCertificates: 0,
      },
      virtualDevices: [],
    });
    expect(s).toMatchObject({ credentials: "PRESENT", password: true, mfaEnabled: false, source: "GetAccountSummary" });
    const none = rootFacts({ arn, summary: null, reportRow: null, virtualDevices: [] });
    expect(none).toMatchObject({ credentials: "UNKNOWN", source: null });
  });
  it("root state is a total function of its inputs (property)", () => {
    const flag = fc.constantFrom(undefined, 0, 1);
    fc.assert(
      fc.property(flag, flag, flag, flag, (pw, keys, certs, mfa) => {
        const s = rootFacts({
          arn,
          summary: {
            AccountPasswordPresent: pw,
            AccountAccessKeysPresent: keys,
            AccountSigningCertificatesPresent: certs,
            AccountMFAEnabled: mfa,
          },
          reportRow: null,
          virtualDevices: [],
        });
        const any = [pw, keys, certs].some((v) => v === 1);
        const all = [pw, keys, certs].every((v) => v === 0);
        expect(s.credentials).toBe(any ? "PRESENT" : all ? "ABSENT" : "UNKNOWN");
        const fs = run(facts([], s));
        const judged = s.credentials === "PRESENT" || (s.credentials === "UNKNOWN" && mfa === 0);
        expect(fs.some((f) => f.checkId === "ROOT_NO_MFA")).toBe(judged && mfa === 0);
      }),
    );
  });
});

describe("exemptions", () => {
  const ex = (o: object) => ({
    account: ACCOUNT,
    principal: "svc-*",
    checks: ["USER_API_NO_MFA"],
    reason: "vendor integration",
    expires: "2026-12-31",
    ...o,
  });
  const users = [user("svc-backup", { activeAccessKeys: 1 }), user("alice", { consoleAccess: true })];
  it("a matching exemption keeps the finding as EXEMPTED with its reason and expiry", () => {
    const fs = run(facts(users), { exemptions: [ex({})] as never });
    const f = fs.find((x) => x.userName === "svc-backup");
    expect(f).toMatchObject({ status: "EXEMPTED", exemption: { reason: "vendor integration", expires: "2026-12-31" } });
    expect(fs.find((x) => x.userName === "alice")?.status).toBe("OPEN");
  });
  it("an expired exemption no longer applies and is named in the evidence", () => {
    const [f] = run(facts([users[0] as never]), { exemptions: [ex({ expires: "2026-11-20" })] as never });
    expect(f?.status).toBe("OPEN");
    expect(f?.evidence.expiredExemption).toEqual({ reason: "vendor integration", expires: "2026-11-20" });
  });
  it("a date-only expiry covers that whole day; globs are case-insensitive; root matches only root", () => {
    expect(
      run(facts([users[0] as never]), { exemptions: [ex({ expires: "2026-11-21", principal: "SVC-*" })] as never })[0]
        ?.status,
    ).toBe("EXEMPTED");
    const rootFs = run(
      facts([user("root", { consoleAccess: true })], root({ credentials: "PRESENT", mfaEnabled: false })),
      {
        exemptions: [ex({ principal: "root", checks: "*" })] as never,
      },
    );
    expect(rootFs.map((f) => [f.checkId, f.status])).toEqual([
      ["ROOT_NO_MFA", "EXEMPTED"],
      ["USER_CONSOLE_NO_MFA", "OPEN"],
    ]);
  });
  it("another account's exemption does not apply; '*' applies everywhere", () => {
    expect(run(facts([users[0] as never]), { exemptions: [ex({ account: "999999999999" })] as never })[0]?.status).toBe(
      "OPEN",
    );
    expect(run(facts([users[0] as never]), { exemptions: [ex({ account: "*" })] as never })[0]?.status).toBe(
      "EXEMPTED",
    );
  });
});

describe("report, coverage and exit codes", () => {
  const targets = [
    target({ accountId: "111111111111", accountName: "a" }),
    target({ accountId: "222222222222", accountName: "b" }),
    target({ accountId: "333333333333", accountName: "c", skip: "SUSPENDED", state: "SUSPENDED" }),
    target({ accountId: "444444444444", accountName: "d", skip: "EXCLUDED" }),
  ];
  const outcomes = new Map<string, AccountOutcome>([
    [
      "111111111111",
      {
        ...facts([user("alice", { consoleAccess: true }), user("bob", { consoleAccess: true, devices: [VIRTUAL] })]),
        accountId: "111111111111",
      },
    ],
    [
      "222222222222",
      {
        kind: "failure",
        accountId: "222222222222",
        reason: "ASSUME_ROLE_DENIED",
        error: { code: "AccessDenied", message: "no" },
      },
    ],
  ]);
  const report = reportAt(targets, outcomes);

  it("lists every account exactly once in the coverage ledger", () => {
    expect(report.accounts.map((a) => [a.accountName, a.status, a.reason])).toEqual([
      ["a", "AUDITED", null],
      ["b", "FAILED", "ASSUME_ROLE_DENIED"],
      ["c", "SKIPPED", "SUSPENDED"],
      ["d", "SKIPPED", "EXCLUDED"],
    ]);
    expect(report.summary.accounts).toEqual({ listed: 4, inScope: 2, audited: 1, failed: 1, skipped: 2 });
    expect(report.summary.coverage).toBe(0.5);
    expect(report.summary.users).toEqual({ total: 2, console: 2, withoutMfa: 1 });
  });
  it("a failed account raises ACCOUNT_NOT_AUDITED with null principal", () => {
    const f = report.findings.find((x) => x.checkId === "ACCOUNT_NOT_AUDITED");
    expect(f).toMatchObject({ accountId: "222222222222", principalArn: null, userName: null, severity: "HIGH" });
  });
  it("validates against the shipped JSON Schema, and the schema rejects a broken report", () => {
    expect(reportProblems(report)).toEqual([]);
    expect(
      reportProblems({ ...report, accounts: [{ ...report.accounts[0], status: "MAYBE" }] }).length,
    ).toBeGreaterThan(0);
  });
  it("an in-scope account without an outcome fails closed", () => {
    const r = buildReport({
      scanId: "s",
      toolVersion: "0",
      startedAt: NOW,
      finishedAt: NOW,
      organizationId: null,
      partition: "aws",
      targets: [target()],
      outcomes: new Map(),
      policy: defaultPolicy(),
    });
    expect(r.accounts[0]?.status).toBe("FAILED");
    expect(r.findings.map((f) => f.checkId)).toEqual(["ACCOUNT_NOT_AUDITED"]);
  });
  it("exit codes: 4 beats 3; --allow-partial gives 3; --fail-on raises the bar", () => {
    expect(exitCodeFor(report, "HIGH", false)).toBe(4);
    expect(exitCodeFor(report, "HIGH", true)).toBe(3);
    expect(exitCodeFor(report, "CRITICAL", true)).toBe(0);
    expect(exitCodeFor(report, "none", true)).toBe(0);
  });
  it("changes: new and resolved against the previous report, resolved only where this scan looked", () => {
    const prev = {
      ...report,
      scanId: "s0",
      findings: [
        { ...report.findings[0], id: "orgmfa/USER_CONSOLE_NO_MFA/111111111111/user/gone", accountId: "111111111111" },
        { ...report.findings[0], id: "orgmfa/USER_CONSOLE_NO_MFA/222222222222/user/still", accountId: "222222222222" },
      ],
    } as typeof report;
    const next = buildReport({
      scanId: "s1",
      toolVersion: "0",
      startedAt: NOW,
      finishedAt: NOW,
      organizationId: null,
      partition: "aws",
      targets,
      outcomes,
      policy: defaultPolicy(),
      previous: prev,
    });
    expect(next.changes?.resolved).toEqual(["orgmfa/USER_CONSOLE_NO_MFA/111111111111/user/gone"]);
    expect(next.changes?.new).toContain("orgmfa/USER_CONSOLE_NO_MFA/111111111111/user/alice");
  });
});

describe("collection notes", () => {
  it("an account's collection and notes (e.g. the fully-live fallback) reach the report", () => {
    const o = {
      ...facts([user("a", { consoleAccess: true })]),
      collection: "FULLY_LIVE" as const,
      notes: ["Credential report unavailable (LimitExceeded: x); every user was collected live."],
    };
    const r = buildReport({
      scanId: "s",
      toolVersion: "0",
      startedAt: NOW,
      finishedAt: NOW,
      organizationId: null,
      partition: "aws",
      targets: [target()],
      outcomes: new Map([[ACCOUNT, o]]),
      policy: defaultPolicy(),
    });
    expect(r.accounts[0]).toMatchObject({ collection: "FULLY_LIVE", notes: [expect.stringMatching(/collected live/)] });
    expect(reportProblems(r)).toEqual([]);
  });
});

describe("finding ids", () => {
  it("are built and read back in one place, for users, root and accounts", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CHECK_IDS),
        fc.stringMatching(/^\d{12}$/),
        fc.oneof(
          fc.stringMatching(/^[\w+=,.@-]{1,64}$/).map((userName) => ({ kind: "user" as const, userName })),
          fc.constant({ kind: "root" as const }),
          fc.constant({ kind: "account" as const }),
        ),
        (checkId, accountId, principal) => {
          expect(parseFindingId(findingId(checkId, accountId, principal))).toEqual({ checkId, accountId, principal });
        },
      ),
    );
    expect(parseFindingId("orgmfa/NOPE/111122223333/root")).toBeNull();
    expect(parseFindingId("other/ROOT_NO_MFA/111122223333/root")).toBeNull();
  });
});
