import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CloudFormationClient,
  CreateStackCommand,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
} from "@aws-sdk/client-cloudformation";
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { DoctorCheck } from "@orgmfa/aws";
import { operatorStatements } from "@orgmfa/contract";
import type { ScanReport } from "@orgmfa/core";
import {
  ADMIN,
  AUDIT_ROLE_NAME,
  accountAdminCredentials,
  DEMO_ORG,
  type Emulator,
  IDENTITY_CENTER_ROLE_PATH,
  MEMBER_TEMPLATE_PATH,
  OPERATOR_ROLE_NAME,
  REGION,
  roleCredentials,
  type SeededOrg,
  scannerCredentials,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import { memberParameters, parseDeploymentConfig, REPO_ROOT } from "@orgmfa/infra";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scannerEnv } from "./helpers";
import { runInProcess } from "./in-process";

// The README's real-organization path ("A real organization in three steps", and docs/deployment.md →
// "The operator role"), followed against the
// emulated organization with IAM enforcement on: the member side deployed as the CDK app deploys it from
// a deployment configuration that names the operator (the StackSet and the management account's stack,
// with OperatorRoleName), then `orgmfa doctor` and `orgmfa scan` as a person's Identity Center session
// of that operator role, holding exactly the policy the README says to attach (operatorStatements).

const EXAMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, "apps/infra/orgmfa.config.example.json"), "utf8"));
/** The audit role of a second deployment, with the template's defaults: no OperatorRoleName. */
const WITHOUT_OPERATOR = "OrgMfaAuditRoleWithoutOperator";

let emu: Emulator;
let org: SeededOrg;
/** Parameters the CDK app gives the member StackSet for the example configuration. */
let stackSetParameters: Record<string, string>;
/** A person's session of the operator role (its Identity Center permission set). */
let operator: AwsCredentialIdentity;
let scanner: AwsCredentialIdentity;
/** Sessions of roles the audit roles must not trust (each holding the operator policy). */
const intruders: Record<string, AwsCredentialIdentity> = {};
let intruderArns: Record<string, string> = {};
const admin = <T>(fn: () => Promise<T>) => emu.unenforced(fn);

beforeAll(async () => {
  emu = await startEmulator();
  // Step 1 of the README: the deployment configuration names the operator; the CDK app passes it to the
  // member StackSet and the management account's stack as OperatorRoleName.
  const config = parseDeploymentConfig(EXAMPLE, "apps/infra/orgmfa.config.example.json");
  stackSetParameters = memberParameters(config, false);
  expect(memberParameters(config, true).OperatorRoleName).toBe(stackSetParameters.OperatorRoleName);
  org = await seedOrganization(emu, { ...DEMO_ORG, operatorRoleName: stackSetParameters.OperatorRoleName });

  const iamIn = async (accountId: string) =>
    new IAMClient({
      endpoint: emu.endpoint,
      region: REGION,
      credentials:
        accountId === org.managementAccountId ? ADMIN : await accountAdminCredentials(emu.endpoint, accountId),
    });
  // Roles that must not get in, each with exactly the operator policy (so only the trust policies decide):
  // - the operator's name and Identity Center path, but in another account of the organization;
  // - the scanner account, outside the Identity Center path, named so that its name ends with the operator's.
  const web = org.accounts["prod-web"] as string;
  const impostors: Array<[string, string, string, string]> = [
    ["otherAccount", web, IDENTITY_CENTER_ROLE_PATH, OPERATOR_ROLE_NAME],
    ["outsideSsoPath", org.scannerAccountId, "/people/", `Not${OPERATOR_ROLE_NAME}`],
  ];
  for (const [key, account, rolePath, name] of impostors) {
    const iam = await iamIn(account);
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        Path: rolePath,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "sts:AssumeRole" },
          ],
        }),
      }),
    );
    const policy = await iam.send(
      new CreatePolicyCommand({
        PolicyName: `${name}Policy`,
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: operatorStatements({
            partition: "aws",
            organizationId: org.organizationId,
            auditRoleName: AUDIT_ROLE_NAME,
          }),
        }),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: policy.Policy?.Arn }));
    iam.destroy();
    intruderArns = { ...intruderArns, [key]: role.Role?.Arn ?? "" };
    intruders[key] = await roleCredentials(emu.endpoint, role.Role?.Arn ?? "", "mallory@example.com");
  }

  // A second deployment of the member template with only the parameters it requires (OperatorRoleName
  // left at its default, empty): to the same OUs, and in the management account with Organizations read.
  const cfn = new CloudFormationClient({ endpoint: emu.endpoint, region: REGION, credentials: ADMIN });
  const template = readFileSync(MEMBER_TEMPLATE_PATH, "utf8");
  const parameters = (extra: Record<string, string> = {}) =>
    Object.entries({
      ScannerAccountId: org.scannerAccountId,
      OrganizationId: org.organizationId,
      AuditRoleName: WITHOUT_OPERATOR,
      ...extra,
    }).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
  await cfn.send(
    new CreateStackSetCommand({
      StackSetName: "orgmfa-member-without-operator",
      TemplateBody: template,
      PermissionModel: "SERVICE_MANAGED",
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      Parameters: parameters(),
    }),
  );
  await cfn.send(
    new CreateStackInstancesCommand({
      StackSetName: "orgmfa-member-without-operator",
      DeploymentTargets: { OrganizationalUnitIds: DEMO_ORG.stackSetOus.map((p) => org.ous[p] ?? "") },
      Regions: [REGION],
    }),
  );
  await cfn.send(
    new CreateStackCommand({
      StackName: "orgmfa-management-without-operator",
      TemplateBody: template,
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      Parameters: parameters({ EnableOrganizationsRead: "true" }),
    }),
  );
  cfn.destroy();

  operator = await roleCredentials(emu.endpoint, org.operatorRoleArn ?? "", "alice@example.com");
  scanner = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  await emu.setIamEnforcement(true);
}, 300_000);
afterAll(async () => {
  await emu?.stop();
});

const as = (creds: AwsCredentialIdentity, ...args: string[]) =>
  runInProcess(args, { env: scannerEnv(emu.endpoint, creds) });
const doctor = (creds: AwsCredentialIdentity, ...args: string[]) =>
  as(creds, "doctor", "--org-role-arn", org.orgRoleArn, ...args);
const scanReport = async (creds: AwsCredentialIdentity, ...args: string[]) => {
  const outDir = mkdtempSync(path.join(tmpdir(), "orgmfa-real-path-"));
  const r = await as(creds, "scan", "--org-role-arn", org.orgRoleArn, "--format", "json", "--out-dir", outDir, ...args);
  return { ...r, report: JSON.parse(r.stdout || "null") as ScanReport };
};
const ledger = (r: ScanReport) =>
  Object.fromEntries(r.accounts.map((a) => [a.accountName, `${a.status}${a.reason ? `/${a.reason}` : ""}`]));
const verdicts = (r: ScanReport) =>
  r.findings
    .map(
      (f) =>
        `${f.checkId} ${r.accounts.find((a) => a.accountId === f.accountId)?.accountName} ${f.userName ?? (f.principalArn ? "root" : "-")} ${f.status}`,
    )
    .sort();
/** The aws:PrincipalArn values an audit role's trust policy names, read as an administrator of its account. */
const trusted = (accountId: string, roleName = AUDIT_ROLE_NAME) =>
  admin(async () => {
    const credentials =
      accountId === org.managementAccountId ? ADMIN : await accountAdminCredentials(emu.endpoint, accountId);
    const iam = new IAMClient({ endpoint: emu.endpoint, region: REGION, credentials });
    const role = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    iam.destroy();
    const doc = JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? "{}"));
    return doc.Statement[0].Condition as { ArnLike: { "aws:PrincipalArn": string[] }; StringEquals: unknown };
  });
const assumeAs = async (creds: AwsCredentialIdentity, roleArn: string) => {
  const sts = new STSClient({ endpoint: emu.endpoint, region: REGION, credentials: creds, maxAttempts: 1 });
  try {
    return await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "probe" }));
  } finally {
    sts.destroy();
  }
};
const auditRoleOf = (name: string, roleName = AUDIT_ROLE_NAME) =>
  `arn:aws:iam::${org.accounts[name] ?? org.managementAccountId}:role/${roleName}`;

describe("the README's real-organization path, as the operator (an IAM Identity Center permission set's role)", () => {
  it("deploys the member side with the operator trusted by name in both forms, in the management account for discovery too", async () => {
    expect(stackSetParameters).toMatchObject({ OperatorRoleName: OPERATOR_ROLE_NAME });
    // A person's Identity Center session: its role has the reserved path with the instance's region.
    expect(org.operatorRoleArn).toBe(
      `arn:aws:iam::${org.scannerAccountId}:role/aws-reserved/sso.amazonaws.com/eu-west-1/${OPERATOR_ROLE_NAME}`,
    );
    const s = org.scannerAccountId;
    const base = [
      `arn:aws:iam::${s}:role/OrgMfaScanner`,
      `arn:aws:iam::${s}:role/aws-reserved/sso.amazonaws.com/*OrgMfaScanner`,
    ];
    const operatorForms = [
      `arn:aws:iam::${s}:role/${OPERATOR_ROLE_NAME}`,
      `arn:aws:iam::${s}:role/aws-reserved/sso.amazonaws.com/*${OPERATOR_ROLE_NAME}`,
    ];
    const management = await trusted(org.managementAccountId);
    expect(management.ArnLike["aws:PrincipalArn"]).toEqual([
      ...base,
      `arn:aws:iam::${s}:role/OrgMfaDiscover`,
      ...operatorForms,
    ]);
    expect(management.StringEquals).toEqual({ "aws:PrincipalOrgID": org.organizationId });
    for (const account of ["security-tooling", "prod-payments", "sandbox-ml"]) {
      const member = await trusted(org.accounts[account] as string);
      expect(member.ArnLike["aws:PrincipalArn"], account).toEqual([...base, ...operatorForms]);
      expect(member.StringEquals, account).toEqual({ "aws:PrincipalOrgID": org.organizationId });
    }
  });

  it("`orgmfa doctor` as the operator: the audit role reachable and every IAM read answering in each account that has it; the account outside the StackSet's OUs is the one gap (exit 4)", async () => {
    const r = await doctor(operator, "--format", "json");
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: DoctorCheck[] };
    expect(r.code).toBe(4);
    const legacy = org.accounts["legacy-unmanaged"] as string;
    const gaps = out.checks.filter((c) => !c.ok);
    expect(gaps.map((g) => [g.check, g.accountId])).toEqual([["audit role", legacy]]);
    expect(gaps[0]?.fix).toMatch(/member StackSet/);
    const withRole = ["management", "security-tooling", "prod-payments", "prod-web", "dev-platform", "sandbox-ml"].map(
      (n) => org.accounts[n] as string,
    );
    for (const id of withRole) {
      const checks = out.checks.filter((c) => c.accountId === id);
      expect(
        checks.find((c) => c.check === "audit role"),
        id,
      ).toMatchObject({ ok: true, detail: `assumed arn:aws:iam::${id}:role/${AUDIT_ROLE_NAME}` });
      expect(
        checks.find((c) => c.check === "IAM reads"),
        id,
      ).toMatchObject({ ok: true });
    }
    // The operator policy lets doctor read CloudTrail: no trail is found (a warning without the
    // quarantine), never "not verified".
    const trail = out.checks.find((c) => c.check === "CloudTrail");
    expect(trail).toMatchObject({ ok: true, warning: true });
    expect(trail?.detail).toMatch(/^no trail that is logging management events covers us-east-1/);
  });

  it("`orgmfa doctor` as the operator exits 0 when the account outside the OUs is left out", async () => {
    const r = await doctor(operator, "--exclude-accounts", org.accounts["legacy-unmanaged"] as string);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No gap: 6 accounts ready to scan\./);
  });

  it("`orgmfa scan` as the operator: the demo organization's verdicts and coverage, the same as the scanner role's", async () => {
    const asOperator = await scanReport(operator, "--concurrency", "3");
    expect(asOperator.code).toBe(4);
    expect(asOperator.report.run?.callerArn).toMatch(
      new RegExp(`^arn:aws:sts::${org.scannerAccountId}:assumed-role/${OPERATOR_ROLE_NAME}/alice@example.com$`),
    );
    expect(ledger(asOperator.report)).toEqual({
      master: "AUDITED",
      "security-tooling": "AUDITED",
      "prod-payments": "AUDITED",
      "prod-web": "AUDITED",
      "dev-platform": "AUDITED",
      "sandbox-ml": "AUDITED",
      "legacy-unmanaged": "FAILED/ASSUME_ROLE_DENIED",
      "retired-2019": "SKIPPED/SUSPENDED",
    });
    expect(asOperator.report.summary.accounts).toEqual({ listed: 8, inScope: 7, audited: 6, failed: 1, skipped: 1 });
    expect(verdicts(asOperator.report)).toContain("USER_CONSOLE_NO_MFA prod-payments alice OPEN");
    // The operator is trusted beside the scanner, not instead of it: the scanner role's scan is the same.
    const asScanner = await scanReport(scanner, "--concurrency", "3");
    expect(asScanner.code).toBe(4);
    expect(verdicts(asOperator.report)).toEqual(verdicts(asScanner.report));
    expect(ledger(asOperator.report)).toEqual(ledger(asScanner.report));
  });
});

describe("who is not the operator", () => {
  it("refuses a role of the operator's name and Identity Center path in another account: doctor cannot read the organization (exit 2), and no audit role lets it in", async () => {
    const r = await doctor(intruders.otherAccount as AwsCredentialIdentity);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Cannot read the organization through --org-role-arn ${org.orgRoleArn}`);
    expect(r.stderr).toMatch(/AccessDenied/);
    expect(r.stderr).toContain(`assumed-role/${OPERATOR_ROLE_NAME}/mallory@example.com`);
    expect(r.stderr).toContain(org.accounts["prod-web"] as string);
    await expect(
      assumeAs(intruders.otherAccount as AwsCredentialIdentity, auditRoleOf("prod-payments")),
    ).rejects.toMatchObject({
      name: "AccessDenied",
    });
  });

  it("refuses a role of the scanner account outside the Identity Center path whose name ends with the operator's", async () => {
    expect(intruderArns.outsideSsoPath).toBe(
      `arn:aws:iam::${org.scannerAccountId}:role/people/Not${OPERATOR_ROLE_NAME}`,
    );
    const r = await doctor(intruders.outsideSsoPath as AwsCredentialIdentity);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Cannot read the organization through --org-role-arn ${org.orgRoleArn}`);
    for (const account of ["security-tooling", "prod-payments"])
      await expect(
        assumeAs(intruders.outsideSsoPath as AwsCredentialIdentity, auditRoleOf(account)),
      ).rejects.toMatchObject({
        name: "AccessDenied",
      });
  });

  it("without OperatorRoleName (the default) the audit roles trust no person's role: the operator's scan through them is ASSUME_ROLE_DENIED in every account", async () => {
    // Deployed with the template's defaults: the scanner (and Discover in the management account), no
    // operator entry and no catch-all of the Identity Center path in its place.
    const s = org.scannerAccountId;
    const base = [
      `arn:aws:iam::${s}:role/OrgMfaScanner`,
      `arn:aws:iam::${s}:role/aws-reserved/sso.amazonaws.com/*OrgMfaScanner`,
    ];
    expect(
      (await trusted(org.accounts["prod-payments"] as string, WITHOUT_OPERATOR)).ArnLike["aws:PrincipalArn"],
    ).toEqual(base);
    expect((await trusted(org.managementAccountId, WITHOUT_OPERATOR)).ArnLike["aws:PrincipalArn"]).toEqual([
      ...base,
      `arn:aws:iam::${s}:role/OrgMfaDiscover`,
    ]);
    // The operator, holding the operator policy of that deployment too (so only the trust decides),
    // discovers through the first deployment's management role and scans through the second's roles.
    const policyArn = await admin(async () => {
      const iam = new IAMClient({
        endpoint: emu.endpoint,
        region: REGION,
        credentials: await accountAdminCredentials(emu.endpoint, s),
      });
      const p = await iam.send(
        new CreatePolicyCommand({
          PolicyName: "OrgMfaOperatorPolicyWithoutOperator",
          PolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: operatorStatements({
              partition: "aws",
              organizationId: org.organizationId,
              auditRoleName: WITHOUT_OPERATOR,
            }),
          }),
        }),
      );
      await iam.send(new AttachRolePolicyCommand({ RoleName: OPERATOR_ROLE_NAME, PolicyArn: p.Policy?.Arn }));
      iam.destroy();
      return p.Policy?.Arn ?? "";
    });
    try {
      const r = await scanReport(operator, "--role-name", WITHOUT_OPERATOR);
      expect(r.code).toBe(4);
      const denied = Object.fromEntries(
        r.report.accounts.filter((a) => a.status !== "SKIPPED").map((a) => [a.accountName, `${a.status}/${a.reason}`]),
      );
      expect(denied).toEqual({
        master: "FAILED/ASSUME_ROLE_DENIED",
        "security-tooling": "FAILED/ASSUME_ROLE_DENIED",
        "prod-payments": "FAILED/ASSUME_ROLE_DENIED",
        "prod-web": "FAILED/ASSUME_ROLE_DENIED",
        "dev-platform": "FAILED/ASSUME_ROLE_DENIED",
        "sandbox-ml": "FAILED/ASSUME_ROLE_DENIED",
        "legacy-unmanaged": "FAILED/ASSUME_ROLE_DENIED",
      });
      expect(r.stderr).toContain(`every in-scope account (7) refused AssumeRole of role ${WITHOUT_OPERATOR}`);
      // What the scan says it assumed against: the same session is let in by the first deployment's roles.
      await expect(assumeAs(operator, auditRoleOf("prod-payments"))).resolves.toBeDefined();
      await expect(assumeAs(operator, auditRoleOf("prod-payments", WITHOUT_OPERATOR))).rejects.toMatchObject({
        name: "AccessDenied",
      });
    } finally {
      await admin(async () => {
        const iam = new IAMClient({
          endpoint: emu.endpoint,
          region: REGION,
          credentials: await accountAdminCredentials(emu.endpoint, s),
        });
        await iam.send(new DetachRolePolicyCommand({ RoleName: OPERATOR_ROLE_NAME, PolicyArn: policyArn }));
        iam.destroy();
      });
    }
  });
});
