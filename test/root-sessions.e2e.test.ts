import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetLoginProfileCommand, IAMClient, ListUsersCommand } from "@aws-sdk/client-iam";
import { AssumeRootCommand, STSClient } from "@aws-sdk/client-sts";
import { reportProblems, type ScanReport } from "@orgmfa/core";
import {
  DEMO_ORG,
  type Emulator,
  roleCredentials,
  type SeededOrg,
  scannerCredentials,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import { OCSF_VERSION } from "@orgmfa/render";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scannerEnv } from "./helpers";
import { runInProcess } from "./in-process";

const ocsfSchema = JSON.parse(
  readFileSync(
    new URL(`../packages/render/schema/ocsf/${OCSF_VERSION}-compliance_finding-cloud.schema.json`, import.meta.url),
    "utf8",
  ),
);
const validOcsf = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(ocsfSchema);
const runCli = (args: string[], env: Record<string, string>) => runInProcess(args, { env });

// Root audited from the organization (issue 24): sts:AssumeRoot sessions opened by the management
// account's audit role (EnableRootAudit), IAM enforcement on, the emulator refusing what STS refuses.

let emu: Emulator;
let org: SeededOrg;
let env: Record<string, string>;
const id = (name: string) => org.accounts[name] ?? "";

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, DEMO_ORG);
  const creds = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  await emu.setIamEnforcement(true);
  env = scannerEnv(emu.endpoint, creds);
  // legacy-unmanaged has no audit role; its root has a password and no MFA.
  emu.setRootState(id("legacy-unmanaged"), { password: true, accessKeys: false, mfa: false });
  // prod-web's root: an authenticator app and a passkey.
  emu.setRootState(id("prod-web"), {
    password: true,
    accessKeys: false,
    mfa: true,
    devices: [
      `arn:aws:iam::${id("prod-web")}:mfa/root-account-mfa-device`,
      `arn:aws:iam::${id("prod-web")}:u2f/root/passkey-Xk3`,
    ],
  });
  // dev-platform's root: an authenticator app only.
  emu.setRootState(id("dev-platform"), {
    password: true,
    accessKeys: false,
    mfa: true,
    devices: [`arn:aws:iam::${id("dev-platform")}:mfa/root-account-mfa-device`],
  });
  // rootops (prod-web) adds a certified security key; dave's key (prod-payments) has no certification.
  await emu.registerFidoDevice(id("prod-web"), "rootops", `arn:aws:iam::${id("prod-web")}:u2f/user/rootops/yubikey-1`, {
    FIDO: "L1",
    "FIDO-FIPS-140-2": "L2",
  });
  // sandbox-ml's root: a signing certificate besides its access key, and a security key.
  emu.setRootState(id("sandbox-ml"), {
    password: false,
    accessKeys: true,
    signingCertificates: true,
    mfa: true,
    devices: [`arn:aws:iam::${id("sandbox-ml")}:u2f/root/security-key-1`],
  });
}, 120_000);
afterAll(async () => {
  await emu?.stop();
});

const scan = async (...args: string[]) => {
  const out = mkdtempSync(path.join(tmpdir(), "orgmfa-root-"));
  const r = await runCli(
    ["scan", "--org-role-arn", org.orgRoleArn, "--format", "json", "--out-dir", out, "--allow-partial", ...args],
    env,
  );
  if (!r.stdout) throw new Error(`scan failed (${r.code}): ${r.stderr}`);
  return { report: JSON.parse(r.stdout) as ScanReport, out, ...r };
};
const rootFindings = (r: ScanReport, account: string) =>
  r.findings
    .filter((f) => f.accountId === id(account) && f.userName === null && f.principalArn !== null)
    .map((f) => f.checkId)
    .sort();
const ledger = (r: ScanReport, account: string) => r.accounts.find((a) => a.accountId === id(account));

describe("centralized root access on: root audited through sts:AssumeRoot", () => {
  let r: ScanReport;
  let out: string;
  beforeAll(async () => {
    emu.setOrganizationFeatures(["RootCredentialsManagement", "RootSessions"]);
    const config = path.join(mkdtempSync(path.join(tmpdir(), "orgmfa-root-cfg-")), "orgmfa.json");
    writeFileSync(config, JSON.stringify({ requirePhishingResistantMfa: true }));
    ({ report: r, out } = await scan("--assume-root", "--config", config));
  }, 180_000);

  it("gives an account without the audit role its root verdict, and says which parts were audited", () => {
    const legacy = ledger(r, "legacy-unmanaged");
    expect(legacy).toMatchObject({
      status: "FAILED",
      reason: "ASSUME_ROLE_DENIED",
      audited: { users: null, root: "ASSUME_ROOT" },
      root: { credentials: "PRESENT", mfa: "NONE", devicesComplete: true, via: "ASSUME_ROOT", password: true },
    });
    expect(rootFindings(r, "legacy-unmanaged")).toEqual(["ROOT_CREDENTIALS_REMAIN", "ROOT_NO_MFA"]);
    // Its users were not audited: the account is still not audited, and says so.
    expect(r.findings.some((f) => f.accountId === id("legacy-unmanaged") && f.checkId === "ACCOUNT_NOT_AUDITED")).toBe(
      true,
    );
    expect(legacy?.notes?.join(" ")).toMatch(/IAM users were not audited \(ASSUME_ROLE_DENIED\); its root was/);
    expect(reportProblems(r)).toEqual([]);
  });

  it("does not call root with an authenticator app and a passkey non-phishing-resistant; root with only an app is", () => {
    expect(ledger(r, "prod-web")?.root).toMatchObject({ mfa: "VIRTUAL", devicesComplete: true, via: "ASSUME_ROOT" });
    expect(
      ledger(r, "prod-web")
        ?.root?.devices?.map((d) => d.type)
        .sort(),
    ).toEqual(["FIDO", "VIRTUAL"]);
    expect(rootFindings(r, "prod-web")).toEqual(["ROOT_CREDENTIALS_REMAIN", "ROOT_VIRTUAL_MFA"]);
    expect(rootFindings(r, "dev-platform")).toEqual([
      "ROOT_CREDENTIALS_REMAIN",
      "ROOT_VIRTUAL_MFA",
      "USER_MFA_NOT_PHISHING_RESISTANT",
    ]);
  });

  it("reads root's every credential and device: a signing certificate, a FIDO key (FIDO, not hardware)", () => {
    expect(ledger(r, "sandbox-ml")?.root).toMatchObject({
      credentials: "PRESENT",
      mfa: "FIDO",
      activeAccessKeys: true,
      activeSigningCertificates: true,
    });
    const remain = r.findings.find((f) => f.accountId === id("sandbox-ml") && f.checkId === "ROOT_CREDENTIALS_REMAIN");
    expect(remain?.evidence.remaining).toEqual(["access keys", "signing certificates"]);
    expect(String(remain?.evidence.deleteCentrally)).toMatch(/IAMDeleteRootUserCredentials/);
  });

  it("raises no organization-level finding while both features are on; the management account's root is not assumed", () => {
    expect(r.findings.filter((f) => f.checkId.startsWith("ORG_"))).toEqual([]);
    expect(ledger(r, "management")?.root?.via).toBe("MEMBER_ROLE");
  });

  it("classes FIDO devices by the certifications GetMFADevice names: a certified security key, a passkey", () => {
    const users = r.accounts.flatMap((a) => a.users);
    const rootops = users.find((u) => u.userName === "rootops");
    expect(rootops?.mfaDevices.find((d) => d.type === "FIDO")?.certifications).toEqual({
      FIDO: "L1",
      "FIDO-FIPS-140-2": "L2",
    });
    expect(users.find((u) => u.userName === "dave")?.mfaDevices).toMatchObject([{ type: "FIDO", certifications: {} }]);
    const csv = readFileSync(path.join(out, "users.csv"), "utf8");
    expect(csv).toMatch(/,rootops,.*,AUTHENTICATOR_APP SECURITY_KEY\r\n/);
    expect(csv).toMatch(/,dave,.*,PASSKEY\r\n/);
  });

  it("writes the device classes and how each part was audited to the CSV files, and valid OCSF", async () => {
    const accounts = readFileSync(path.join(out, "accounts.csv"), "utf8");
    expect(accounts.split("\r\n")[0]).toMatch(/usersAuditedVia,rootAuditedVia,rootDevicesComplete,rootDeviceClasses$/);
    expect(accounts).toMatch(new RegExp(`${id("legacy-unmanaged")},legacy-unmanaged,.*,,ASSUME_ROOT,true,`));
    expect(accounts).toMatch(/,MEMBER_ROLE,ASSUME_ROOT,true,AUTHENTICATOR_APP FIDO\r\n/);
    const users = readFileSync(path.join(out, "users.csv"), "utf8");
    expect(users.split("\r\n")[0]).toMatch(/,mfaDeviceClasses$/);
    expect(users).toMatch(/,erin,.*,AUTHENTICATOR_APP HARDWARE_TOTP\r\n/);
    const ocsf = await runCli(["report", path.join(out, "report.json"), "--format", "ocsf"], env);
    const lines = ocsf.stdout.trim().split("\n");
    expect(lines.length).toBe(r.findings.length);
    for (const line of lines) expect(validOcsf(JSON.parse(line)), JSON.stringify(validOcsf.errors)).toBe(true);
  });
});

describe("centralized root access off", () => {
  let r: ScanReport;
  beforeAll(async () => {
    emu.setOrganizationFeatures([]);
    ({ report: r } = await scan("--assume-root"));
  }, 180_000);

  it("raises the organization-level findings on the management account, and reads root through the member roles", () => {
    const org = r.findings.filter((f) => f.checkId.startsWith("ORG_"));
    expect(org.map((f) => f.checkId).sort()).toEqual(["ORG_ROOT_CREDENTIALS_MANAGEMENT_OFF", "ORG_ROOT_SESSIONS_OFF"]);
    for (const f of org) expect(f).toMatchObject({ principalArn: null, userName: null });
    expect(new Set(org.map((f) => f.accountId)).size).toBe(1);
    expect(r.warnings?.map((w) => w.field)).toContain("assumeRoot");
    expect(ledger(r, "legacy-unmanaged")).toMatchObject({ status: "FAILED", root: null });
    expect(rootFindings(r, "legacy-unmanaged")).toEqual([]);
    expect(ledger(r, "prod-web")?.root).toMatchObject({ via: "MEMBER_ROLE", devicesComplete: false });
  });
});

describe("a root session, as STS and IAM answer it", () => {
  it("reads root only, within the task policy, and only with its session token", async () => {
    emu.setOrganizationFeatures(["RootCredentialsManagement", "RootSessions"]);
    const mgmt = await emu.unenforced(() => roleCredentials(emu.endpoint, org.orgRoleArn));
    const sts = new STSClient({ region: "us-east-1", endpoint: emu.endpoint, credentials: mgmt });
    const audit = { arn: "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials" };
    const { Credentials: c } = await sts.send(
      new AssumeRootCommand({ TargetPrincipal: id("legacy-unmanaged"), TaskPolicyArn: audit, DurationSeconds: 900 }),
    );
    const iam = (sessionToken?: string) =>
      new IAMClient({
        region: "us-east-1",
        endpoint: emu.endpoint,
        maxAttempts: 1,
        credentials: { accessKeyId: c?.AccessKeyId ?? "", secretAccessKey: c?.SecretAccessKey ?? "", sessionToken },
      });
    expect((await iam(c?.SessionToken).send(new GetLoginProfileCommand({}))).LoginProfile).toBeDefined();
    await expect(iam(c?.SessionToken).send(new ListUsersCommand({}))).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(iam().send(new GetLoginProfileCommand({}))).rejects.toMatchObject({ name: "InvalidClientTokenId" });
    // Over 900 s, or into the management account: refused.
    await expect(
      sts.send(
        new AssumeRootCommand({ TargetPrincipal: id("legacy-unmanaged"), TaskPolicyArn: audit, DurationSeconds: 901 }),
      ),
    ).rejects.toMatchObject({ name: "ValidationError" });
    await expect(
      sts.send(new AssumeRootCommand({ TargetPrincipal: id("management"), TaskPolicyArn: audit })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
  });
});
