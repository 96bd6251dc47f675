import { describe, expect, it } from "vitest";
import {
  type AccountOutcome,
  CHECK_PRINCIPALS,
  ConfigError,
  configWarnings,
  evaluateAccount,
  type OrgMfaConfig,
  parseConfig,
  parseConfigText,
  policyFromConfig,
} from "../src";
import { ACCOUNT, defaultPolicy, facts, root, target, user, VIRTUAL } from "./fixtures";

/** The ConfigError message for `doc`, or "" when it is valid. */
function errorOf(doc: unknown): string {
  try {
    parseConfig(doc, "cfg.json");
    return "";
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
}

const exemption = (o: Record<string, unknown> = {}) => ({
  account: "123456789012",
  principal: "svc-*",
  checks: ["USER_API_NO_MFA"],
  reason: "vendor integration",
  expires: "2026-12-31",
  ...o,
});
const withExemption = (o: Record<string, unknown>) => ({ exemptions: [exemption(o)] });

describe("config", () => {
  it("accepts a full config and derives the policy", () => {
    const cfg = parseConfigText(
      JSON.stringify({
        checks: { USER_API_NO_MFA: { severity: "HIGH" } },
        requirePhishingResistantMfa: true,
        exemptions: [
          {
            account: "*",
            principal: "root",
            checks: "*",
            reason: "centralized root access rollout",
            expires: "2027-01-31",
          },
        ],
        ownerTag: "team",
      }),
      "cfg.json",
    );
    const p = policyFromConfig(cfg);
    expect(p.checks.USER_API_NO_MFA).toEqual({ enabled: true, severity: "HIGH" });
    expect(p.checks.ROOT_NO_MFA).toEqual({ enabled: true, severity: "CRITICAL" });
    expect(p.requirePhishingResistantMfa).toBe(true);
  });
  it("names every bad field", () => {
    const bad = {
      exemptions: [{ account: "123", principal: "x", checks: ["NOPE"], expires: "soon" }],
      checks: { ROOT_NO_MFA: { severity: "URGENT" } },
      extra: 1,
    };
    let msg = "";
    try {
      parseConfigText(JSON.stringify(bad), "cfg.json");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/cfg\.json is invalid/);
    expect(msg).toMatch(/exemptions\[0\]\.account: must be a 12-digit account id/);
    expect(msg).toMatch(/exemptions\[0\]\.reason/);
    expect(msg).toMatch(/exemptions\[0\]\.expires: must be an ISO-8601 date/);
    expect(msg).toMatch(/exemptions\[0\]\.checks: must be "\*" or a list of check ids/);
    expect(msg).toMatch(/checks\.ROOT_NO_MFA\.severity/);
    expect(msg).toMatch(/extra/);
  });
  it("says when the file is not JSON", () => {
    expect(() => parseConfigText("{ nope", "cfg.json")).toThrow(/cfg\.json is not valid JSON/);
  });
});

describe("config errors", () => {
  const cases: [name: string, doc: unknown, error: RegExp][] = [
    [
      "a day that does not exist (Date.parse would roll it into March)",
      withExemption({ expires: "2099-02-30" }),
      /exemptions\[0\]\.expires: must be an ISO-8601 date such as 2026-12-31 \(.*\); got "2099-02-30"/,
    ],
    [
      "29 February of a common year",
      withExemption({ expires: "2027-02-29" }),
      /exemptions\[0\]\.expires: must be an ISO-8601 date such as 2026-12-31 .*got "2027-02-29"/,
    ],
    [
      "a date-time without Z or an offset (local time is ambiguous)",
      withExemption({ expires: "2027-06-30T18:00:00" }),
      /exemptions\[0\]\.expires: must be an ISO-8601 date .*got "2027-06-30T18:00:00"/,
    ],
    [
      "a date that is not a string",
      withExemption({ expires: 20270630 }),
      /exemptions\[0\]\.expires: must be .*got 20270630/,
    ],
    [
      "a missing expiry",
      withExemption({ expires: undefined }),
      /exemptions\[0\]\.expires: is required: an ISO-8601 date such as 2026-12-31/,
    ],
    [
      "a missing checks",
      withExemption({ checks: undefined }),
      /exemptions\[0\]\.checks: is required: "\*" or a list of check ids \(ROOT_NO_MFA, .*ACCOUNT_NOT_AUDITED\)/,
    ],
    [
      "an empty checks list",
      withExemption({ checks: [] }),
      /exemptions\[0\]\.checks: must be "\*" or a list of check ids/,
    ],
    [
      "an exemption of everything",
      withExemption({ account: "*", principal: "*", checks: "*" }),
      /exemptions\[0\]: exempts every finding in every account; name an account, a principal or checks/,
    ],
    [
      "a user ARN as principal",
      withExemption({ principal: "arn:aws:iam::123456789012:user/bob" }),
      /exemptions\[0\]\.principal: is an ARN \(arn:aws:iam::123456789012:user\/bob\), but principal is a user-name glob or "root": give the user name \("bob"\) and put the account id \(123456789012\) in "account"/,
    ],
    [
      "a user ARN with a path",
      withExemption({ principal: "arn:aws-us-gov:iam::123456789012:user/ops/bob" }),
      /exemptions\[0\]\.principal: is an ARN .*give the user name \("bob"\) and put the account id \(123456789012\) in "account"/,
    ],
    [
      "any other ARN as principal",
      withExemption({ principal: "arn:aws:iam::123456789012:root" }),
      /exemptions\[0\]\.principal: is an ARN \(arn:aws:iam::123456789012:root\).*give the user name and put the account id in "account"/,
    ],
    [
      "a principal with a path",
      withExemption({ principal: "/ops/bob" }),
      /exemptions\[0\]\.principal: contains "\/" \(\/ops\/bob\), but principal matches the user name without its path: give the name only \("bob"\)/,
    ],
    [
      "an s3KmsKeyId that is no key",
      { s3KmsKeyId: "not-a-key" },
      /s3KmsKeyId: must be a KMS key id \(.*mrk-.*\), a key ARN \(arn:aws:kms:<region>:<account>:key\/<key id>\), an alias name \(alias\/<name>\) or an alias ARN .*; got "not-a-key"/,
    ],
    ["a key ARN of another service", { s3KmsKeyId: "arn:aws:s3:::my-bucket" }, /s3KmsKeyId: must be a KMS key id/],
    [
      "a key ARN without a key id",
      { s3KmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/" },
      /s3KmsKeyId: must be a KMS key id/,
    ],
    ["a bare alias prefix", { s3KmsKeyId: "alias/" }, /s3KmsKeyId: must be a KMS key id/],
    ["a key id that is not a string", { s3KmsKeyId: 42 }, /s3KmsKeyId: must be a KMS key id .*got 42/],
  ];
  it.each(cases)("%s", (_name, doc, error) => {
    expect(errorOf(doc)).toMatch(error);
  });

  const valid: [name: string, doc: unknown][] = [
    ["a leap day", withExemption({ expires: "2028-02-29" })],
    ["a date-time with Z", withExemption({ expires: "2027-06-30T18:00:00Z" })],
    ["a date-time with an offset and fractions", withExemption({ expires: "2027-06-30T18:00:00.5+02:00" })],
    ["a user name", withExemption({ principal: "bob" })],
    ["root", withExemption({ principal: "root", checks: "*" })],
    ["every principal of one account", withExemption({ principal: "*", checks: "*" })],
    ["every account for one principal", withExemption({ account: "*", principal: "ci-*", checks: "*" })],
    ["every principal and account for some checks", withExemption({ account: "*", principal: "*" })],
    ["a key id", { s3KmsKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" }],
    ["a multi-Region key id", { s3KmsKeyId: "mrk-1234abcd12ab34cd56ef1234567890ab" }],
    ["a key ARN", { s3KmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" }],
    [
      "a multi-Region key ARN in another partition",
      { s3KmsKeyId: "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab" },
    ],
    ["an alias name", { s3KmsKeyId: "alias/orgmfa-reports" }],
    ["the AWS managed S3 key", { s3KmsKeyId: "alias/aws/s3" }],
    ["an alias ARN", { s3KmsKeyId: "arn:aws:kms:eu-west-1:111122223333:alias/orgmfa-reports" }],
  ];
  it.each(valid)("accepts %s", (_name, doc) => {
    expect(errorOf(doc)).toBe("");
  });
});

describe("configWarnings", () => {
  const now = new Date("2026-03-15T12:00:00Z");
  const accountIds = new Set(["123456789012", "210987654321"]);
  const warningsFor = (o: Record<string, unknown>) =>
    configWarnings(parseConfig(withExemption(o)), { now, accountIds });

  const cases: [name: string, exemption: Record<string, unknown>, field: string, message: RegExp][] = [
    [
      "an expired exemption",
      { expires: "2025-01-31" },
      "exemptions[0].expires",
      /^expired on 2025-01-31: it no longer applies; remove it or extend it$/,
    ],
    [
      "an exemption that expired earlier today",
      { expires: "2026-03-15T11:00:00Z" },
      "exemptions[0].expires",
      /^expired on 2026-03-15T11:00:00Z/,
    ],
    [
      "an exemption for more than a year",
      { expires: "2027-03-16" },
      "exemptions[0].expires",
      /^expires in 366 days \(2027-03-16\), more than a year away; exemptions are meant to be temporary/,
    ],
    [
      "an account outside the organization",
      { account: "999999999999" },
      "exemptions[0].account",
      /^account 999999999999 is not in the organization: this exemption matches nothing$/,
    ],
    [
      "ACCOUNT_NOT_AUDITED for a user",
      { principal: "bob", checks: ["ACCOUNT_NOT_AUDITED"] },
      "exemptions[0].checks",
      /^ACCOUNT_NOT_AUDITED is an account-level finding with no user, so only principal "\*" exempts it: this exemption matches nothing$/,
    ],
    [
      "ACCOUNT_NOT_AUDITED for root, beside a root check",
      { principal: "root", checks: ["ROOT_NO_MFA", "ACCOUNT_NOT_AUDITED"] },
      "exemptions[0].checks",
      /^ACCOUNT_NOT_AUDITED is an account-level .*: remove it from checks$/,
    ],
    [
      "root with user checks only",
      { principal: "root", checks: ["USER_CONSOLE_NO_MFA", "USER_API_NO_MFA"] },
      "exemptions[0].checks",
      /^USER_CONSOLE_NO_MFA, USER_API_NO_MFA are never raised for the root user \(principal "root"\): this exemption matches nothing$/,
    ],
    [
      "a user glob with root checks only",
      { principal: "svc-*", checks: ["ROOT_NO_MFA", "ROOT_VIRTUAL_MFA"] },
      "exemptions[0].checks",
      /^ROOT_NO_MFA, ROOT_VIRTUAL_MFA are raised only for the root user, never for an IAM user \(principal "svc-\*" is a user-name glob\): this exemption matches nothing$/,
    ],
    [
      "a user glob with a root check beside a user check",
      { principal: "svc-*", checks: ["ROOT_NO_MFA", "USER_API_NO_MFA"] },
      "exemptions[0].checks",
      /^ROOT_NO_MFA is raised only for the root user.*: remove it from checks$/,
    ],
  ];
  it.each(cases)("warns about %s", (_name, e, field, message) => {
    const ws = warningsFor(e);
    expect(ws).toHaveLength(1);
    expect(ws[0]?.field).toBe(field);
    expect(ws[0]?.message).toMatch(message);
  });

  const quiet: [name: string, exemption: Record<string, unknown>][] = [
    ["an exemption in force", {}],
    ["an exemption ending later today", { expires: "2026-03-15" }],
    ["an exemption for exactly a year", { expires: "2027-03-15" }],
    ["a date-time a year away", { expires: "2027-03-15T23:00:00+01:00" }],
    ["every account", { account: "*" }],
    [
      "root with the phishing-resistant check (it is raised for root too)",
      { principal: "root", checks: ["USER_MFA_NOT_PHISHING_RESISTANT"] },
    ],
    ["root with every check", { principal: "root", checks: "*" }],
    ["principal * with ACCOUNT_NOT_AUDITED", { principal: "*", checks: ["ACCOUNT_NOT_AUDITED"] }],
  ];
  it.each(quiet)("is quiet about %s", (_name, e) => {
    expect(warningsFor(e)).toEqual([]);
  });

  it("checks accounts only when the organization's accounts are given", () => {
    expect(configWarnings(parseConfig(withExemption({ account: "999999999999" })), { now })).toEqual([]);
  });
  it("names each exemption by its index", () => {
    const config: OrgMfaConfig = parseConfig({
      exemptions: [exemption(), exemption({ expires: "2025-01-31" }), exemption({ account: "999999999999" })],
    });
    expect(configWarnings(config, { now, accountIds }).map((w) => w.field)).toEqual([
      "exemptions[1].expires",
      "exemptions[2].account",
    ]);
  });
  it("has no exemptions to warn about in an empty config", () => {
    expect(configWarnings({}, { now })).toEqual([]);
  });

  it("CHECK_PRINCIPALS agrees with the principals the rules raise findings for", () => {
    const outcomes: AccountOutcome[] = [
      facts(
        [
          user("console", { consoleAccess: true }),
          user("api", { activeAccessKeys: 1 }),
          user("weak", { consoleAccess: true, devices: [VIRTUAL] }),
          user("idle"),
        ],
        // Root's whole device list (as root itself or sts:AssumeRoot reads it): only then is root judged
        // by the phishing-resistant check.
        root({
          credentials: "PRESENT",
          password: true,
          mfaEnabled: true,
          virtualDevices: [{ serialNumber: VIRTUAL, type: "VIRTUAL", enabledAt: null }],
          devicesComplete: true,
        }),
      ),
      facts([], root({ credentials: "PRESENT", password: true, mfaEnabled: false })),
      {
        kind: "failure",
        accountId: ACCOUNT,
        reason: "ASSUME_ROLE_DENIED",
        error: { code: "AccessDenied", message: "x" },
      },
    ];
    // The organization's features off, and its management account is the target: the organization-level
    // checks are raised; a member account's root credentials under centralized management, ROOT_CREDENTIALS_REMAIN.
    const policy = {
      ...defaultPolicy({ requirePhishingResistantMfa: true }),
      rootCredentialsManagement: false,
      rootSessions: false,
      organization: { id: "o-abcdefghij", managementAccountId: ACCOUNT },
    };
    const member = {
      ...policy,
      rootCredentialsManagement: true,
      organization: { id: "o-abcdefghij", managementAccountId: "999999999999" },
    };
    const seen = new Set<string>();
    for (const [o, p] of [...outcomes.map((o) => [o, policy] as const), [outcomes[1], member] as const]) {
      if (!o) continue;
      for (const f of evaluateAccount(target(), o, p, now)) {
        const kind = f.userName !== null ? "user" : f.principalArn !== null ? "root" : "account";
        expect(CHECK_PRINCIPALS[f.checkId]).toContain(kind);
        seen.add(`${f.checkId}:${kind}`);
      }
    }
    // Every pair CHECK_PRINCIPALS allows was produced, so the table is not looser than the rules.
    const allowed = Object.entries(CHECK_PRINCIPALS).flatMap(([id, kinds]) => kinds.map((k) => `${id}:${k}`));
    expect([...seen].sort()).toEqual(allowed.sort());
  });
});
