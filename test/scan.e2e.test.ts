import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateUserCommand, IAMClient, ListRolesCommand, ListUsersCommand } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { reportProblems, type ScanReport } from "@orgmfa/core";
import {
  DEMO_ORG,
  type Emulator,
  type SeededOrg,
  scannerCredentials,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, scannerEnv } from "./helpers";

let emu: Emulator;
let org: SeededOrg;
let creds: AwsCredentialIdentity;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, DEMO_ORG);
  creds = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  // From here on every call must be allowed by the caller's IAM policies: the scanner role's
  // AssumeRole policy, and the member template's policies inside each account.
  await emu.setIamEnforcement(true);
  env = scannerEnv(emu.endpoint, creds);
});
afterAll(async () => {
  await emu?.stop();
});

const scan = (...args: string[]) => runCli(["scan", "--org-role-arn", org.orgRoleArn, ...args], env);
const key = (r: ScanReport) =>
  r.findings
    .map(
      (f) =>
        `${f.checkId} ${r.accounts.find((a) => a.accountId === f.accountId)?.accountName} ${f.userName ?? (f.principalArn ? "root" : "-")} ${f.status}`,
    )
    .sort();

describe("orgmfa scan of the emulated organization (IAM enforcement on)", () => {
  let report: ScanReport;
  let outDir: string;
  let result: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), "orgmfa-e2e-"));
    result = await scan("--format", "json", "--out-dir", outDir, "--concurrency", "3");
    report = JSON.parse(result.stdout) as ScanReport;
  });

  it("gives exactly the right verdict for every principal", () => {
    expect(key(report)).toEqual([
      "ACCOUNT_NOT_AUDITED legacy-unmanaged - OPEN",
      // Centralized root access is off in the emulated organization: about it, on its management account.
      "ORG_ROOT_CREDENTIALS_MANAGEMENT_OFF master - OPEN",
      "ORG_ROOT_SESSIONS_OFF master - OPEN",
      "ROOT_NO_MFA prod-payments root OPEN",
      "USER_API_NO_MFA dev-platform ivan OPEN",
      "USER_API_NO_MFA prod-payments ci-deploy OPEN",
      "USER_CONSOLE_NO_MFA dev-platform heidi OPEN",
      "USER_CONSOLE_NO_MFA prod-payments alice OPEN",
      "USER_CONSOLE_NO_MFA prod-web frank OPEN",
      "USER_CONSOLE_NO_MFA prod-web grace OPEN",
      "USER_CONSOLE_NO_MFA sandbox-ml mallory OPEN",
      "USER_NO_MFA_NO_CREDENTIALS prod-web old-batch OPEN",
      "USER_NO_MFA_NO_CREDENTIALS prod-web svc-readonly OPEN",
    ]);
    expect(reportProblems(report)).toEqual([]);
  });

  it("accounts for every account exactly once, and exits 4 because one was not audited", () => {
    expect(result.code).toBe(4);
    const ledger = Object.fromEntries(
      report.accounts.map((a) => [a.accountName, `${a.status}${a.reason ? `/${a.reason}` : ""}`]),
    );
    expect(ledger).toEqual({
      master: "AUDITED",
      "security-tooling": "AUDITED",
      "prod-payments": "AUDITED",
      "prod-web": "AUDITED",
      "dev-platform": "AUDITED",
      "sandbox-ml": "AUDITED",
      "legacy-unmanaged": "FAILED/ASSUME_ROLE_DENIED",
      "retired-2019": "SKIPPED/SUSPENDED",
    });
    expect(report.summary.accounts).toEqual({ listed: 8, inScope: 7, audited: 6, failed: 1, skipped: 1 });
    expect(report.organizationId).toBe(org.organizationId);
  });

  it("records each user's devices, console access, keys and how the verdict was reached", () => {
    const users = Object.fromEntries(report.accounts.flatMap((a) => a.users.map((u) => [u.userName, u])));
    // carol's hardware token and dave's FIDO key: the fresh report says MFA is on; which device is not
    // listed unless asked (--complete-inventory), and the record says its list is partial.
    expect(users.carol).toMatchObject({ mfaDevices: [], mfaActive: true, mfaDevicesComplete: false });
    expect(users.dave).toMatchObject({ mfaDevices: [], mfaActive: true, mfaDevicesComplete: false });
    // erin's MFA is proven by her live virtual device; the report is trusted for the rest, so her
    // hardware token is not fetched (verifiedLive=false says the device list may be partial).
    expect(users.erin).toMatchObject({ verifiedLive: false, mfaDevices: [{ type: "VIRTUAL" }] });
    expect(users.frank?.mfaDevices).toEqual([]);
    expect(users.grace?.mfaDevices).toEqual([]);
    expect(users["old-batch"]).toMatchObject({ activeAccessKeys: 0, consoleAccess: false });
    // The report was generated seconds ago by this scan: its rows are trusted for users without MFA.
    expect(users.mallory).toMatchObject({
      consoleAccess: true,
      activeAccessKeys: 1,
      verdictSource: "CREDENTIAL_REPORT",
    });
    expect(users.alice?.verdictSource).toBe("CREDENTIAL_REPORT");
    const roots = Object.fromEntries(
      report.accounts.map((a) => [a.accountName, a.root && `${a.root.credentials}/${a.root.mfa}`]),
    );
    expect(roots).toMatchObject({
      "prod-payments": "PRESENT/NONE",
      "prod-web": "ABSENT/NONE",
      "sandbox-ml": "PRESENT/HARDWARE",
      "legacy-unmanaged": null,
    });
    expect(report.accounts.find((a) => a.accountName === "prod-payments")?.owner).toBeNull();
  });

  it("says per user where the verdict came from, as of when, and whether the device list is complete", () => {
    const users = Object.fromEntries(report.accounts.flatMap((a) => a.users.map((u) => [u.userName, u])));
    const payments = report.accounts.find((a) => a.accountName === "prod-payments");
    expect(users.erin).toMatchObject({
      verdictSource: "CREDENTIAL_REPORT",
      verdictAsOf: payments?.credentialReportGeneratedAt,
      mfaDevicesComplete: false,
    });
    expect(users.carol).toMatchObject({ verdictSource: "CREDENTIAL_REPORT", mfaDevicesComplete: false });
    // A user created after the report would be read live; every user here is older, so the live
    // reads are the users with MFA the report cannot name (none) — and the as-of time is the report's.
    expect(users.carol?.verdictAsOf).toBe(payments?.credentialReportGeneratedAt);
    expect(payments).toMatchObject({ collection: "REPORT_CONFIRMED_LIVE", notes: [] });
  });

  it("a report older than --max-report-age is only a pre-filter: users without MFA are confirmed live, same verdicts", async () => {
    const payments = org.accounts["prod-payments"] ?? "";
    const fresh = JSON.parse((await scan("--format", "json", "--accounts", payments)).stdout) as ScanReport;
    emu.setReportAge(payments, 3 * 3600_000);
    try {
      const old = JSON.parse((await scan("--format", "json", "--accounts", payments)).stdout) as ScanReport;
      const forced = JSON.parse(
        (await scan("--format", "json", "--accounts", payments, "--max-report-age", "0")).stdout,
      ) as ScanReport;
      const user = (r: ScanReport, name: string) => r.accounts.flatMap((a) => a.users).find((u) => u.userName === name);
      expect(user(fresh, "alice")?.verdictSource).toBe("CREDENTIAL_REPORT");
      expect(user(old, "alice")?.verdictSource).toBe("LIVE");
      expect(user(forced, "alice")?.verdictSource).toBe("LIVE");
      const account = old.accounts.find((a) => a.accountId === payments);
      expect(account?.notes?.join(" ")).toMatch(/The credential report was 18\d min old/);
      expect(Date.now() - Date.parse(account?.credentialReportGeneratedAt ?? "")).toBeGreaterThan(2.9 * 3600_000);
      expect(key(old)).toEqual(key(fresh));
      expect(key(forced)).toEqual(key(fresh));
    } finally {
      emu.setReportAge(payments, 0);
    }
  });

  it("--complete-inventory lists every device of every user (erin's hardware token too)", async () => {
    const r = JSON.parse(
      (await scan("--format", "json", "--complete-inventory", "--accounts", org.accounts["prod-payments"] ?? ""))
        .stdout,
    ) as ScanReport;
    const all = Object.fromEntries(r.accounts.flatMap((a) => a.users).map((u) => [u.userName, u]));
    expect(all.erin?.mfaDevices.map((d) => d.type).sort()).toEqual(["HARDWARE", "VIRTUAL"]);
    expect(all.erin).toMatchObject({ mfaDevicesComplete: true, verdictSource: "LIVE" });
    expect(all.carol).toMatchObject({ mfaDevices: [{ type: "HARDWARE" }], mfaDevicesComplete: true });
    expect(all.dave?.mfaDevices.map((d) => d.type)).toEqual(["FIDO"]);
    expect(r.run?.completeInventory).toBe(true);
  });

  it("records who ran the scan, where, with which filters, and every check as it ran", () => {
    expect(report.run).toMatchObject({
      callerArn: expect.stringMatching(/^arn:aws:sts::\d{12}:assumed-role\/OrgMfaScanner\//),
      region: "us-east-1",
      filters: { accounts: [], excludeAccounts: [], ous: [], excludeOus: [] },
      configSha256: null,
      completeInventory: false,
    });
    expect(report.checks?.map((c) => `${c.id}:${c.enabled}:${c.severity}`)).toEqual([
      "ROOT_NO_MFA:true:CRITICAL",
      "ROOT_VIRTUAL_MFA:true:CRITICAL",
      "USER_CONSOLE_NO_MFA:true:HIGH",
      "USER_API_NO_MFA:true:MEDIUM",
      "USER_NO_MFA_NO_CREDENTIALS:true:LOW",
      "USER_MFA_NOT_PHISHING_RESISTANT:false:MEDIUM",
      "ROOT_CREDENTIALS_REMAIN:true:MEDIUM",
      "ORG_ROOT_CREDENTIALS_MANAGEMENT_OFF:true:MEDIUM",
      "ORG_ROOT_SESSIONS_OFF:true:LOW",
      "ACCOUNT_NOT_AUDITED:true:HIGH",
    ]);
    expect(report.checks?.find((c) => c.id === "USER_CONSOLE_NO_MFA")?.controls).toEqual([
      "IAM.5",
      "IAM.19",
      "CIS v7.0 2.10",
      "CIS v3.0 1.10",
    ]);
  });

  it("recommends removing root credentials where centralized root access is enabled", async () => {
    emu.setOrganizationFeatures(["RootCredentialsManagement", "RootSessions"]);
    try {
      const r = JSON.parse(
        (await scan("--format", "json", "--accounts", org.accounts["prod-payments"] ?? "")).stdout,
      ) as ScanReport;
      const root = r.findings.find((f) => f.checkId === "ROOT_NO_MFA");
      expect(String(root?.evidence.recommendation)).toMatch(/remove this account's root credentials/);
    } finally {
      emu.setOrganizationFeatures([]);
    }
  });

  it("writes report.json and the CSV files to --out-dir", () => {
    const saved = JSON.parse(readFileSync(path.join(outDir, "report.json"), "utf8")) as ScanReport;
    expect(saved.scanId).toBe(report.scanId);
    expect(readFileSync(path.join(outDir, "findings.csv"), "utf8").split("\r\n")[0]).toMatch(
      /^id,checkId,severity,status,accountId/,
    );
    expect(readFileSync(path.join(outDir, "accounts.csv"), "utf8")).toMatch(
      /legacy-unmanaged.*FAILED,ASSUME_ROLE_DENIED/,
    );
    expect(readFileSync(path.join(outDir, "users.csv"), "utf8").trim().split("\r\n")).toHaveLength(1 + 16);
  });

  it("keeps stdout to data only and shows no progress when stderr is not a terminal", () => {
    expect(result.stderr).toBe("");
  });
});

describe("exit codes, filters and formats", () => {
  it("--allow-partial gives 3 for open HIGH findings, and 0 with --fail-on none", async () => {
    expect((await scan("--allow-partial", "--format", "json", "--quiet")).code).toBe(3);
    expect((await scan("--allow-partial", "--fail-on", "none", "--format", "json")).code).toBe(0);
  });

  it("--exclude-accounts makes the account SKIPPED/EXCLUDED and coverage complete", async () => {
    const r = await scan("--exclude-accounts", org.accounts["legacy-unmanaged"] ?? "", "--format", "json");
    const report = JSON.parse(r.stdout) as ScanReport;
    expect(report.accounts.find((a) => a.accountName === "legacy-unmanaged")).toMatchObject({
      status: "SKIPPED",
      reason: "EXCLUDED",
    });
    expect(report.summary.coverage).toBe(1);
    expect(r.code).toBe(3);
  });

  it("--ou scans only the accounts under that OU, nested OUs included", async () => {
    const r = await scan("--ou", org.ous.Workloads ?? "", "--format", "json");
    const report = JSON.parse(r.stdout) as ScanReport;
    expect(
      report.accounts
        .filter((a) => a.status === "AUDITED")
        .map((a) => a.accountName)
        .sort(),
    ).toEqual(["dev-platform", "prod-payments", "prod-web"]);
  });

  it("--format table and csv are readable", async () => {
    const t = await scan("--format", "table", "--allow-partial");
    expect(t.stdout).toMatch(
      /orgmfa scan .*: 8 users without MFA \(7 IAM, 1 root\); 1 account not audited\n13 open findings: 8 users without MFA, 2 users with no MFA and no credential yet, 1 account not audited, 2 root access findings\n/,
    );
    expect(t.stdout).toMatch(/legacy-unmanaged[\s\S]*ASSUME_ROLE_DENIED/);
    const c = await scan("--format", "csv");
    expect(c.stdout.split("\r\n").filter(Boolean)).toHaveLength(1 + 13);
  });

  it("applies exemptions from --config and re-grades checks", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-cfg-"));
    const file = path.join(dir, "orgmfa.json");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      file,
      JSON.stringify({
        ownerTag: "owner",
        checks: { USER_API_NO_MFA: { severity: "LOW" } },
        exemptions: [
          {
            account: "*",
            principal: "ALICE",
            checks: ["USER_CONSOLE_NO_MFA"],
            reason: "leaves Friday",
            expires: "2099-01-01",
          },
        ],
      }),
    );
    const report = JSON.parse((await scan("--config", file, "--format", "json")).stdout) as ScanReport;
    expect(report.findings.find((f) => f.userName === "alice")).toMatchObject({
      status: "EXEMPTED",
      exemption: { reason: "leaves Friday" },
    });
    expect(report.findings.filter((f) => f.checkId === "USER_API_NO_MFA").map((f) => f.severity)).toEqual([
      "LOW",
      "LOW",
    ]);
    expect(report.accounts.find((a) => a.accountName === "prod-payments")?.owner).toBe("payments-team@example.com");
    // The report records the exemptions in force and the config it ran with.
    expect(report.exemptions).toEqual([
      {
        account: "*",
        principal: "ALICE",
        checks: ["USER_CONSOLE_NO_MFA"],
        reason: "leaves Friday",
        expires: "2099-01-01",
        status: "ACTIVE",
      },
    ]);
    expect(report.run?.configSha256).toBe(createHash("sha256").update(readFileSync(file)).digest("hex"));
  });
});

describe("least privilege, proven by the emulator's IAM enforcement", () => {
  async function auditRoleIam(accountName: string): Promise<IAMClient> {
    const sts = new STSClient({ endpoint: emu.endpoint, region: "us-east-1", credentials: creds });
    const r = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${org.accounts[accountName]}:role/OrgMfaAuditRole`,
        RoleSessionName: "least-privilege",
      }),
    );
    const c = r.Credentials;
    return new IAMClient({
      endpoint: emu.endpoint,
      region: "us-east-1",
      maxAttempts: 1,
      credentials: {
        accessKeyId: c?.AccessKeyId ?? "",
        secretAccessKey: c?.SecretAccessKey ?? "",
        sessionToken: c?.SessionToken,
      },
    });
  }

  it("the audit role can read users (the scan above succeeded with only the template's policies)", async () => {
    const iam = await auditRoleIam("prod-payments");
    expect((await iam.send(new ListUsersCommand({}))).Users?.length).toBe(6);
  });

  it("a call outside the template's policies is denied", async () => {
    const iam = await auditRoleIam("prod-payments");
    await expect(iam.send(new CreateUserCommand({ UserName: "intruder" }))).rejects.toMatchObject({
      name: "AccessDenied",
    });
    await expect(iam.send(new ListRolesCommand({}))).rejects.toMatchObject({ name: "AccessDenied" });
  });
});
