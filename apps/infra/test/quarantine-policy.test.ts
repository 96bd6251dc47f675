import { runSimulation } from "@cloud-copilot/iam-simulate";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { includeMemberTemplate } from "../lib/paths";

// The quarantine's policies exactly as the member template writes them (the single source), evaluated
// by a real IAM policy evaluation engine (@cloud-copilot/iam-simulate) against a table of requests.
const ACCOUNT = "111122223333";
const GROUP = "OrgMfaQuarantine";
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/${GROUP}Policy`;
const arn = (rest: string) => `arn:aws:iam::${ACCOUNT}:${rest}`;

type Json = unknown;
/** Resolves the template's intrinsics for one account (Sub, Ref, GetAtt), as CloudFormation would. */
function resolve(v: Json): Json {
  if (Array.isArray(v)) return v.map(resolve);
  if (!v || typeof v !== "object") return v;
  const o = v as Record<string, Json>;
  const sub = (s: string) =>
    s
      .replace(/\$\{AWS::Partition\}/g, "aws")
      .replace(/\$\{AWS::AccountId\}/g, ACCOUNT)
      .replace(/\$\{QuarantineGroupName\}/g, GROUP)
      .replace(/\$\{!/g, "${");
  if ("Fn::Sub" in o) return sub(String(o["Fn::Sub"]));
  if ("Ref" in o) {
    if (o.Ref === "QuarantinePolicy") return POLICY_ARN;
    throw new Error(`unresolved Ref ${String(o.Ref)}`);
  }
  if ("Fn::GetAtt" in o) {
    const att = o["Fn::GetAtt"];
    const [id, attr] = typeof att === "string" ? att.split(".") : (att as [string, string]);
    if (id === "QuarantineGroup" && attr === "Arn") return arn(`group/${GROUP}`);
    throw new Error(`unresolved GetAtt ${id}.${attr}`);
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
}

let quarantinePolicy: Json;
let enforcerPolicy: Json;
beforeAll(() => {
  const stack = new Stack(new App(), "Member");
  includeMemberTemplate(stack, "Template");
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    { Properties: Record<string, Json> }
  >;
  quarantinePolicy = resolve(resources.QuarantinePolicy?.Properties.PolicyDocument);
  enforcerPolicy = resolve(resources.EnforcerPolicy?.Properties.PolicyDocument);
});

type Outcome = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";
/** One request by `user`, MFA as given ("absent": long-term access keys), under the quarantine policy and `others`. */
async function quarantined(
  user: string,
  action: string,
  resource: string,
  mfa: "true" | "false" | "absent",
  others: Json[] = [],
): Promise<Outcome> {
  const r = await runSimulation(
    {
      request: {
        principal: arn(`user/${user}`),
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: {
          "aws:username": user,
          ...(mfa === "absent" ? {} : { "aws:MultiFactorAuthPresent": mfa }),
        },
      },
      identityPolicies: [
        { name: "quarantine", policy: quarantinePolicy },
        ...others.map((policy, i) => ({ name: `other-${i}`, policy })),
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (r.resultType === "error") throw new Error(`${action} on ${resource}: ${JSON.stringify(r.errors)}`);
  return r.overallResult as Outcome;
}

/** What an administrator's other policies give: everything. The quarantine's denies must still hold. */
const ADMIN = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

describe("the quarantine policy, evaluated by IAM's rules", () => {
  const own = arn("user/alice");
  const enrolment: Array<[string, string]> = [
    ["iam:GetUser", own],
    ["iam:ChangePassword", own],
    ["iam:GetAccountPasswordPolicy", "*"],
    ["iam:GetLoginProfile", own],
    ["iam:ListAccessKeys", own],
    ["iam:ListSigningCertificates", own],
    ["iam:ListSSHPublicKeys", own],
    ["iam:ListServiceSpecificCredentials", own],
    ["iam:ListMFADevices", own],
    ["iam:GetMFADevice", own],
    // A virtual device: created under any name, then enabled on their own user; resynced; a half-made one deleted.
    ["iam:CreateVirtualMFADevice", arn("mfa/alice-phone")],
    ["iam:EnableMFADevice", own],
    ["iam:ResyncMFADevice", own],
    ["iam:DeleteVirtualMFADevice", arn("mfa/alice-phone")],
    ["iam:ListVirtualMFADevices", "*"],
    ["iam:GetAccountSummary", "*"],
    ["iam:ListAccountAliases", "*"],
  ];

  it.each(enrolment)(
    "lets a quarantined user without MFA %s (enrolment on the Security credentials page)",
    async (action, resource) => {
      expect(await quarantined("alice", action, resource, "false")).toBe("Allowed");
    },
  );

  it("lets a user with a path do the same on their own user", async () => {
    const pathed = arn("user/engineering/alice");
    expect(await quarantined("alice", "iam:EnableMFADevice", pathed, "false")).toBe("Allowed");
    expect(await quarantined("alice", "iam:ChangePassword", pathed, "false")).toBe("Allowed");
  });

  const forbidden: Array<[string, string, string]> = [
    ["list the account's users", "iam:ListUsers", "*"],
    ["read another user", "iam:GetUser", arn("user/bob")],
    ["enable a device on another user", "iam:EnableMFADevice", arn("user/bob")],
    ["deactivate another user's device", "iam:DeactivateMFADevice", arn("user/bob")],
    ["reset another user's password", "iam:UpdateLoginProfile", arn("user/bob")],
    ["change another user's password", "iam:ChangePassword", arn("user/bob")],
    ["list another user's access keys", "iam:ListAccessKeys", arn("user/bob")],
    ["create an access key", "iam:CreateAccessKey", arn("user/alice")],
    ["give themselves a console password", "iam:CreateLoginProfile", arn("user/alice")],
    ["leave the quarantine group", "iam:RemoveUserFromGroup", arn(`group/${GROUP}`)],
    ["detach the quarantine policy", "iam:DetachUserPolicy", arn("user/alice")],
    ["use another service", "s3:ListAllMyBuckets", "*"],
    ["assume a role", "sts:AssumeRole", arn("role/Admin")],
  ];

  it.each(forbidden)("denies a quarantined administrator without MFA to %s", async (_what, action, resource) => {
    expect(await quarantined("alice", action, resource, "false", [ADMIN])).toBe("ExplicitlyDenied");
  });

  it("denies the same with long-term access keys (no MFA context at all)", async () => {
    expect(await quarantined("alice", "s3:ListAllMyBuckets", "*", "absent", [ADMIN])).toBe("ExplicitlyDenied");
    expect(await quarantined("alice", "iam:ListUsers", "*", "absent", [ADMIN])).toBe("ExplicitlyDenied");
    // …but lets them ask for an MFA session.
    expect(await quarantined("alice", "sts:GetSessionToken", "*", "absent", [ADMIN])).toBe("Allowed");
  });

  it("blocks nothing once the user signs in with MFA (their other policies decide)", async () => {
    for (const [, action, resource] of forbidden)
      expect(await quarantined("alice", action, resource, "true", [ADMIN]), action).toBe("Allowed");
    // Without other policies, the quarantine grants nothing beyond enrolment.
    expect(await quarantined("alice", "s3:ListAllMyBuckets", "*", "true")).toBe("ImplicitlyDenied");
  });
});

describe("the enforcer role's policy", () => {
  async function enforcer(action: string, resource: string, context: Record<string, string> = {}): Promise<Outcome> {
    const r = await runSimulation(
      {
        request: {
          principal: arn("role/OrgMfaQuarantineRole"),
          action,
          resource: { resource, accountId: ACCOUNT },
          contextVariables: context,
        },
        identityPolicies: [{ name: "quarantine", policy: enforcerPolicy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    if (r.resultType === "error") throw new Error(`${action} on ${resource}: ${JSON.stringify(r.errors)}`);
    return r.overallResult as Outcome;
  }

  it("may move users into and out of the quarantine group and read what decides it", async () => {
    for (const action of ["iam:AddUserToGroup", "iam:RemoveUserFromGroup", "iam:GetGroup"])
      expect(await enforcer(action, arn(`group/${GROUP}`)), action).toBe("Allowed");
    for (const action of ["iam:AttachUserPolicy", "iam:DetachUserPolicy"])
      expect(await enforcer(action, arn("user/alice"), { "iam:PolicyARN": POLICY_ARN }), action).toBe("Allowed");
    for (const action of [
      "iam:GetUser",
      "iam:GetLoginProfile",
      "iam:ListMFADevices",
      "iam:ListGroupsForUser",
      "iam:ListAttachedUserPolicies",
    ])
      expect(await enforcer(action, arn("user/alice")), action).toBe("Allowed");
    expect(await enforcer("iam:ListEntitiesForPolicy", POLICY_ARN)).toBe("Allowed");
  });

  it("may not touch any other group or policy, nor change anything else", async () => {
    expect(await enforcer("iam:AddUserToGroup", arn("group/Admins"))).toBe("ImplicitlyDenied");
    expect(await enforcer("iam:RemoveUserFromGroup", arn("group/Admins"))).toBe("ImplicitlyDenied");
    expect(
      await enforcer("iam:AttachUserPolicy", arn("user/alice"), {
        "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess",
      }),
    ).toBe("ImplicitlyDenied");
    expect(
      await enforcer("iam:DetachUserPolicy", arn("user/alice"), { "iam:PolicyARN": arn("policy/SomethingElse") }),
    ).toBe("ImplicitlyDenied");
    for (const action of ["iam:DeleteLoginProfile", "iam:CreateAccessKey", "iam:DeactivateMFADevice", "iam:DeleteUser"])
      expect(await enforcer(action, arn("user/alice")), action).toBe("ImplicitlyDenied");
    expect(await enforcer("iam:ListUsers", "*")).toBe("ImplicitlyDenied");
  });

  it("may count the account's forwarding dead letters (us-east-1), and do nothing else with them or any other queue", async () => {
    const dlq = (region = "us-east-1", account = ACCOUNT, name = "orgmfa-forward-iam-events-dlq") =>
      `arn:aws:sqs:${region}:${account}:${name}`;
    expect(await enforcer("sqs:GetQueueAttributes", dlq())).toBe("Allowed");
    for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue", "sqs:SendMessage"])
      expect(await enforcer(action, dlq()), action).toBe("ImplicitlyDenied");
    for (const other of [dlq("eu-west-1"), dlq("us-east-1", "444455556666"), dlq("us-east-1", ACCOUNT, "payments")])
      expect(await enforcer("sqs:GetQueueAttributes", other), other).toBe("ImplicitlyDenied");
  });
});
