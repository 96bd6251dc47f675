import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  GUARDRAIL_SIDS,
  guardrailScp,
  MFA_ENROLMENT_ACTIONS,
  minifiedScp,
  OWN_USER_ACTIONS,
  SCP_MAX_SIZE,
  type ScpDocument,
  scpSize,
} from "@orgmfa/contract";
import { Validations } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { type DeploymentConfig, ManagementAccountStack, newApp } from "../lib";
import { MFA_GUARDRAIL_POLICY_NAME } from "../lib/constructs/mfa-guardrail";
import { SCP_AS_OF_CONTEXT } from "../lib/management-stack";
import { config, NO_BUNDLING } from "./helpers";
import {
  ACCOUNT,
  mutationsOf,
  OU_ID,
  type Outcome,
  READINGS,
  type ScpRequest,
  underScp,
  type VariableReading,
} from "./proof/scp";

// The MFA guardrail (docs/scp-guardrail.md): the configuration's `scp` section, the policy generator
// (packages/contract/src/scp.ts), the management stack's AWS::Organizations::Policy, and the policy as
// synthesized, evaluated by a real policy engine against a table of requests, with every statement and
// condition shown to matter.

const AS_OF = "2026-06-01T00:00:00Z";
const SCP = {
  enabled: true,
  targetIds: [OU_ID, "ou-exam-22222222"],
  breakGlassPrincipalArns: ["arn:aws:iam::*:user/break-glass-*"],
  exemptions: [
    {
      principalArnPattern: `arn:aws:iam::${ACCOUNT}:user/contractor-*`,
      reason: "contractors' hardware keys are on their way (SEC-42)",
      expires: "2027-06-30",
    },
    {
      principalArnPattern: "arn:aws:iam::*:user/legacy-*",
      reason: "legacy operators, until the migration (SEC-41)",
      expires: "2026-01-31",
    },
  ],
};

/**
 * The management account's stack of `c` (as `addStacks` makes it, with cdk-nag), synthesized as of
 * `asOf`; throws on an unacknowledged cdk-nag finding, as the app's synth does. The guardrail is made
 * only there, so the other two stacks are not built.
 */
function synthAsOf(c: DeploymentConfig, asOf: string | undefined = AS_OF) {
  const outdir = mkdtempSync(path.join(tmpdir(), "orgmfa-scp-"));
  const app = newApp({
    outdir,
    context: { ...NO_BUNDLING, ...(asOf === undefined ? {} : { [SCP_AS_OF_CONTEXT]: asOf }) },
  });
  const management = new ManagementAccountStack(app, "OrgMfaManagement", {
    config: c,
    env: { account: c.managementAccountId, region: c.region },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { app, management, outdir, template: Template.fromStack(management) };
}

/** The one AWS::Organizations::Policy of a template, with its logical ID. */
function policyIn(t: Template): { id: string; properties: Record<string, unknown> } {
  const found = Object.entries(t.findResources("AWS::Organizations::Policy"));
  expect(found).toHaveLength(1);
  const [id, resource] = found[0] as [string, { Properties: Record<string, unknown> }];
  return { id, properties: resource.Properties };
}

/** What the parse error says, or "" when the configuration is valid. */
function configError(over: Record<string, unknown>): string {
  try {
    config(over);
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}

describe("the scp configuration", () => {
  it("is off unless present with enabled: true", () => {
    expect(config().scp).toBeUndefined();
    expect(config({ scp: { ...SCP, enabled: false } }).scp?.enabled).toBe(false);
    expect(configError({ scp: { targetIds: [OU_ID] } })).toMatch(/scp\.enabled: /);
    const minimal = config({ scp: { enabled: true, targetIds: ["r-exam"] } }).scp;
    expect(minimal).toEqual({ enabled: true, targetIds: ["r-exam"], breakGlassPrincipalArns: [], exemptions: [] });
  });

  it.each([
    [{ targetIds: [] }, /scp\.targetIds: must list at least one OU/],
    [{ targetIds: ["111122223333"] }, /scp\.targetIds\[0\]: must be an OU id \(ou-…\) or the root id/],
    [{ targetIds: [OU_ID, OU_ID] }, /scp\.targetIds: must not list an OU twice/],
    [
      { breakGlassPrincipalArns: ["arn:aws:iam::*:role/BreakGlass"] },
      /scp\.breakGlassPrincipalArns\[0\]: must be an IAM user ARN pattern .*roles and root users are never denied/,
    ],
    [{ breakGlassPrincipalArns: ["break-glass-*"] }, /scp\.breakGlassPrincipalArns\[0\]: must be an IAM user ARN/],
    [
      { breakGlassPrincipalArns: ["arn:aws:iam::*:user/*"] },
      /scp\.breakGlassPrincipalArns\[0\]: matches every IAM user/,
    ],
    [
      { exemptions: [{ principalArnPattern: "arn:aws:iam::*:user/a", reason: " ", expires: "2027-01-01" }] },
      /scp\.exemptions\[0\]\.reason: is required/,
    ],
    [
      { exemptions: [{ principalArnPattern: "arn:aws:iam::*:user/a", reason: "r", expires: "2027-02-30" }] },
      /scp\.exemptions\[0\]\.expires: must be an ISO-8601 date/,
    ],
    [{ exemptions: [{ principalArnPattern: "arn:aws:iam::*:user/a", reason: "r" }] }, /scp\.exemptions\[0\]\.expires/],
    [{ mode: "enforce" }, /scp: .*mode/],
  ])("refuses %j, naming the field", (over, message) => {
    expect(configError({ scp: { ...SCP, ...over } })).toMatch(message);
  });

  it("refuses, at synth, a policy over Organizations' 5,120 characters, naming the field to shorten", () => {
    const patterns = (n: number) => Array.from({ length: n }, (_x, i) => `arn:aws:iam::*:user/break-glass/person-${i}`);
    // The largest list that fits is accepted, and what it deploys is within the quota.
    let n = 1;
    while (configError({ scp: { ...SCP, exemptions: [], breakGlassPrincipalArns: patterns(n + 1) } }) === "") n++;
    const fits = config({ scp: { ...SCP, exemptions: [], breakGlassPrincipalArns: patterns(n) } });
    expect(n).toBeGreaterThan(20);
    expect(scpSize(guardrailScp(fits.scp ?? {}, new Date()))).toBeLessThanOrEqual(SCP_MAX_SIZE);
    expect(configError({ scp: { ...SCP, exemptions: [], breakGlassPrincipalArns: patterns(n + 1) } })).toMatch(
      /scp\.breakGlassPrincipalArns: the service control policy would be 51\d\d characters minified, over the 5120 Organizations allows/,
    );
    // With exemptions, those are named (expired ones count: they are still in the configuration).
    const expired = patterns(n + 1).map((p) => ({ principalArnPattern: p, reason: "r", expires: "2020-01-01" }));
    expect(configError({ scp: { ...SCP, breakGlassPrincipalArns: [], exemptions: expired } })).toMatch(
      /scp\.exemptions: the service control policy would be \d+ characters .*remove expired exemptions/,
    );
    // In aws-cn the policy has one statement, so twice as many patterns fit.
    expect(configError({ region: "cn-north-1", scp: { ...SCP, breakGlassPrincipalArns: patterns(n + 1) } })).toBe("");
  });
});

describe("guardrailScp (the pure generator)", () => {
  const input = { ...SCP, partition: "aws" };
  const exempt = (at: string) =>
    (guardrailScp(input, new Date(at)).Statement[0]?.Condition.ArnNotLike?.["aws:PrincipalArn"] ?? []) as string[];

  it("leaves out an exemption from the day after its expiry date, and keeps break-glass users always", () => {
    expect(exempt("2026-01-31T23:59:59Z")).toEqual([
      "arn:aws:iam::*:user/break-glass-*",
      `arn:aws:iam::${ACCOUNT}:user/contractor-*`,
      "arn:aws:iam::*:user/legacy-*",
    ]);
    expect(exempt("2026-02-01T00:00:00Z")).toEqual([
      "arn:aws:iam::*:user/break-glass-*",
      `arn:aws:iam::${ACCOUNT}:user/contractor-*`,
    ]);
    expect(exempt("2027-07-01T00:00:00Z")).toEqual(["arn:aws:iam::*:user/break-glass-*"]);
    // A date-time expiry is taken as written.
    const timed = {
      exemptions: [{ principalArnPattern: "arn:aws:iam::*:user/a", reason: "r", expires: "2026-03-01T12:00:00+02:00" }],
    };
    expect(guardrailScp(timed, new Date("2026-03-01T09:59:59Z")).Statement[0]?.Condition.ArnNotLike).toBeDefined();
    expect(guardrailScp(timed, new Date("2026-03-01T10:00:01Z")).Statement[0]?.Condition.ArnNotLike).toBeUndefined();
  });

  it("has no ArnNotLike when nobody is exempt, each pattern once, and the same document for the same input", () => {
    const none = guardrailScp({}, new Date(AS_OF));
    expect(none.Statement.map((s) => Object.keys(s.Condition))).toEqual([
      ["Bool", "ArnLike"],
      ["Bool", "ArnLike"],
    ]);
    const twice = {
      breakGlassPrincipalArns: ["arn:aws:iam::*:user/a"],
      exemptions: [{ principalArnPattern: "arn:aws:iam::*:user/a", reason: "r", expires: "2999-01-01" }],
    };
    expect(guardrailScp(twice, new Date(AS_OF)).Statement[1]?.Condition.ArnNotLike).toEqual({
      "aws:PrincipalArn": ["arn:aws:iam::*:user/a"],
    });
    expect(minifiedScp(guardrailScp(input, new Date(AS_OF)))).toBe(minifiedScp(guardrailScp(input, new Date(AS_OF))));
  });

  it("is the recommended policy: the enrolment actions excepted, the user-scoped ones only on the caller's own user", () => {
    const [deny, own] = guardrailScp({}, new Date(AS_OF)).Statement;
    expect(deny).toEqual({
      Sid: GUARDRAIL_SIDS.denyWithoutMfa,
      Effect: "Deny",
      NotAction: [...MFA_ENROLMENT_ACTIONS],
      Resource: "*",
      Condition: {
        Bool: { "aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "false" },
        ArnLike: { "aws:PrincipalArn": "arn:*:iam::*:user/*" },
      },
    });
    expect(own).toMatchObject({
      Sid: GUARDRAIL_SIDS.ownUserOnly,
      Effect: "Deny",
      Action: [...OWN_USER_ACTIONS],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: IAM policy variables.
      NotResource: ["arn:*:iam::*:user/${aws:username}", "arn:*:iam::*:user/*/${aws:username}"],
    });
    expect(MFA_ENROLMENT_ACTIONS).toHaveLength(10);
    expect(scpSize(guardrailScp({}, new Date(AS_OF)))).toBeLessThan(1000);
  });

  it("has only the first statement where SCPs do not take NotResource (aws-cn)", () => {
    expect(guardrailScp({ partition: "aws-cn" }, new Date(AS_OF)).Statement.map((s) => s.Sid)).toEqual([
      GUARDRAIL_SIDS.denyWithoutMfa,
    ]);
    expect(guardrailScp({ partition: "aws-us-gov" }, new Date(AS_OF)).Statement).toHaveLength(2);
  });
});

describe("the management stack with the guardrail", () => {
  let synthesized: ReturnType<typeof synthAsOf>;
  beforeAll(() => {
    synthesized = synthAsOf(config({ scp: SCP }));
  });

  it("deploys nothing of it without the section, or with enabled: false", () => {
    for (const c of [config(), config({ scp: { ...SCP, enabled: false } })]) {
      const s = synthAsOf(c);
      expect(Object.keys(s.template.findResources("AWS::Organizations::Policy"))).toEqual([]);
      expect(Object.keys(s.template.toJSON().Outputs ?? {})).not.toContain("MfaGuardrailPolicyId");
      expect(s.management.guardrail).toBeUndefined();
    }
  });

  it("is one SCP, content as a JSON object, attached to the configured OUs, its id an output", () => {
    const { id, properties } = policyIn(synthesized.template);
    // The logical ID is the contract with CloudFormation: a new one would replace the policy.
    expect(id).toBe("MfaGuardrailPolicy990EB6A0");
    expect(properties).toEqual({
      Name: MFA_GUARDRAIL_POLICY_NAME,
      Type: "SERVICE_CONTROL_POLICY",
      Description: expect.stringMatching(/^orgmfa: IAM users signed in without MFA may only enrol MFA/),
      Content: guardrailScp({ ...SCP, partition: "aws" }, new Date(AS_OF)),
      TargetIds: SCP.targetIds,
    });
    expect(typeof properties.Content).toBe("object");
    expect(synthesized.template.toJSON().Outputs.MfaGuardrailPolicyId).toEqual({
      Description: expect.stringContaining("update-policy"),
      Value: { "Fn::GetAtt": [id, "Id"] },
    });
  });

  it("is written as of the synth: an exemption expired by then is left out, and the synth says so", () => {
    const content = policyIn(synthesized.template).properties.Content as ScpDocument;
    expect(JSON.stringify(content)).not.toContain("legacy-");
    Annotations.fromStack(synthesized.management).hasWarning(
      "/OrgMfaManagement/MfaGuardrail",
      Match.stringLikeRegexp("scp\\.exemptions: arn:aws:iam::\\*:user/legacy-\\* expired on 2026-01-31"),
    );
    // As of a day before its expiry it is in.
    const earlier = policyIn(synthAsOf(config({ scp: SCP }), "2026-01-30").template).properties.Content;
    expect(JSON.stringify(earlier)).toContain("legacy-");
    // Without the context value, the synth's own time (after 2026-01-31): legacy's exemption is out.
    const now = JSON.stringify(policyIn(synthAsOf(config({ scp: SCP }), undefined).template).properties.Content);
    expect(now).not.toContain("legacy-");
    expect(() => synthAsOf(config({ scp: SCP }), "next tuesday")).toThrow(/orgmfa:scpAsOf: must be an ISO-8601 date/);
  });

  it("in aws-cn has the first statement only, and the synth says why", () => {
    const s = synthAsOf(config({ region: "cn-north-1", scp: SCP }));
    const content = policyIn(s.template).properties.Content as ScpDocument;
    expect(content.Statement.map((x) => x.Sid)).toEqual([GUARDRAIL_SIDS.denyWithoutMfa]);
    Annotations.fromStack(s.management).hasWarning(
      "/OrgMfaManagement/MfaGuardrail",
      Match.stringLikeRegexp("SCPs in aws-cn do not take NotResource"),
    );
  });

  it("is clean under cdk-nag and cfn-lint", () => {
    // synthAsOf threw on any unacknowledged cdk-nag finding.
    const management = readdirSync(synthesized.outdir)
      .filter((f) => f === "OrgMfaManagement.template.json")
      .map((f) => path.join(synthesized.outdir, f));
    expect(management).toHaveLength(1);
    // W8003, W1028, W1020: the member template's constants (as in central-stack.test.ts).
    execFileSync("cfn-lint", ["--ignore-checks", "W3005", "W8003", "W1028", "W1020", "--", ...management], {
      stdio: "pipe",
    });
  });
});

// ── The synthesized policy, evaluated ──────────────────────────────────────────────────────────────
const arn = (rest: string) => `arn:aws:iam::${ACCOUNT}:${rest}`;
type Who = { principal: string; context: Record<string, string> };
/** An IAM user; `mfa` "absent" is a request signed with long-term access keys (no such key at all). */
const user = (name: string, mfa: "true" | "false" | "absent", via = "false", userPath = ""): Who => ({
  principal: arn(`user/${userPath}${name}`),
  context: {
    "aws:username": name,
    "aws:PrincipalArn": arn(`user/${userPath}${name}`),
    "aws:PrincipalType": "User",
    "aws:PrincipalAccount": ACCOUNT,
    ...(mfa === "absent" ? {} : { "aws:MultiFactorAuthPresent": mfa }),
    "aws:ViaAWSService": via,
  },
});
const console_ = user("alice", "false");
const pathed = user("alice", "false", "false", "engineering/");
const withMfa = user("alice", "true");
const accessKey = user("alice", "absent");
const viaService = user("alice", "false", "true");
const roleSession: Who = {
  principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
  context: {
    "aws:PrincipalArn": arn("role/Admin"),
    "aws:PrincipalType": "AssumedRole",
    "aws:PrincipalAccount": ACCOUNT,
    "aws:MultiFactorAuthPresent": "false",
    "aws:ViaAWSService": "false",
  },
};
const memberRoot: Who = {
  principal: arn("root"),
  context: {
    "aws:PrincipalArn": arn("root"),
    "aws:PrincipalType": "Account",
    "aws:PrincipalAccount": ACCOUNT,
    "aws:MultiFactorAuthPresent": "false",
    "aws:ViaAWSService": "false",
  },
};
const breakGlass = user("break-glass-1", "false");
const contractor = user("contractor-7", "false");
const legacy = user("legacy-ops", "false");

const own = arn("user/alice");
const bob = arn("user/bob");
const OBJECT = "arn:aws:s3:::team-bucket/report.csv";
const INSTANCE = `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/*`;
const D = "ExplicitlyDenied";
const A = "Allowed";

/** [what, who, action, resource, expected]: every case holds under both readings of an unresolved variable. */
const TABLE: Array<[string, Who, string, string, Outcome]> = [
  // Signed in to the console without MFA (an administrator: the SCP alone decides).
  ["console, no MFA: read an S3 object", console_, "s3:GetObject", OBJECT, D],
  ["console, no MFA: launch instances", console_, "ec2:RunInstances", INSTANCE, D],
  ["console, no MFA: create a user", console_, "iam:CreateUser", arn("user/mallory"), D],
  ["console, no MFA: create another user's access key", console_, "iam:CreateAccessKey", bob, D],
  ["console, no MFA: create their own access key (a way out)", console_, "iam:CreateAccessKey", own, D],
  ["console, no MFA: give themselves a console password", console_, "iam:CreateLoginProfile", own, D],
  ["console, no MFA: reset their password without the old one", console_, "iam:UpdateLoginProfile", own, D],
  ["console, no MFA: deactivate their own device", console_, "iam:DeactivateMFADevice", own, D],
  ["console, no MFA: delete a virtual device", console_, "iam:DeleteVirtualMFADevice", arn("mfa/alice"), D],
  ["console, no MFA: list the account's users", console_, "iam:ListUsers", "*", D],
  ["console, no MFA: assume a role", console_, "sts:AssumeRole", arn("role/Admin"), D],
  // …and may enrol, on their own user.
  ["console, no MFA: create a virtual device", console_, "iam:CreateVirtualMFADevice", arn("mfa/alice-phone"), A],
  ["console, no MFA: enable a device on their own user", console_, "iam:EnableMFADevice", own, A],
  ["console, no MFA: resync their own device", console_, "iam:ResyncMFADevice", own, A],
  ["console, no MFA: list their own devices", console_, "iam:ListMFADevices", own, A],
  ["console, no MFA: read their own device", console_, "iam:GetMFADevice", own, A],
  ["console, no MFA: list the account's virtual devices", console_, "iam:ListVirtualMFADevices", "*", A],
  ["console, no MFA: read their own user", console_, "iam:GetUser", own, A],
  ["console, no MFA: change their own password", console_, "iam:ChangePassword", own, A],
  ["console, no MFA: read the password policy", console_, "iam:GetAccountPasswordPolicy", "*", A],
  ["console, no MFA: get an MFA session", console_, "sts:GetSessionToken", "*", A],
  [
    "console, no MFA, user with a path: enable a device on their own user",
    pathed,
    "iam:EnableMFADevice",
    arn("user/engineering/alice"),
    A,
  ],
  [
    "console, no MFA, user with a path: change their own password",
    pathed,
    "iam:ChangePassword",
    arn("user/engineering/alice"),
    A,
  ],
  // …never on another user.
  ["console, no MFA: enable a device on another user", console_, "iam:EnableMFADevice", bob, D],
  [
    "console, no MFA: enable a device on another user with a path",
    console_,
    "iam:EnableMFADevice",
    arn("user/ops/bob"),
    D,
  ],
  ["console, no MFA: resync another user's device", console_, "iam:ResyncMFADevice", bob, D],
  ["console, no MFA: list another user's devices", console_, "iam:ListMFADevices", bob, D],
  ["console, no MFA: read another user's device", console_, "iam:GetMFADevice", bob, D],
  ["console, no MFA: read another user", console_, "iam:GetUser", bob, D],
  ["console, no MFA: change another user's password", console_, "iam:ChangePassword", bob, D],
  // A GetSessionToken session without MFA carries the key, false: the same as the console.
  ["GetSessionToken session without MFA: read an S3 object", console_, "s3:GetObject", OBJECT, D],
  // Signed in with MFA: nothing is denied.
  ["with MFA: read an S3 object", withMfa, "s3:GetObject", OBJECT, A],
  ["with MFA: launch instances", withMfa, "ec2:RunInstances", INSTANCE, A],
  ["with MFA: create a user", withMfa, "iam:CreateUser", arn("user/mallory"), A],
  ["with MFA: create another user's access key", withMfa, "iam:CreateAccessKey", bob, A],
  ["with MFA: enable a device on another user", withMfa, "iam:EnableMFADevice", bob, A],
  ["with MFA: read another user", withMfa, "iam:GetUser", bob, A],
  ["with MFA: deactivate their own device", withMfa, "iam:DeactivateMFADevice", own, A],
  // Long-term access keys carry no aws:MultiFactorAuthPresent: reported by the scan, never blocked.
  ["access keys: read an S3 object", accessKey, "s3:GetObject", OBJECT, A],
  ["access keys: launch instances", accessKey, "ec2:RunInstances", INSTANCE, A],
  ["access keys: create a user", accessKey, "iam:CreateUser", arn("user/mallory"), A],
  ["access keys: enable a device on another user", accessKey, "iam:EnableMFADevice", bob, A],
  // A service acting with the user's credentials (CloudFormation → EC2): the key is present and false.
  ["a service for an access-key user: launch instances", viaService, "ec2:RunInstances", INSTANCE, A],
  ["a service for an access-key user: read another user", viaService, "iam:GetUser", bob, A],
  // Roles (Identity Center users included) and member accounts' root users are never held to it.
  ["role session without MFA: read an S3 object", roleSession, "s3:GetObject", OBJECT, A],
  ["role session without MFA: create a user", roleSession, "iam:CreateUser", arn("user/mallory"), A],
  ["role session without MFA: read a user", roleSession, "iam:GetUser", bob, A],
  ["role session without MFA: enable a device on a user", roleSession, "iam:EnableMFADevice", bob, A],
  ["member account's root without MFA: read an S3 object", memberRoot, "s3:GetObject", OBJECT, A],
  // Break-glass users, and exemptions in force, are not denied; an expired exemption no longer exempts.
  ["break-glass user without MFA: read an S3 object", breakGlass, "s3:GetObject", OBJECT, A],
  ["break-glass user without MFA: create a user", breakGlass, "iam:CreateUser", arn("user/mallory"), A],
  ["break-glass user without MFA: read another user", breakGlass, "iam:GetUser", bob, A],
  ["exempt until 2027 without MFA: read an S3 object", contractor, "s3:GetObject", OBJECT, A],
  ["exempt until 2027 without MFA: read another user", contractor, "iam:GetUser", bob, A],
  ["exemption expired 2026-01-31, without MFA: read an S3 object", legacy, "s3:GetObject", OBJECT, D],
  ["exemption expired 2026-01-31, without MFA: read another user", legacy, "iam:GetUser", bob, D],
];

const request = (who: Who, action: string, resource: string): ScpRequest => ({ ...who, action, resource });

/** The cases whose outcome under `doc` is not the expected one, as "<reading>: <what>: <outcome>". */
async function failures(doc: ScpDocument, stopAtFirst = false): Promise<string[]> {
  const out: string[] = [];
  for (const [what, who, action, resource, expected] of TABLE)
    for (const reading of READINGS as VariableReading[]) {
      const outcome = await underScp(doc, request(who, action, resource), reading);
      if (outcome !== expected) {
        out.push(`${reading}: ${what}: ${outcome}`);
        if (stopAtFirst) return out;
      }
    }
  return out;
}

describe("the synthesized guardrail, evaluated by IAM's rules with an administrator's policy", () => {
  let scp: ScpDocument;
  beforeAll(() => {
    // Read from the management template exactly as it would be deployed (as of AS_OF).
    const content = policyIn(synthAsOf(config({ scp: SCP })).template).properties.Content;
    expect(JSON.stringify(content)).not.toMatch(/"(Fn::|Ref)/);
    scp = content as ScpDocument;
  });

  it.each(TABLE)("%s", async (_what, who, action, resource, expected) => {
    for (const reading of READINGS)
      expect(await underScp(scp, request(who, action, resource), reading), reading).toBe(expected);
  });

  it("checks the table itself: without the guardrail, everything in it is allowed", async () => {
    const empty: ScpDocument = { Version: "2012-10-17", Statement: [] };
    for (const [what, who, action, resource] of TABLE)
      expect(await underScp(empty, request(who, action, resource), "engine"), what).toBe(A);
  });

  it("denies or allows some case differently when any statement, condition or list entry is dropped or changed", async () => {
    const mutations = mutationsOf(scp);
    expect(mutations.length).toBeGreaterThan(50);
    const unnoticed: string[] = [];
    for (const m of mutations) if ((await failures(m.doc, true)).length === 0) unnoticed.push(m.name);
    expect(unnoticed).toEqual([]);
    // The check can fail: a change no case looks at (one more read excepted) goes unnoticed.
    const first = scp.Statement[0] as ScpDocument["Statement"][number];
    const unlooked = {
      ...scp,
      Statement: [
        { ...first, NotAction: [...(first.NotAction ?? []), "iam:ListAccountAliases"] },
        ...scp.Statement.slice(1),
      ],
    };
    expect(await failures(unlooked)).toEqual([]);
  });

  it("needs AWS's reading of a variable with no value to notice the second statement's ArnLike (kept for roles)", async () => {
    // Without it, a role (no aws:username) would match no own-user ARN, so NotResource would deny it.
    const m = mutationsOf(scp).find(
      (x) => x.name === `${GUARDRAIL_SIDS.ownUserOnly}: Condition ArnLike aws:PrincipalArn dropped`,
    );
    expect(m).toBeDefined();
    const found = await failures(m?.doc as ScpDocument);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((f) => f.startsWith("aws: role session"))).toBe(true);
  });
});
