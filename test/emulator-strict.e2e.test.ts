import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateStackCommand } from "@aws-sdk/client-cloudformation";
import {
  AddUserToGroupCommand,
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  EnableMFADeviceCommand,
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  GetUserCommand,
  IAMClient,
  ListAccountAliasesCommand,
  ListMFADevicesCommand,
  ListOrganizationsFeaturesCommand,
  ListRolesCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  EnableAWSServiceAccessCommand,
  OrganizationsClient,
  RegisterDelegatedAdministratorCommand,
} from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { parseCredentialReport } from "@orgmfa/core";
import {
  ADMIN,
  accountAdminCredentials,
  type Emulator,
  EmulatorVersionError,
  findMoto,
  MEMBER_TEMPLATE_PATH,
  MOTO_VERSION,
  type OrgSpec,
  REGION,
  roleCredentials,
  type SeededOrg,
  scannerCredentials,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The emulator must refuse what AWS refuses and answer what AWS answers (the project's testing rule: "at least as
// strict as AWS"): cross-account trust policies, condition keys that are absent, the credential
// report's snapshot and errors, who may call organization-level IAM APIs, FIDO registration.

const SPEC: OrgSpec = {
  stackSetOus: ["Security", "Workloads"],
  scannerAccount: "security-tooling",
  quarantine: true,
  accounts: [
    { name: "security-tooling", ou: "Security", root: { password: false, accessKeys: false, mfa: false } },
    {
      name: "prod",
      ou: "Workloads",
      root: { password: true, accessKeys: false, mfa: true },
      users: [{ name: "alice", console: true }],
    },
  ],
};
const SSO_ROLE = "AWSReservedSSO_OrgMfaScanner_0123abcd";
const SSO_PATH = "/aws-reserved/sso.amazonaws.com/us-east-1/";

let emu: Emulator;
let org: SeededOrg;
let scanner: AwsCredentialIdentity;
let prod: string;
let tooling: string;
/** Sessions of roles in the scanner account, taken before enforcement is on (as the seed does). */
const sessions: Record<string, AwsCredentialIdentity> = {};

const iamAs = (credentials: AwsCredentialIdentity) =>
  new IAMClient({ endpoint: emu.endpoint, region: REGION, credentials, maxAttempts: 1 });
const stsAs = (credentials: AwsCredentialIdentity) =>
  new STSClient({ endpoint: emu.endpoint, region: REGION, credentials, maxAttempts: 1 });
const assume = (credentials: AwsCredentialIdentity, RoleArn: string, extra: Record<string, string> = {}) =>
  stsAs(credentials).send(new AssumeRoleCommand({ RoleArn, RoleSessionName: "strict", ...extra }));
const denied = { name: "AccessDenied", $metadata: { httpStatusCode: 403 } };
const trust = (Statement: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const assumeAnything = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }],
});

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, SPEC);
  prod = org.accounts.prod ?? "";
  tooling = org.scannerAccountId;
  scanner = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  const toolingIam = iamAs(await accountAdminCredentials(emu.endpoint, tooling));
  const prodIam = iamAs(await accountAdminCredentials(emu.endpoint, prod));
  const inTooling = (name: string, rolePath = "/") =>
    toolingIam.send(
      new CreateRoleCommand({
        RoleName: name,
        Path: rolePath,
        AssumeRolePolicyDocument: trust([
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${tooling}:root` }, Action: "sts:AssumeRole" },
        ]),
      }),
    );
  // Roles in the scanner account that may assume any role (identity policy), differing in name or path.
  for (const [name, rolePath] of [
    ["OrgMfaScanner", "/elsewhere/"],
    [SSO_ROLE, SSO_PATH],
    ["Probe", "/"],
  ] as const) {
    // A role's name is unique in an account whatever its path: the pathed scanner is "OrgMfaScanner2".
    const roleName = name === "OrgMfaScanner" ? "OrgMfaScanner2" : name;
    await inTooling(roleName, rolePath);
    await toolingIam.send(
      new PutRolePolicyCommand({ RoleName: roleName, PolicyName: "assume", PolicyDocument: assumeAnything }),
    );
    sessions[roleName] = await roleCredentials(emu.endpoint, `arn:aws:iam::${tooling}:role${rolePath}${roleName}`);
  }
  await inTooling("NoPolicy");
  sessions.NoPolicy = await roleCredentials(emu.endpoint, `arn:aws:iam::${tooling}:role/NoPolicy`);
  // The scanner may assume any role for these tests (its own policy allows only the audit roles).
  await toolingIam.send(
    new PutRolePolicyCommand({ RoleName: "OrgMfaScanner", PolicyName: "assume-any", PolicyDocument: assumeAnything }),
  );

  // In prod: the member template again, for an IAM Identity Center role (ScannerRoleName = its name), and
  // once more for another organization; roles whose trust policies test ExternalId and PrincipalAccount.
  const prodAdmin = await accountAdminCredentials(emu.endpoint, prod);
  const cfn = new (await import("@aws-sdk/client-cloudformation")).CloudFormationClient({
    endpoint: emu.endpoint,
    region: REGION,
    credentials: prodAdmin,
  });
  const template = readFileSync(MEMBER_TEMPLATE_PATH, "utf8");
  const stack = (name: string, params: Record<string, string>) =>
    cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: template,
        Capabilities: ["CAPABILITY_NAMED_IAM"],
        Parameters: Object.entries({ ScannerAccountId: tooling, ...params }).map(([ParameterKey, ParameterValue]) => ({
          ParameterKey,
          ParameterValue,
        })),
      }),
    );
  await stack("sso", { OrganizationId: org.organizationId, ScannerRoleName: SSO_ROLE, AuditRoleName: "SsoAuditRole" });
  await stack("other-org", { OrganizationId: "o-otherorg1234", AuditRoleName: "OtherOrgAuditRole" });
  await prodIam.send(
    new CreateRoleCommand({
      RoleName: "ExternalIdRole",
      AssumeRolePolicyDocument: trust([
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${tooling}:root` },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "sts:ExternalId": "agreed-4711" } },
        },
      ]),
    }),
  );
  await prodIam.send(
    new CreateRoleCommand({
      RoleName: "AccountKeyedRole",
      AssumeRolePolicyDocument: trust([
        {
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:PrincipalAccount": org.managementAccountId } },
        },
      ]),
    }),
  );
  await emu.setIamEnforcement(true);
}, 120_000);
afterAll(async () => {
  await emu?.stop();
});

describe("a: cross-account AssumeRole is judged by the target role's trust policy", () => {
  const audit = (name = "OrgMfaAuditRole") => `arn:aws:iam::${prod}:role/${name}`;

  it("lets the scanner role in (ArnLike aws:PrincipalArn, StringEquals aws:PrincipalOrgID)", async () => {
    const r = await assume(scanner, audit());
    expect(r.AssumedRoleUser?.Arn).toMatch(new RegExp(`^arn:aws:sts::${prod}:assumed-role/OrgMfaAuditRole/`));
  });

  it("refuses a role of the scanner account whose ARN the trust policy does not name (another path)", async () => {
    await expect(assume(sessions.OrgMfaScanner2 as AwsCredentialIdentity, audit())).rejects.toMatchObject(denied);
    await expect(assume(sessions.Probe as AwsCredentialIdentity, audit())).rejects.toMatchObject(denied);
  });

  it("matches an IAM Identity Center role by its ARN with its path (aws-reserved/sso.amazonaws.com/…)", async () => {
    const sso = sessions[SSO_ROLE] as AwsCredentialIdentity;
    const r = await assume(sso, audit("SsoAuditRole"));
    expect(r.AssumedRoleUser?.Arn).toContain(":assumed-role/SsoAuditRole/");
    // The scanner itself is not named by that stack's trust policy.
    await expect(assume(scanner, audit("SsoAuditRole"))).rejects.toMatchObject(denied);
  });

  it("refuses a caller from another organization than the trust policy's aws:PrincipalOrgID", async () => {
    await expect(assume(scanner, audit("OtherOrgAuditRole"))).rejects.toMatchObject({
      ...denied,
      message: expect.stringContaining("sts:AssumeRole"),
    });
  });

  it("requires the agreed sts:ExternalId", async () => {
    const role = audit("ExternalIdRole");
    await expect(assume(scanner, role)).rejects.toMatchObject(denied);
    await expect(assume(scanner, role, { ExternalId: "guessed" })).rejects.toMatchObject(denied);
    expect((await assume(scanner, role, { ExternalId: "agreed-4711" })).Credentials?.AccessKeyId).toBeTruthy();
  });

  it("evaluates aws:PrincipalAccount", async () => {
    await expect(assume(scanner, audit("AccountKeyedRole"))).rejects.toMatchObject(denied);
  });

  it("requires the caller's identity policy to allow sts:AssumeRole when the trust policy names the account", async () => {
    const toolingRole = `arn:aws:iam::${tooling}:role/Probe`;
    await expect(assume(sessions.NoPolicy as AwsCredentialIdentity, toolingRole)).rejects.toMatchObject(denied);
  });

  it("still refuses a role that does not exist", async () => {
    await expect(assume(scanner, audit("NoSuchRole"))).rejects.toMatchObject(denied);
  });
});

describe("b: identity-policy conditions as IAM evaluates them", () => {
  let prodAdmin: IAMClient;
  let probe: AwsCredentialIdentity;
  const policy = (Statement: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement });

  beforeAll(async () => {
    await emu.unenforced(async () => {
      prodAdmin = iamAs(await accountAdminCredentials(emu.endpoint, prod));
      await prodAdmin.send(new CreateUserCommand({ UserName: "probe" }));
      const key = await prodAdmin.send(new CreateAccessKeyCommand({ UserName: "probe" }));
      probe = {
        accessKeyId: key.AccessKey?.AccessKeyId ?? "",
        secretAccessKey: key.AccessKey?.SecretAccessKey ?? "",
      };
      await prodAdmin.send(
        new PutUserPolicyCommand({
          UserName: "probe",
          PolicyName: "conditions",
          PolicyDocument: policy([
            // Needs MFA: a long-term key has no aws:MultiFactorAuthPresent, so this never allows it.
            {
              Effect: "Allow",
              Action: "iam:ListUsers",
              Resource: "*",
              Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
            },
            { Effect: "Allow", Action: ["iam:ListAccountAliases", "iam:ListRoles", "iam:GetUser"], Resource: "*" },
            // Bool without IfExists: does not apply to a long-term key (key absent).
            {
              Effect: "Deny",
              Action: "iam:ListAccountAliases",
              Resource: "*",
              Condition: { Bool: { "aws:MultiFactorAuthPresent": "false" } },
            },
            // BoolIfExists: applies to a long-term key.
            {
              Effect: "Deny",
              Action: "iam:ListRoles",
              Resource: "*",
              Condition: { BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } },
            },
          ]),
        }),
      );
    });
  });

  it("an Allow on Bool aws:MultiFactorAuthPresent=true does not let a long-term access key in", async () => {
    await expect(iamAs(probe).send(new ListUsersCommand({}))).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("a Deny on Bool …=false does not apply to a long-term key (the key is absent); BoolIfExists does", async () => {
    expect((await iamAs(probe).send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual([]);
    await expect(iamAs(probe).send(new ListRolesCommand({}))).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("a role session has aws:MultiFactorAuthPresent=false: Bool …=false applies to it", async () => {
    const roleName = "MfaDeniedRole";
    const session = await emu.unenforced(async () => {
      await prodAdmin.send(
        new CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: trust([
            { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${prod}:role/${roleName}` }, Action: "sts:AssumeRole" },
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${org.managementAccountId}:root` },
              Action: "sts:AssumeRole",
            },
          ]),
        }),
      );
      await prodAdmin.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: "mfa",
          PolicyDocument: policy([
            { Effect: "Allow", Action: "iam:ListAccountAliases", Resource: "*" },
            {
              Effect: "Deny",
              Action: "iam:ListAccountAliases",
              Resource: "*",
              Condition: { Bool: { "aws:MultiFactorAuthPresent": "false" } },
            },
          ]),
        }),
      );
      return roleCredentials(emu.endpoint, `arn:aws:iam::${prod}:role/${roleName}`);
    });
    await expect(iamAs(session).send(new ListAccountAliasesCommand({}))).rejects.toMatchObject({
      name: "AccessDenied",
    });
    // The same role, assumed with MFA (SerialNumber and TokenCode), is let in.
    const withMfa = await assume(session, `arn:aws:iam::${prod}:role/${roleName}`, {
      SerialNumber: `arn:aws:iam::${prod}:mfa/ops-phone`,
      TokenCode: "123456",
    });
    const c = withMfa.Credentials;
    const mfaSession = {
      accessKeyId: c?.AccessKeyId ?? "",
      secretAccessKey: c?.SecretAccessKey ?? "",
      sessionToken: c?.SessionToken,
    };
    expect((await iamAs(mfaSession).send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual([]);
  });

  it("a condition on a key the request does not have fails; …IfExists and Null pass", async () => {
    const attach = (Condition: Record<string, unknown>) =>
      emu.unenforced(() =>
        prodAdmin.send(
          new PutUserPolicyCommand({
            UserName: "probe",
            PolicyName: "absent-key",
            PolicyDocument: policy([{ Effect: "Allow", Action: "iam:ListMFADevices", Resource: "*", Condition }]),
          }),
        ),
      );
    const list = () => iamAs(probe).send(new ListMFADevicesCommand({ UserName: "probe" }));
    await attach({ StringEquals: { "aws:SourceVpc": "vpc-0abc" } });
    await expect(list()).rejects.toMatchObject({ name: "AccessDenied" });
    await attach({ StringEqualsIfExists: { "aws:SourceVpc": "vpc-0abc" } });
    expect((await list()).MFADevices).toEqual([]);
    await attach({ Null: { "aws:SourceVpc": "true" } });
    expect((await list()).MFADevices).toEqual([]);
    await attach({ Null: { "aws:SourceVpc": "false" } });
    await expect(list()).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("an operator the emulator does not evaluate never grants: its Allow does not apply, its Deny does", async () => {
    const attach = (Statement: unknown[]) =>
      emu.unenforced(() =>
        prodAdmin.send(
          new PutUserPolicyCommand({
            UserName: "probe",
            PolicyName: "unknown-operator",
            PolicyDocument: policy(Statement),
          }),
        ),
      );
    const list = () => iamAs(probe).send(new ListMFADevicesCommand({ UserName: "probe" }));
    const onlyFrom = { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } };
    await attach([{ Effect: "Allow", Action: "iam:ListMFADevices", Resource: "*", Condition: onlyFrom }]);
    await expect(list()).rejects.toMatchObject({ name: "AccessDenied" });
    await attach([
      { Effect: "Allow", Action: "iam:ListMFADevices", Resource: "*" },
      { Effect: "Deny", Action: "iam:ListMFADevices", Resource: "*", Condition: { NotIpAddress: onlyFrom.IpAddress } },
    ]);
    await expect(list()).rejects.toMatchObject({ name: "AccessDenied" });
    await attach([{ Effect: "Allow", Action: "iam:ListMFADevices", Resource: "*" }]);
    expect((await list()).MFADevices).toEqual([]);
  });

  it("the member template's quarantine: a user without MFA reads only their own user, whatever else they may do", async () => {
    const quarantined = await emu.unenforced(async () => {
      await prodAdmin.send(new CreateUserCommand({ UserName: "quentin" }));
      await prodAdmin.send(new AddUserToGroupCommand({ GroupName: "OrgMfaQuarantine", UserName: "quentin" }));
      await prodAdmin.send(
        new PutUserPolicyCommand({
          UserName: "quentin",
          PolicyName: "admin",
          PolicyDocument: policy([{ Effect: "Allow", Action: "*", Resource: "*" }]),
        }),
      );
      const k = await prodAdmin.send(new CreateAccessKeyCommand({ UserName: "quentin" }));
      return { accessKeyId: k.AccessKey?.AccessKeyId ?? "", secretAccessKey: k.AccessKey?.SecretAccessKey ?? "" };
    });
    const iam = iamAs(quarantined);
    expect((await iam.send(new GetUserCommand({ UserName: "quentin" }))).User?.UserName).toBe("quentin");
    await expect(iam.send(new GetUserCommand({ UserName: "alice" }))).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(iam.send(new ListUsersCommand({}))).rejects.toMatchObject({ name: "AccessDenied" });
  });
});

describe("c: the credential report is a snapshot, generated as IAM generates it", () => {
  let iam: IAMClient;
  beforeAll(async () => {
    iam = iamAs(await emu.unenforced(() => accountAdminCredentials(emu.endpoint, tooling)));
  });
  const get = () => emu.unenforced(() => iam.send(new GetCredentialReportCommand({})));
  const generate = () => emu.unenforced(() => iam.send(new GenerateCredentialReportCommand({})));

  it("answers ReportNotPresent (410) before any report was generated", async () => {
    await expect(get()).rejects.toMatchObject({
      name: "CredentialReportNotPresentException",
      $metadata: { httpStatusCode: 410 },
    });
  });

  it("answers ReportInProgress (404) while IAM generates, then the report as of its generation", async () => {
    emu.setReportGenerationMs(1500);
    try {
      expect((await generate()).State).toBe("STARTED");
      await expect(get()).rejects.toMatchObject({
        name: "CredentialReportNotReadyException",
        $metadata: { httpStatusCode: 404 },
      });
      expect((await generate()).State).toBe("INPROGRESS");
      await new Promise((r) => setTimeout(r, 1600));
      expect((await generate()).State).toBe("COMPLETE");
    } finally {
      emu.setReportGenerationMs(100);
    }
    const before = await get();
    // A user created after the generation is not in the report, and asking again within four hours
    // gives the same report (IAM regenerates only a report more than four hours old).
    await emu.unenforced(() => iam.send(new CreateUserCommand({ UserName: "latecomer" })));
    expect((await generate()).State).toBe("COMPLETE");
    const after = await get();
    expect(after.GeneratedTime).toEqual(before.GeneratedTime);
    const users = parseCredentialReport(after.Content ?? new Uint8Array()).users.map((u) => u.user);
    expect(users).not.toContain("latecomer");
    // Declared older than four hours, it is generated anew and has the user.
    emu.setReportAge(tooling, 5 * 3600_000);
    expect((await generate()).State).toBe("STARTED");
    await new Promise((r) => setTimeout(r, 150));
    const fresh = await get();
    expect(parseCredentialReport(fresh.Content ?? new Uint8Array()).users.map((u) => u.user)).toContain("latecomer");
    expect(Date.now() - (fresh.GeneratedTime?.getTime() ?? 0)).toBeLessThan(60_000);
  });

  it("has the <root_account> row first, with the declared root state and AWS's columns", async () => {
    const prodIam = iamAs(await emu.unenforced(() => accountAdminCredentials(emu.endpoint, prod)));
    await emu.unenforced(() => prodIam.send(new GenerateCredentialReportCommand({})));
    await new Promise((r) => setTimeout(r, 150));
    const r = await emu.unenforced(() => prodIam.send(new GetCredentialReportCommand({})));
    const lines = Buffer.from(r.Content ?? new Uint8Array())
      .toString("utf8")
      .trim()
      .split("\n");
    expect(lines[0]).toBe(
      "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated",
    );
    const root = (lines[1] ?? "").split(",");
    expect(root.slice(0, 2)).toEqual(["<root_account>", `arn:aws:iam::${prod}:root`]);
    expect({ password: root[3], changed: root[5], rotation: root[6], mfa: root[7], key1: root[8] }).toEqual({
      password: "true",
      changed: "not_supported",
      rotation: "not_supported",
      mfa: "true",
      key1: "false",
    });
    expect(root).toHaveLength(22);
    const parsed = parseCredentialReport(r.Content ?? new Uint8Array());
    expect(parsed.root).toMatchObject({ arn: `arn:aws:iam::${prod}:root`, passwordEnabled: true, mfaActive: true });
  });
});

describe("d: FIDO security keys and passkeys are registered in the console, never through the API", () => {
  it("EnableMFADevice with a FIDO serial is refused; a console registration counts as MFA in the report", async () => {
    const iam = iamAs(await emu.unenforced(() => accountAdminCredentials(emu.endpoint, prod)));
    const serial = `arn:aws:iam::${prod}:u2f/user/alice/security-key-0`;
    await expect(
      emu.unenforced(() =>
        iam.send(
          new EnableMFADeviceCommand({
            UserName: "alice",
            SerialNumber: serial,
            AuthenticationCode1: "123456",
            AuthenticationCode2: "234567",
          }),
        ),
      ),
    ).rejects.toMatchObject({
      name: "InvalidAuthenticationCodeException",
      $metadata: { httpStatusCode: 403 },
    });
    expect((await emu.unenforced(() => iam.send(new ListMFADevicesCommand({ UserName: "alice" })))).MFADevices).toEqual(
      [],
    );
    await emu.registerFidoDevice(prod, "alice", serial);
    const devices = await emu.unenforced(() => iam.send(new ListMFADevicesCommand({ UserName: "alice" })));
    expect(devices.MFADevices?.map((d) => d.SerialNumber)).toEqual([serial]);
  });
});

describe("e: ListOrganizationsFeatures answers the management account and IAM's delegated administrator only", () => {
  const features = (credentials: AwsCredentialIdentity) =>
    iamAs(credentials).send(new ListOrganizationsFeaturesCommand({}));

  it("answers the management account (its audit role, with enforcement on)", async () => {
    const mgmt = await emu.unenforced(() => roleCredentials(emu.endpoint, org.orgRoleArn));
    emu.setOrganizationFeatures(["RootCredentialsManagement"]);
    try {
      const r = await features(mgmt);
      expect(r.EnabledFeatures).toEqual(["RootCredentialsManagement"]);
      expect(r.OrganizationId).toBe(org.organizationId);
    } finally {
      emu.setOrganizationFeatures([]);
    }
  });

  it("refuses a member account, until it is IAM's delegated administrator", async () => {
    await emu.unenforced(async () => {
      const member = await accountAdminCredentials(emu.endpoint, tooling);
      await expect(features(member)).rejects.toMatchObject({
        name: "AccountNotManagementOrDelegatedAdministratorException",
        $metadata: { httpStatusCode: 400 },
      });
      const orgs = new OrganizationsClient({ endpoint: emu.endpoint, region: REGION, credentials: ADMIN });
      await orgs.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: "iam.amazonaws.com" }));
      await orgs.send(
        new RegisterDelegatedAdministratorCommand({ AccountId: tooling, ServicePrincipal: "iam.amazonaws.com" }),
      );
      expect((await features(member)).EnabledFeatures).toEqual([]);
      // Another member still is not.
      await expect(features(await accountAdminCredentials(emu.endpoint, prod))).rejects.toMatchObject({
        name: "AccountNotManagementOrDelegatedAdministratorException",
      });
    });
  });

  it("answers ServiceAccessNotEnabledException when the organization has no trusted access for IAM", async () => {
    emu.setIamTrustedAccess(false);
    try {
      await emu.unenforced(async () => {
        await expect(features(ADMIN)).rejects.toMatchObject({
          name: "ServiceAccessNotEnabledException",
          $metadata: { httpStatusCode: 400 },
        });
      });
    } finally {
      emu.setIamTrustedAccess(true);
    }
  });
});

describe("f: moto is pinned to one exact version", () => {
  it(`findMoto refuses another moto than ${MOTO_VERSION}, naming the version wanted and the pip command`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-fake-moto-"));
    // A python3 whose moto is 5.1.0 (and no moto_server on PATH).
    const fake = path.join(dir, "python3");
    writeFileSync(fake, "#!/bin/sh\necho 5.1.0\n");
    chmodSync(fake, 0o755);
    const saved = process.env.PATH;
    const sh = path.dirname(spawnSync("sh", ["-c", "command -v sh"], { encoding: "utf8" }).stdout.trim());
    process.env.PATH = `${dir}:${sh}`;
    try {
      expect(() => findMoto()).toThrow(EmulatorVersionError);
      expect(() => findMoto()).toThrow(`pip install "moto[server]==${MOTO_VERSION}"`);
      expect(() => findMoto()).toThrow(/emulator 5\.1\.0 was found/);
    } finally {
      process.env.PATH = saved;
    }
    expect(findMoto()?.command).toBeTruthy();
  });
});
