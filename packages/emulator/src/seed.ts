import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  CloudFormationClient,
  CreateStackCommand,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
} from "@aws-sdk/client-cloudformation";
import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  DeactivateMFADeviceCommand,
  EnableMFADeviceCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  DescribeCreateAccountStatusCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  TagResourceCommand,
} from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import {
  DEFAULT_AUDIT_ROLE_NAME,
  DEFAULT_ENFORCER_ROLE_NAME,
  DEFAULT_SCANNER_ROLE_NAME,
  OPERATOR_POLICY_NAME,
  operatorStatements,
  scannerAssumeStatement,
} from "@orgmfa/core";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { EmulatedRootState, Emulator } from "./server";

/** The member template: the single source of the member-side policy (read, never copied). */
export const MEMBER_TEMPLATE_PATH = fileURLToPath(
  new URL("../../../stacksets/member-audit-role.yaml", import.meta.url),
);

export type DeviceKind = "virtual" | "hardware" | "fido";

export interface UserSpec {
  name: string;
  console?: boolean;
  activeKeys?: number;
  inactiveKeys?: number;
  devices?: DeviceKind[];
  /** A virtual device created for the user but never enabled. */
  unenabledVirtual?: boolean;
  /** A virtual device enabled and then deactivated. */
  deactivated?: boolean;
}

export interface AccountSpec {
  name: string;
  /** OU path below Root, e.g. "Workloads/Prod"; "" for the root. */
  ou: string;
  owner?: string;
  users?: UserSpec[];
  root?: EmulatedRootState;
  /** Closed after creation (Organizations then says SUSPENDED). */
  closed?: boolean;
}

export interface OrgSpec {
  /** OU paths the member StackSet targets (accounts elsewhere do not get the audit role). */
  stackSetOus: string[];
  /** The security-tooling account the scanner runs in (by name). */
  scannerAccount: string;
  accounts: AccountSpec[];
  managementUsers?: UserSpec[];
  managementRoot?: EmulatedRootState;
  /**
   * Deploy the member template with EnableQuarantine=true (the quarantine group, its policy and the
   * enforcer role), trusting the scanner role as the enforcer's operator (the CLI), which may then
   * assume it; the central enforcer role (CentralEnforcerRoleName) is the workflow's (seedDelivery).
   */
  quarantine?: boolean;
  /**
   * With `quarantine`: the member StackSet also gets CentralEventBusArn (the scanner account's
   * {@link IAM_EVENT_BUS_NAME} bus), so its instances — in us-east-1, {@link REGION} — forward IAM's
   * events there and have the forwarding dead-letter queue ({@link FORWARDING_DLQ_NAME}). The
   * management account's stack does not: as when the deployment's region is not us-east-1 (the
   * management stack is a single stack in that region), its account has no such queue.
   */
  forwardIamEvents?: boolean;
  /**
   * Deploy the member template with OperatorRoleName set to this (the StackSet and the management
   * account's stack), and create that role in the scanner account as IAM Identity Center creates a
   * permission set's role — `role/aws-reserved/sso.amazonaws.com/<region>/<name>`, trusting the
   * account's Identity Center SAML provider — holding exactly `operatorStatements` (the policy the CDK
   * app deploys for it). Its sessions are a person's: see {@link roleCredentials}.
   */
  operatorRoleName?: string;
}

export interface SeededOrg {
  organizationId: string;
  managementAccountId: string;
  scannerAccountId: string;
  scannerRoleArn: string;
  /** The audit role of the management account (EnableOrganizationsRead=true), for --org-role-arn. */
  orgRoleArn: string;
  /** The operator role (OrgSpec.operatorRoleName), with its Identity Center path. */
  operatorRoleArn?: string;
  /** Account ids by name (the management account is "management"). */
  accounts: Record<string, string>;
  /** OU ids by path. */
  ous: Record<string, string>;
}

/** The central event bus the member accounts forward IAM's events to (the CDK app's, a fixed name). */
export const IAM_EVENT_BUS_NAME = "orgmfa-iam-events";
/** The member template's forwarding dead-letter queue (its fixed QueueName, in us-east-1 only). */
export const FORWARDING_DLQ_NAME = "orgmfa-forward-iam-events-dlq";

/** The deployed Enforce function's role (the member template's CentralEnforcerRoleName default). */
export const ENFORCER_ROLE_NAME = "OrgMfaEnforcer";
/** The member template's enforcer role (EnforcerRoleName's default). */
export const MEMBER_ENFORCER_ROLE_NAME = DEFAULT_ENFORCER_ROLE_NAME;

/** The scanner role: the identity the member audit roles trust (the deployed ScanBatch function's). */
export const SCANNER_ROLE_NAME = DEFAULT_SCANNER_ROLE_NAME;
/** The deployed Discover function's role (trusted by the management account's audit role only). */
export const DISCOVER_ROLE_NAME = "OrgMfaDiscover";
/** The deployed Publish function's role. */
export const PUBLISH_ROLE_NAME = "OrgMfaPublish";
/** The policy `seedOrganization` gives the scanner role: assuming the audit roles. */
export const SCANNER_ASSUME_POLICY_NAME = "OrgMfaScannerAssumeAuditRoles";
export const AUDIT_ROLE_NAME = DEFAULT_AUDIT_ROLE_NAME;
/**
 * A person's role (OrgSpec.operatorRoleName): an IAM Identity Center permission set `OrgMfaOperator`'s
 * role as Identity Center names it, AWSReservedSSO_<permission set>_<unique suffix>.
 */
export const OPERATOR_ROLE_NAME = "AWSReservedSSO_OrgMfaOperator_0123456789abcdef";
/**
 * Where Identity Center puts a permission set's roles: aws-reserved/sso.amazonaws.com/<region>/ (no
 * region when the identity source is in us-east-1). IAM Identity Center user guide, "Referencing
 * permission sets in resource policies, Amazon EKS, and AWS KMS" (referencingpermissionsets.html).
 */
export const IDENTITY_CENTER_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
export const REGION = "us-east-1";
export const ADMIN = { accessKeyId: "testing", secretAccessKey: "testing" };

/** The emulated organization of `orgmfa demo`: every case of CHECKS.md. */
export const DEMO_ORG: OrgSpec = {
  stackSetOus: ["Security", "Workloads/Prod", "Workloads/Dev", "Sandbox"],
  scannerAccount: "security-tooling",
  managementRoot: { password: true, accessKeys: false, mfa: true },
  managementUsers: [{ name: "billing-admin", console: true, devices: ["fido"] }],
  accounts: [
    {
      name: "security-tooling",
      ou: "Security",
      owner: "secops@example.com",
      root: { password: false, accessKeys: false, mfa: false },
      users: [{ name: "secops-admin", console: true, devices: ["fido"] }],
    },
    {
      name: "prod-payments",
      ou: "Workloads/Prod",
      owner: "payments-team@example.com",
      root: { password: true, accessKeys: false, mfa: false },
      users: [
        { name: "alice", console: true },
        { name: "bob", console: true, devices: ["virtual"] },
        { name: "carol", console: true, devices: ["hardware"] },
        { name: "dave", console: true, devices: ["fido"] },
        { name: "erin", console: true, devices: ["virtual", "hardware"] },
        { name: "ci-deploy", activeKeys: 1 },
      ],
    },
    {
      name: "prod-web",
      ou: "Workloads/Prod",
      owner: "web-team@example.com",
      root: { password: false, accessKeys: false, mfa: false },
      users: [
        { name: "frank", console: true, unenabledVirtual: true },
        { name: "grace", console: true, deactivated: true },
        { name: "old-batch", inactiveKeys: 2 },
        { name: "svc-readonly" },
        { name: "rootops", console: true, devices: ["virtual"] },
      ],
    },
    {
      name: "dev-platform",
      ou: "Workloads/Dev",
      owner: "platform-team@example.com",
      root: { password: false, accessKeys: false, mfa: false },
      users: [
        { name: "heidi", console: true },
        { name: "ivan", activeKeys: 2 },
      ],
    },
    {
      name: "sandbox-ml",
      ou: "Sandbox",
      root: { password: false, accessKeys: true, mfa: true },
      users: [{ name: "mallory", console: true, activeKeys: 1 }],
    },
    { name: "legacy-unmanaged", ou: "Legacy", users: [{ name: "judy", console: true }] },
    { name: "retired-2019", ou: "Sandbox", closed: true },
  ],
};

function clients(endpoint: string, credentials: AwsCredentialIdentity = ADMIN) {
  const common = { endpoint, region: REGION, credentials, maxAttempts: 2 };
  return {
    orgs: new OrganizationsClient(common),
    cfn: new CloudFormationClient(common),
    iam: new IAMClient(common),
    sts: new STSClient(common),
  };
}

/** Temporary credentials of a role, assumed with the emulator's default (management) identity. */
async function assume(endpoint: string, roleArn: string, sessionName: string): Promise<AwsCredentialIdentity> {
  const { sts } = clients(endpoint);
  const r = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
  const c = r.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`seed: AssumeRole of ${roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** Administrator credentials inside a member account, through the role Organizations creates there. */
export function accountAdminCredentials(endpoint: string, accountId: string): Promise<AwsCredentialIdentity> {
  return assume(endpoint, `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`, "orgmfa-seed");
}

/** IAM inside a member account, through the role Organizations creates there. */
async function actAs(endpoint: string, accountId: string): Promise<IAMClient> {
  return clients(endpoint, await accountAdminCredentials(endpoint, accountId)).iam;
}

const code = (n: number) => String(100000 + n).slice(-6);

/** A user enrols a virtual MFA device (authenticator app) named `deviceName`, as the console does; its serial. */
export async function enrolVirtualMfa(iam: IAMClient, userName: string, deviceName: string): Promise<string> {
  const v = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: deviceName }));
  const serial = v.VirtualMFADevice?.SerialNumber ?? "";
  await iam.send(
    new EnableMFADeviceCommand({
      UserName: userName,
      SerialNumber: serial,
      AuthenticationCode1: code(1),
      AuthenticationCode2: code(2),
    }),
  );
  return serial;
}

/**
 * Creates one IAM user exactly as its spec says, through the API (the reference `Emulator.createUsers` is
 * checked against). A FIDO security key or passkey cannot be enabled through the API (IAM registers
 * them only in the console): `console` stands for that console registration (`Emulator.registerFidoDevice`).
 */
export async function createUser(
  iam: IAMClient,
  accountId: string,
  u: UserSpec,
  console?: Pick<Emulator, "registerFidoDevice">,
): Promise<void> {
  await iam.send(new CreateUserCommand({ UserName: u.name }));
  if (u.console) await iam.send(new CreateLoginProfileCommand({ UserName: u.name, Password: "Emulated-Passw0rd!" }));
  for (let i = 0; i < (u.activeKeys ?? 0) + (u.inactiveKeys ?? 0); i++) {
    const k = await iam.send(new CreateAccessKeyCommand({ UserName: u.name }));
    if (i >= (u.activeKeys ?? 0)) {
      await iam.send(
        new UpdateAccessKeyCommand({ UserName: u.name, AccessKeyId: k.AccessKey?.AccessKeyId, Status: "Inactive" }),
      );
    }
  }
  const enable = (serial: string) =>
    iam.send(
      new EnableMFADeviceCommand({
        UserName: u.name,
        SerialNumber: serial,
        AuthenticationCode1: code(1),
        AuthenticationCode2: code(2),
      }),
    );
  for (const [i, kind] of (u.devices ?? []).entries()) {
    if (kind === "virtual") await enrolVirtualMfa(iam, u.name, `${u.name}-app${i}`);
    else if (kind === "hardware") {
      await enable(`GAHT${accountId.slice(-4)}${String(i).padStart(4, "0")}`);
    } else {
      if (!console)
        throw new Error(`createUser: ${u.name}'s FIDO device needs a console registration (pass the emulator)`);
      await console.registerFidoDevice(
        accountId,
        u.name,
        `arn:aws:iam::${accountId}:u2f/user/${u.name}/security-key-${i}`,
      );
    }
  }
  if (u.unenabledVirtual)
    await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `${u.name}-never-enabled` }));
  if (u.deactivated) {
    const serial = await enrolVirtualMfa(iam, u.name, `${u.name}-old-phone`);
    await iam.send(new DeactivateMFADeviceCommand({ UserName: u.name, SerialNumber: serial }));
  }
}

/**
 * Seeds an emulated organization: OUs, accounts, the member template deployed by a real
 * SERVICE_MANAGED StackSet to `stackSetOus` and as a normal stack (EnableOrganizationsRead=true) in
 * the management account, the scanner role in the security-tooling account, users, root states.
 */
export async function seedOrganization(
  emulator: Pick<Emulator, "endpoint" | "setRootState" | "createUsers">,
  spec: OrgSpec = DEMO_ORG,
): Promise<SeededOrg> {
  const { orgs, cfn, iam } = clients(emulator.endpoint);
  const org = await orgs.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
  const organizationId = org.Organization?.Id ?? "";
  const managementAccountId = org.Organization?.MasterAccountId ?? "";
  const rootId = (await orgs.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? "";

  const ous: Record<string, string> = { "": rootId };
  const ensureOu = async (path: string): Promise<string> => {
    if (ous[path]) return ous[path];
    const cut = path.lastIndexOf("/");
    const parent = await ensureOu(cut < 0 ? "" : path.slice(0, cut));
    const r = await orgs.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: path.slice(cut + 1) }));
    ous[path] = r.OrganizationalUnit?.Id ?? "";
    return ous[path];
  };
  for (const p of [...spec.accounts.map((a) => a.ou), ...spec.stackSetOus]) if (p) await ensureOu(p);

  const accounts: Record<string, string> = { management: managementAccountId };
  for (const a of spec.accounts) {
    const created = await orgs.send(
      new CreateAccountCommand({
        AccountName: a.name,
        Email: `${a.name.replace(/[^\w-]/g, "") || "account"}-${Object.keys(accounts).length}@example.com`,
      }),
    );
    const status = await orgs.send(
      new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: created.CreateAccountStatus?.Id }),
    );
    const id = status.CreateAccountStatus?.AccountId ?? "";
    accounts[a.name] = id;
    if (a.ou)
      await orgs.send(
        new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: await ensureOu(a.ou) }),
      );
    if (a.owner) await orgs.send(new TagResourceCommand({ ResourceId: id, Tags: [{ Key: "owner", Value: a.owner }] }));
    if (a.root) emulator.setRootState(id, a.root);
  }
  if (spec.managementRoot) emulator.setRootState(managementAccountId, spec.managementRoot);

  const scannerAccountId = accounts[spec.scannerAccount] ?? managementAccountId;
  const template = readFileSync(MEMBER_TEMPLATE_PATH, "utf8");
  const quarantineParams: Record<string, string> = {
    ...(spec.quarantine ? { EnableQuarantine: "true", EnforcerOperatorRoleName: SCANNER_ROLE_NAME } : {}),
    ...(spec.operatorRoleName ? { OperatorRoleName: spec.operatorRoleName } : {}),
  };
  const params = (extra: Record<string, string> = {}) =>
    Object.entries({ ScannerAccountId: scannerAccountId, OrganizationId: organizationId, ...extra }).map(
      ([ParameterKey, ParameterValue]) => ({
        ParameterKey,
        ParameterValue,
      }),
    );
  await cfn.send(
    new CreateStackSetCommand({
      StackSetName: "orgmfa-member",
      TemplateBody: template,
      PermissionModel: "SERVICE_MANAGED",
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      Parameters: params({
        ...quarantineParams,
        ...(spec.quarantine && spec.forwardIamEvents
          ? { CentralEventBusArn: `arn:aws:events:${REGION}:${scannerAccountId}:event-bus/${IAM_EVENT_BUS_NAME}` }
          : {}),
      }),
    }),
  );
  await cfn.send(
    new CreateStackInstancesCommand({
      StackSetName: "orgmfa-member",
      DeploymentTargets: { OrganizationalUnitIds: spec.stackSetOus.map((p) => ous[p] ?? "") },
      Regions: [REGION],
    }),
  );
  await cfn.send(
    new CreateStackCommand({
      StackName: "orgmfa-management",
      TemplateBody: template,
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      Parameters: params({ EnableOrganizationsRead: "true", ...quarantineParams }),
    }),
  );

  // The scanner role in the security-tooling account: it may assume the audit roles, nothing else.
  const scannerIam = scannerAccountId === managementAccountId ? iam : await actAs(emulator.endpoint, scannerAccountId);
  await scannerIam.send(
    new CreateRoleCommand({
      RoleName: SCANNER_ROLE_NAME,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${scannerAccountId}:root` }, Action: "sts:AssumeRole" },
        ],
      }),
    }),
  );
  const policy = await scannerIam.send(
    new CreatePolicyCommand({
      PolicyName: SCANNER_ASSUME_POLICY_NAME,
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        // The deployed scanner role's statement (one source with the CDK app).
        Statement: [scannerAssumeStatement({ partition: "aws", organizationId, auditRoleName: AUDIT_ROLE_NAME })],
      }),
    }),
  );
  await scannerIam.send(new AttachRolePolicyCommand({ RoleName: SCANNER_ROLE_NAME, PolicyArn: policy.Policy?.Arn }));
  if (spec.quarantine) {
    // The CLI sweeps as one identity: the scanner role, which the member enforcer roles trust here as
    // their operator (EnforcerOperatorRoleName), may also assume them.
    await scannerIam.send(
      new PutRolePolicyCommand({
        RoleName: SCANNER_ROLE_NAME,
        PolicyName: "assume-member-enforcer-roles",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "sts:AssumeRole", Resource: `arn:aws:iam::*:role/${MEMBER_ENFORCER_ROLE_NAME}` },
          ],
        }),
      }),
    );
  }

  let operatorRoleArn: string | undefined;
  if (spec.operatorRoleName) {
    // As IAM Identity Center provisions a permission set's role: under its reserved path, trusting the
    // account's Identity Center SAML provider (a person signs in through the access portal; here the
    // tests take its credentials with the emulator's administrator, as the portal hands them out).
    const role = await scannerIam.send(
      new CreateRoleCommand({
        RoleName: spec.operatorRoleName,
        Path: IDENTITY_CENTER_ROLE_PATH,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: {
                Federated: `arn:aws:iam::${scannerAccountId}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE`,
              },
              Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
              Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
            },
          ],
        }),
      }),
    );
    operatorRoleArn = role.Role?.Arn ?? "";
    // The operator policy, by the name and with the statements the CDK app deploys it with.
    const operatorPolicy = await scannerIam.send(
      new CreatePolicyCommand({
        PolicyName: OPERATOR_POLICY_NAME,
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: operatorStatements({ partition: "aws", organizationId, auditRoleName: AUDIT_ROLE_NAME }),
        }),
      }),
    );
    await scannerIam.send(
      new AttachRolePolicyCommand({ RoleName: spec.operatorRoleName, PolicyArn: operatorPolicy.Policy?.Arn }),
    );
  }

  // Users: one request per account, through the backend calls the IAM API makes (createUser's state;
  // 800 users one API call at a time took ~20 s of the emulator's time).
  await emulator.createUsers(managementAccountId, spec.managementUsers ?? []);
  for (const a of spec.accounts) await emulator.createUsers(accounts[a.name] ?? "", a.users ?? []);
  for (const a of spec.accounts)
    if (a.closed) await orgs.send(new CloseAccountCommand({ AccountId: accounts[a.name] }));

  return {
    organizationId,
    managementAccountId,
    scannerAccountId,
    scannerRoleArn: `arn:aws:iam::${scannerAccountId}:role/${SCANNER_ROLE_NAME}`,
    orgRoleArn: `arn:aws:iam::${managementAccountId}:role/${AUDIT_ROLE_NAME}`,
    ...(operatorRoleArn ? { operatorRoleArn } : {}),
    accounts,
    ous,
  };
}

/** Credentials of the scanner role (what a scheduled scan or an engineer's session would hold). */
export function scannerCredentials(endpoint: string, scannerRoleArn: string): Promise<AwsCredentialIdentity> {
  return assume(endpoint, scannerRoleArn, "orgmfa-scanner");
}

/** Credentials of any role the seed created (e.g. one of `SeededDelivery.roles`), as a function would hold them. */
export function roleCredentials(
  endpoint: string,
  roleArn: string,
  sessionName = "orgmfa",
): Promise<AwsCredentialIdentity> {
  return assume(endpoint, roleArn, sessionName);
}
