import { describe, expect, it } from "vitest";
import { evaluateAccount, RULES } from "../src";
import { defaultPolicy, FIDO, facts, HARDWARE, NOW, root, SMS, target, user, VIRTUAL } from "./fixtures";

/**
 * For every control a check claims to relate to, orgmfa's verdict per principal must equal AWS's:
 * a principal is NON_COMPLIANT under a control exactly when some check claiming that control flags it.
 * The expected verdicts are AWS's documented ones (AWS Config managed rules behind the Security Hub
 * controls, and the CIS AWS Foundations Benchmark recommendations they implement):
 * - IAM.5 / CIS v7.0 2.10 (v3.0 1.10), mfa-enabled-for-iam-console-access: NON_COMPLIANT for an IAM user with a console
 *   password and no MFA.
 * - IAM.19, iam-user-mfa-enabled: NON_COMPLIANT for every IAM user without MFA, credentials or not.
 * - IAM.9 / CIS v7.0 2.5 (v3.0 1.5), root-account-mfa-enabled: NON_COMPLIANT when root has no MFA; NOT_APPLICABLE when
 *   root user credentials are not present.
 * - IAM.6 / CIS v7.0 2.6 (v3.0 1.6), root-account-hardware-mfa-enabled: NON_COMPLIANT unless root is enabled to use a
 *   hardware MFA device only (no MFA, or a virtual device permitted, is NON_COMPLIANT);
 *   NOT_APPLICABLE when root user credentials are not present.
 */
type Verdict = "NON_COMPLIANT" | "COMPLIANT" | "NOT_APPLICABLE";
const NC = "NON_COMPLIANT";
const C = "COMPLIANT";
const NA = "NOT_APPLICABLE";

const USER_CONTROLS = ["IAM.5", "CIS v7.0 2.10", "CIS v3.0 1.10", "IAM.19"] as const;
const ROOT_CONTROLS = ["IAM.9", "CIS v7.0 2.5", "CIS v3.0 1.5", "IAM.6", "CIS v7.0 2.6", "CIS v3.0 1.6"] as const;

const ORG_CONTROLS = ["CIS v7.0 2.1.1"] as const;
const ORGS: Array<
  [
    string,
    { rootCredentialsManagement: boolean; rootSessions: boolean },
    Record<(typeof ORG_CONTROLS)[number], Verdict>,
  ]
> = [
  ["both features off", { rootCredentialsManagement: false, rootSessions: false }, { "CIS v7.0 2.1.1": NC }],
  ["credentials management only", { rootCredentialsManagement: true, rootSessions: false }, { "CIS v7.0 2.1.1": C }],
  ["root sessions only", { rootCredentialsManagement: false, rootSessions: true }, { "CIS v7.0 2.1.1": NC }],
  ["both on", { rootCredentialsManagement: true, rootSessions: true }, { "CIS v7.0 2.1.1": C }],
];

const USERS: Array<[string, Parameters<typeof user>[1], Record<(typeof USER_CONTROLS)[number], Verdict>]> = [
  ["console, no MFA", { consoleAccess: true }, { "IAM.5": NC, "CIS v7.0 2.10": NC, "CIS v3.0 1.10": NC, "IAM.19": NC }],
  [
    "console and keys, no MFA",
    { consoleAccess: true, activeAccessKeys: 2 },
    { "IAM.5": NC, "CIS v7.0 2.10": NC, "CIS v3.0 1.10": NC, "IAM.19": NC },
  ],
  [
    "console, virtual MFA",
    { consoleAccess: true, devices: [VIRTUAL] },
    { "IAM.5": C, "CIS v7.0 2.10": C, "CIS v3.0 1.10": C, "IAM.19": C },
  ],
  [
    "console, FIDO key",
    { consoleAccess: true, devices: [FIDO] },
    { "IAM.5": C, "CIS v7.0 2.10": C, "CIS v3.0 1.10": C, "IAM.19": C },
  ],
  [
    "console, hardware TOTP",
    { consoleAccess: true, devices: [HARDWARE] },
    { "IAM.5": C, "CIS v7.0 2.10": C, "CIS v3.0 1.10": C, "IAM.19": C },
  ],
  [
    "console, SMS",
    { consoleAccess: true, devices: [SMS] },
    { "IAM.5": C, "CIS v7.0 2.10": C, "CIS v3.0 1.10": C, "IAM.19": C },
  ],
  [
    "keys only, no MFA",
    { activeAccessKeys: 1 },
    { "IAM.5": NA, "CIS v7.0 2.10": NA, "CIS v3.0 1.10": NA, "IAM.19": NC },
  ],
  [
    "keys only, MFA",
    { activeAccessKeys: 1, devices: [VIRTUAL] },
    { "IAM.5": NA, "CIS v7.0 2.10": NA, "CIS v3.0 1.10": NA, "IAM.19": C },
  ],
  ["no credentials, no MFA", {}, { "IAM.5": NA, "CIS v7.0 2.10": NA, "CIS v3.0 1.10": NA, "IAM.19": NC }],
  ["no credentials, MFA", { devices: [FIDO] }, { "IAM.5": NA, "CIS v7.0 2.10": NA, "CIS v3.0 1.10": NA, "IAM.19": C }],
];

const ROOTS: Array<[string, Parameters<typeof root>[0], Record<(typeof ROOT_CONTROLS)[number], Verdict>]> = [
  [
    "password, no MFA",
    { credentials: "PRESENT", password: true, mfaEnabled: false },
    { "IAM.9": NC, "CIS v7.0 2.5": NC, "CIS v3.0 1.5": NC, "IAM.6": NC, "CIS v7.0 2.6": NC, "CIS v3.0 1.6": NC },
  ],
  [
    "access key, no MFA",
    { credentials: "PRESENT", password: false, activeAccessKeys: true, mfaEnabled: false },
    { "IAM.9": NC, "CIS v7.0 2.5": NC, "CIS v3.0 1.5": NC, "IAM.6": NC, "CIS v7.0 2.6": NC, "CIS v3.0 1.6": NC },
  ],
  [
    "password, virtual MFA",
    {
      credentials: "PRESENT",
      password: true,
      mfaEnabled: true,
      virtualDevices: [{ serialNumber: VIRTUAL, type: "VIRTUAL", enabledAt: null }],
    },
    { "IAM.9": C, "CIS v7.0 2.5": C, "CIS v3.0 1.5": C, "IAM.6": NC, "CIS v7.0 2.6": NC, "CIS v3.0 1.6": NC },
  ],
  [
    "password, hardware MFA (no virtual device)",
    { credentials: "PRESENT", password: true, mfaEnabled: true, virtualDevices: [] },
    { "IAM.9": C, "CIS v7.0 2.5": C, "CIS v3.0 1.5": C, "IAM.6": C, "CIS v7.0 2.6": C, "CIS v3.0 1.6": C },
  ],
  [
    "no root credentials (centralized root access)",
    { credentials: "ABSENT", password: false, activeAccessKeys: false, mfaEnabled: false },
    { "IAM.9": NA, "CIS v7.0 2.5": NA, "CIS v3.0 1.5": NA, "IAM.6": NA, "CIS v7.0 2.6": NA, "CIS v3.0 1.6": NA },
  ],
];

/** orgmfa's verdict for one control: NON_COMPLIANT iff a check claiming the control flags the principal. */
function orgmfaVerdict(checkIds: string[], control: string): "NON_COMPLIANT" | "not flagged" {
  const claiming = new Set(RULES.filter((r) => r.controls.includes(control)).map((r) => r.checkId));
  return checkIds.some((c) => claiming.has(c as never)) ? NC : "not flagged";
}
const policy = defaultPolicy();

describe("orgmfa's verdict equals the AWS control's, for every control a check claims", () => {
  it("claims only controls this table covers", () => {
    const claimed = new Set(RULES.flatMap((r) => r.controls));
    expect([...claimed].sort()).toEqual([...USER_CONTROLS, ...ROOT_CONTROLS, ...ORG_CONTROLS].sort());
  });

  // CIS v7.0 2.1.1 "Ensure centralized root access in AWS Organizations" (as Prowler's
  // iam_root_credentials_management_enabled checks it): NON_COMPLIANT exactly when the organization
  // feature RootCredentialsManagement is off, whatever RootSessions is.
  describe.each(ORGS)("organization: %s", (_name, features, aws) => {
    const p = { ...policy, ...features, organization: { id: "o-abcdefghij", managementAccountId: "111111111111" } };
    const mgmt = target({ accountId: "111111111111", accountName: "management" });
    const checkIds = evaluateAccount(
      mgmt,
      { ...facts([], root({ credentials: "ABSENT" })), accountId: "111111111111" },
      p,
      NOW,
    )
      .filter((f) => f.principalArn === null)
      .map((f) => f.checkId);
    it.each(ORG_CONTROLS)("%s", (control) => {
      expect(orgmfaVerdict(checkIds, control)).toBe(aws[control] === NC ? NC : "not flagged");
    });
  });

  describe.each(USERS)("IAM user: %s", (_name, spec, aws) => {
    const checkIds = evaluateAccount(target(), facts([user("u", spec)], root({ credentials: "ABSENT" })), policy, NOW)
      .filter((f) => f.userName === "u")
      .map((f) => f.checkId);
    it.each(USER_CONTROLS)("%s", (control) => {
      expect(orgmfaVerdict(checkIds, control)).toBe(aws[control] === NC ? NC : "not flagged");
    });
  });

  describe.each(ROOTS)("root: %s", (_name, spec, aws) => {
    const checkIds = evaluateAccount(target(), facts([], root(spec)), policy, NOW)
      .filter((f) => f.userName === null && f.principalArn !== null)
      .map((f) => f.checkId);
    it.each(ROOT_CONTROLS)("%s", (control) => {
      expect(orgmfaVerdict(checkIds, control)).toBe(aws[control] === NC ? NC : "not flagged");
    });
  });
});
