import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DeleteLoginProfileCommand,
  DeleteRoleCommand,
  DeleteUserCommand,
  DetachRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
} from "@aws-sdk/client-iam";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { type AwsSecurityFinding, BatchImportFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { reportProblems, type ScanReport } from "@orgmfa/core";
import {
  ADMIN,
  AUDIT_ROLE_NAME,
  accountAdminCredentials,
  DEMO_ORG,
  DeliveryReader,
  type Emulator,
  enrolVirtualMfa,
  REGION,
  type SeededDelivery,
  type SeededOrg,
  scannerCredentials,
  seedDelivery,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, scannerEnv } from "./helpers";

let emu: Emulator;
let org: SeededOrg;
let delivery: SeededDelivery;
let reader: DeliveryReader;
let env: Record<string, string>;
let configFile: string;

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, DEMO_ORG);
  delivery = await seedDelivery(emu.endpoint, org);
  reader = new DeliveryReader(emu.endpoint, delivery, org);
  const creds = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  await emu.setIamEnforcement(true);
  env = scannerEnv(emu.endpoint, creds);
  configFile = path.join(mkdtempSync(path.join(tmpdir(), "orgmfa-delivery-")), "config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      ownerTag: "owner",
      s3KmsKeyId: delivery.kmsKeyArn,
      snsPerAccountMessages: true,
      exemptions: [
        {
          account: org.accounts["dev-platform"],
          principal: "heidi",
          checks: ["USER_CONSOLE_NO_MFA"],
          reason: "break-glass user, key on order",
          expires: "2099-12-31",
        },
      ],
    }),
  );
});
afterAll(async () => {
  await emu?.stop();
});

const id = (name: string) => org.accounts[name] ?? "";

/** One `orgmfa scan` delivering to S3, Security Hub and SNS, as the scanner role. */
async function deliver(...extra: string[]) {
  const outDir = mkdtempSync(path.join(tmpdir(), "orgmfa-delivery-out-"));
  const r = await runCli(
    [
      "scan",
      "--org-role-arn",
      org.orgRoleArn,
      "--config",
      configFile,
      "--format",
      "json",
      "--out-dir",
      outDir,
      "--s3-bucket",
      delivery.bucket,
      "--security-hub",
      "--sns-topic-arn",
      delivery.topicArn,
      ...extra,
    ],
    env,
  );
  return { ...r, outDir, report: r.stdout ? (JSON.parse(r.stdout) as ScanReport) : (null as unknown as ScanReport) };
}

/** Reads back what landed as the administrator (enforcement off only for the read). */
const asAdmin = <T>(read: () => Promise<T>): Promise<T> => emu.unenforced(read);

const orgmfaFindings = (accountId: string) =>
  asAdmin(() => reader.findings(accountId)).then((fs) => fs.filter((f) => f.GeneratorId?.startsWith("orgmfa/")));
const byName = (fs: AwsSecurityFinding[], suffix: string) => fs.find((f) => f.Id?.endsWith(suffix));

async function adminIam(accountId: string) {
  return new IAMClient({
    endpoint: emu.endpoint,
    region: "us-east-1",
    credentials: await accountAdminCredentials(emu.endpoint, accountId),
  });
}

describe("orgmfa scan delivers to S3, Security Hub and SNS (IAM enforcement on)", () => {
  let first: Awaited<ReturnType<typeof deliver>>;

  beforeAll(async () => {
    first = await deliver();
  });

  it("delivers without problems and still exits 4 for the account it could not audit", () => {
    expect(first.stderr).not.toMatch(/delivery to/);
    expect(first.code).toBe(4);
    expect(reportProblems(first.report)).toEqual([]);
  });

  it("stores every file under scans/<yyyy>/<mm>/<dd>/<scanId>/ and latest/, SSE-KMS, with a manifest that proves them", async () => {
    const r = first.report;
    const d = new Date(r.startedAt);
    const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, "0")}/${String(d.getUTCDate()).padStart(2, "0")}`;
    const scanDir = `orgmfa/scans/${day}/${r.scanId}/`;
    const names = ["accounts.csv", "findings.csv", "manifest.json", "report.html", "report.json", "users.csv"];
    const keys = await asAdmin(() => reader.keys("orgmfa/"));
    // The scan's rows for queries over the history (docs/history.md), under its UTC day.
    const dt = r.startedAt.slice(0, 10);
    const history = ["accounts", "changes", "findings", "users"].map(
      (t) => `orgmfa/history/${t}/dt=${dt}/${r.scanId}.jsonl.gz`,
    );
    expect(keys).toEqual([
      ...history,
      ...names.map((n) => `orgmfa/latest/${n}`),
      ...names.map((n) => `${scanDir}${n}`),
    ]);

    const manifest = JSON.parse((await asAdmin(() => reader.object(`${scanDir}manifest.json`))).body.toString()) as {
      scanId: string;
      files: Array<{ name: string; bytes: number; sha256: string }>;
    };
    expect(manifest.scanId).toBe(r.scanId);
    expect(manifest.files.map((f) => f.name)).toEqual(names.filter((n) => n !== "manifest.json"));
    for (const f of manifest.files) {
      const obj = await asAdmin(() => reader.object(`${scanDir}${f.name}`));
      expect(createHash("sha256").update(obj.body).digest("hex"), f.name).toBe(f.sha256);
      expect(obj.body.length).toBe(f.bytes);
      expect(obj.sse).toBe("aws:kms");
      expect(obj.kmsKeyId).toBe(delivery.kmsKeyArn);
      // --out-dir holds the very same bytes, and latest/ is a copy of the newest scan.
      expect(readFileSync(path.join(first.outDir, f.name)).equals(obj.body), f.name).toBe(true);
      expect((await asAdmin(() => reader.object(`orgmfa/latest/${f.name}`))).body.equals(obj.body)).toBe(true);
    }
  });

  it("imports one finding per gap into the account it belongs to, with product, resource, severity and controls", async () => {
    const r = first.report;
    for (const name of ["prod-payments", "prod-web", "dev-platform", "sandbox-ml"]) {
      const hub = await orgmfaFindings(id(name));
      const expected = r.findings.filter((f) => f.accountId === id(name)).map((f) => f.id);
      expect(hub.map((f) => f.Id).sort(), name).toEqual([...expected].sort());
      expect(new Set(hub.map((f) => f.Id)).size, `${name}: no duplicates`).toBe(hub.length);
      for (const f of hub) {
        expect(f.ProductArn).toBe(`arn:aws:securityhub:us-east-1:${id(name)}:product/${id(name)}/default`);
        expect(f.AwsAccountId).toBe(id(name));
        expect(f.Remediation?.Recommendation?.Text).toBeTruthy();
        expect(f.ProductFields?.["orgmfa/ScanId"]).toBe(r.scanId);
        expect(f.ProductFields?.["orgmfa/AccountName"]).toBe(name);
      }
    }
    const payments = await orgmfaFindings(id("prod-payments"));
    const alice = byName(payments, "/user/alice");
    expect(alice?.Resources?.[0]).toMatchObject({
      Type: "AwsIamUser",
      Id: `arn:aws:iam::${id("prod-payments")}:user/alice`,
      Details: { AwsIamUser: { UserName: "alice" } },
    });
    expect(alice?.FindingProviderFields?.Severity?.Label).toBe("HIGH");
    expect(alice?.Compliance).toMatchObject({
      Status: "FAILED",
      RelatedRequirements: ["IAM.5", "IAM.19", "CIS v7.0 2.10", "CIS v3.0 1.10"],
    });
    expect(alice?.RecordState).toBe("ACTIVE");
    const root = byName(payments, "/root");
    expect(root?.Resources?.[0]).toMatchObject({ Type: "AwsAccount", Id: `AWS::::Account:${id("prod-payments")}` });
    expect(root?.FindingProviderFields?.Severity?.Label).toBe("CRITICAL");
    // An exempted gap is recorded, but not active.
    expect(byName(await orgmfaFindings(id("dev-platform")), "/user/heidi")?.RecordState).toBe("ARCHIVED");

    // The account that could not be audited: its finding lives in the scanning account.
    const scanner = await orgmfaFindings(org.scannerAccountId);
    const notAudited = scanner.find((f) => f.GeneratorId === "orgmfa/ACCOUNT_NOT_AUDITED");
    expect(notAudited).toMatchObject({
      AwsAccountId: org.scannerAccountId,
      ProductArn: `arn:aws:securityhub:us-east-1:${org.scannerAccountId}:product/${org.scannerAccountId}/default`,
      RecordState: "ACTIVE",
    });
    expect(notAudited?.Resources?.[0]?.Id).toBe(`AWS::::Account:${id("legacy-unmanaged")}`);
  });

  it("publishes one digest and per-account messages with filterable attributes", async () => {
    const msgs = await asAdmin(() => reader.messages());
    const digests = msgs.filter((m) => !m.MessageAttributes?.accountId);
    expect(digests).toHaveLength(1);
    const digest = digests[0];
    expect(digest?.Subject).toBe("orgmfa: 8 users without MFA (1 exempted) in 4 of 7 accounts, 1 not audited");
    expect(digest?.Message).toContain("legacy-unmanaged");
    expect(digest?.Message).toContain("ASSUME_ROLE_DENIED");
    expect(digest?.Message).toContain(`Full report: s3://${delivery.bucket}/orgmfa/scans/`);
    const perAccount = msgs.filter((m) => m.MessageAttributes?.accountId);
    const attrs = Object.fromEntries(
      perAccount.map((m) => [m.MessageAttributes?.accountId?.Value, m.MessageAttributes?.severity?.Value]),
    );
    expect(attrs).toEqual({
      // The management account: centralized root access is off in the emulated organization.
      [id("management")]: "MEDIUM",
      [id("prod-payments")]: "CRITICAL",
      [id("prod-web")]: "HIGH",
      [id("sandbox-ml")]: "HIGH",
      [id("legacy-unmanaged")]: "HIGH",
      [id("dev-platform")]: "MEDIUM",
    });
  });

  describe("over later scans", () => {
    let second: Awaited<ReturnType<typeof deliver>>;

    beforeAll(async () => {
      await asAdmin(async () => {
        // An analyst takes two findings into their workflow (in AWS: BatchUpdateFindings).
        for (const [name, user] of [
          ["prod-payments", "alice"],
          ["sandbox-ml", "mallory"],
        ] as const) {
          const sh = new SecurityHubClient({
            endpoint: emu.endpoint,
            region: "us-east-1",
            credentials: await accountAdminCredentials(emu.endpoint, id(name)),
          });
          const f = byName(await reader.findings(id(name)), `/user/${user}`);
          await sh.send(
            new BatchImportFindingsCommand({
              Findings: [{ ...f, Workflow: { Status: "NOTIFIED" } }] as AwsSecurityFinding[],
            }),
          );
        }
        // alice enrols MFA; frank is deleted; sandbox-ml loses its audit role (it will fail).
        const payments = await adminIam(id("prod-payments"));
        await enrolVirtualMfa(payments, "alice", "alice-phone");
        const web = await adminIam(id("prod-web"));
        await web.send(new DeleteLoginProfileCommand({ UserName: "frank" }));
        await web.send(new DeleteUserCommand({ UserName: "frank" }));
        const sandbox = await adminIam(id("sandbox-ml"));
        const attached = await sandbox.send(new ListAttachedRolePoliciesCommand({ RoleName: AUDIT_ROLE_NAME }));
        for (const p of attached.AttachedPolicies ?? [])
          await sandbox.send(new DetachRolePolicyCommand({ RoleName: AUDIT_ROLE_NAME, PolicyArn: p.PolicyArn }));
        await sandbox.send(new DeleteRoleCommand({ RoleName: AUDIT_ROLE_NAME }));
        await reader.messages(); // the first scan's messages are read
      });
      second = await deliver();
    });

    it("archives as PASSED the findings of a user who enrolled MFA and of a deleted user", async () => {
      expect(second.stderr).not.toMatch(/delivery to/);
      expect(second.report.changes?.previousScanId).toBe(first.report.scanId);
      expect(second.report.changes?.resolved).toEqual(
        [
          `orgmfa/USER_CONSOLE_NO_MFA/${id("prod-payments")}/user/alice`,
          `orgmfa/USER_CONSOLE_NO_MFA/${id("prod-web")}/user/frank`,
        ].sort(),
      );
      expect(second.report.changes?.new).toEqual([`orgmfa/ACCOUNT_NOT_AUDITED/${id("sandbox-ml")}/account`]);
      const alice = byName(await orgmfaFindings(id("prod-payments")), "/user/alice");
      expect(alice).toMatchObject({ RecordState: "ARCHIVED", Compliance: { Status: "PASSED" } });
      expect(Date.parse(alice?.UpdatedAt ?? "")).toBeGreaterThan(Date.parse(first.report.finishedAt));
      expect(alice?.Workflow?.Status, "the analyst's workflow state survives").toBe("NOTIFIED");
      const web = await orgmfaFindings(id("prod-web"));
      expect(byName(web, "/user/frank")).toMatchObject({ RecordState: "ARCHIVED", Compliance: { Status: "PASSED" } });
      expect(byName(web, "/user/grace")).toMatchObject({ RecordState: "ACTIVE", Compliance: { Status: "FAILED" } });
    });

    it("leaves a failed account's findings alone and reports it from the scanning account", async () => {
      expect(second.report.accounts.find((a) => a.accountId === id("sandbox-ml"))?.reason).toBe("ASSUME_ROLE_DENIED");
      const mallory = byName(await orgmfaFindings(id("sandbox-ml")), "/user/mallory");
      expect(mallory).toMatchObject({
        RecordState: "ACTIVE",
        Compliance: { Status: "FAILED" },
        Workflow: { Status: "NOTIFIED" },
      });
      const scanner = await orgmfaFindings(org.scannerAccountId);
      expect(byName(scanner, `ACCOUNT_NOT_AUDITED/${id("sandbox-ml")}/account`)?.RecordState).toBe("ACTIVE");
    });

    it("keeps every scan in S3, latest/ pointing at the newest, and says what was resolved in the digest", async () => {
      const keys = await asAdmin(() => reader.keys("orgmfa/scans/"));
      expect(keys.filter((k) => k.endsWith("/report.json"))).toHaveLength(2);
      const latest = JSON.parse((await asAdmin(() => reader.object("orgmfa/latest/report.json"))).body.toString());
      expect(latest.scanId).toBe(second.report.scanId);
      const [digest] = (await asAdmin(() => reader.messages())).filter((m) => !m.MessageAttributes?.accountId);
      expect(digest?.Subject).toBe(
        "orgmfa: 5 users without MFA (1 exempted) in 3 of 7 accounts (1 new), 2 not audited",
      );
      expect(digest?.Message).toContain(`Resolved since scan ${first.report.scanId} (2):`);
      expect(digest?.Message).toContain("USER_CONSOLE_NO_MFA: alice in");
    });

    it("changes nothing in Security Hub when a scan finds nothing new", async () => {
      const hubs = [org.scannerAccountId, ...["prod-payments", "prod-web", "dev-platform", "sandbox-ml"].map(id)];
      const state = async () => {
        const out: string[] = [];
        for (const h of hubs)
          for (const f of await orgmfaFindings(h))
            out.push(`${h} ${f.Id} ${f.RecordState} ${f.Compliance?.Status} ${f.Workflow?.Status ?? "-"}`);
        return out.sort();
      };
      const before = await state();
      const third = await deliver();
      expect(third.stderr).not.toMatch(/delivery to/);
      expect(third.report.changes).toMatchObject({ new: [], resolved: [] });
      expect(await state()).toEqual(before);
    });
  });

  it("reports a delivery that fails (exit 1, saying which) and still writes the local files", async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), "orgmfa-delivery-fail-"));
    // A bucket that exists but is not the scanner's, and a topic it may not publish to: the checks
    // before the scan can only warn (the identity may write what it may not inspect); the deliveries fail.
    await emu.unenforced(async () => {
      const s3 = new S3Client({ endpoint: emu.endpoint, region: REGION, credentials: ADMIN, forcePathStyle: true });
      await s3.send(new CreateBucketCommand({ Bucket: "orgmfa-not-the-scanners" }));
      s3.destroy();
    });
    const r = await runCli(
      [
        "scan",
        "--org-role-arn",
        org.orgRoleArn,
        "--out-dir",
        outDir,
        "--s3-bucket",
        "orgmfa-not-the-scanners",
        "--sns-topic-arn",
        `arn:aws:sns:us-east-1:${org.scannerAccountId}:no-such-topic`,
        "--quiet",
        "--format",
        "json",
      ],
      env,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/orgmfa: delivery to S3 failed: AccessDenied/);
    expect(r.stderr).toMatch(/orgmfa: delivery to SNS failed: /);
    const report = JSON.parse(r.stdout) as ScanReport;
    for (const name of ["report.json", "report.html", "findings.csv", "accounts.csv", "users.csv", "manifest.json"])
      expect(existsSync(path.join(outDir, name)), name).toBe(true);
    expect(JSON.parse(readFileSync(path.join(outDir, "report.json"), "utf8")).scanId).toBe(report.scanId);
  });
});

describe("a member account without Security Hub", () => {
  it("is still audited: its hub is a failed delivery (exit 1, said), a note on the account and a line of the digest; the others' hubs get their findings", async () => {
    const web = id("prod-web");
    await emu.setSecurityHubDisabled([web]);
    try {
      const r = await deliver();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`orgmfa: delivery to Security Hub failed: account ${web}: InvalidAccessException`),
      );
      const account = r.report.accounts.find((a) => a.accountId === web);
      expect(account?.status).toBe("AUDITED");
      expect(account?.notes?.join(" ")).toMatch(/Security Hub \(us-east-1\): this account's findings did not all land/);
      expect(r.report.findings.some((f) => f.accountId === web)).toBe(true);
      // Another member's hub holds every one of its findings (unchanged ones are not imported again).
      const payments = new Set((await orgmfaFindings(id("prod-payments"))).map((f) => f.Id));
      const expected = r.report.findings.filter((f) => f.accountId === id("prod-payments")).map((f) => f.id);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.filter((f) => !payments.has(f))).toEqual([]);
      const [digest] = (await asAdmin(() => reader.messages())).filter((m) => m.Message.includes(r.report.scanId));
      expect(digest?.Message).toMatch(new RegExp(`Not delivered \\(1\\)[\\s\\S]*account ${web}`));
    } finally {
      await emu.setSecurityHubDisabled([]);
    }
  });
});

describe("orgmfa report re-renders a saved report", () => {
  it("as html, ocsf and asff; asff takes the region and scanning account the report records, or the flags", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-report-"));
    const scanned = await runCli(["scan", "--org-role-arn", org.orgRoleArn, "--out-dir", dir, "--quiet"], env);
    expect(scanned.code).toBe(4);
    const file = path.join(dir, "report.json");
    const report = JSON.parse(readFileSync(file, "utf8")) as ScanReport;

    const html = await runCli(["report", file, "--format", "html"], env);
    expect(html.code).toBe(0);
    expect(html.stdout).toBe(readFileSync(path.join(dir, "report.html"), "utf8"));

    const ocsf = await runCli(["report", file, "--format", "ocsf"], env);
    const events = ocsf.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(report.findings.length);
    expect(events[0]).toMatchObject({ class_uid: 2003, category_uid: 2, metadata: { version: "1.1.0" } });

    // The report records where it was scanned from: ASFF for that region and scanning account.
    const recorded = await runCli(["report", file, "--format", "asff"], env);
    expect(recorded.code).toBe(0);
    const own = JSON.parse(recorded.stdout) as AwsSecurityFinding[];
    expect(own.every((f) => f.ProductArn?.startsWith(`arn:aws:securityhub:${report.run?.region}:`))).toBe(true);
    expect(own.find((f) => f.GeneratorId?.includes("ACCOUNT_NOT_AUDITED"))?.AwsAccountId).toBe(org.scannerAccountId);
    const asff = await runCli(
      ["report", file, "--format", "asff", "--region", "eu-west-1", "--scanning-account", org.scannerAccountId],
      env,
    );
    const findings = JSON.parse(asff.stdout) as AwsSecurityFinding[];
    expect(findings.map((f) => f.Id)).toEqual(report.findings.map((f) => f.id));
    expect(findings.every((f) => f.ProductArn?.startsWith("arn:aws:securityhub:eu-west-1:"))).toBe(true);

    const broken = path.join(dir, "broken.json");
    writeFileSync(broken, JSON.stringify({ schemaVersion: "1" }));
    const bad = await runCli(["report", broken], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not an orgmfa report/);
  });
});
