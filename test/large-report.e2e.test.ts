import { createHash } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { loadLatestScan, storeScan } from "@orgmfa/aws";
import {
  type AccountEntry,
  type AccountTarget,
  accountEntry,
  buildReport,
  parseConfig,
  policyFromConfig,
  type ScanReport,
} from "@orgmfa/core";
import {
  DEMO_ORG,
  DeliveryReader,
  type Emulator,
  type SeededDelivery,
  type SeededOrg,
  scannerCredentials,
  seedDelivery,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let emu: Emulator;
let org: SeededOrg;
let delivery: SeededDelivery;
let reader: DeliveryReader;
let s3: S3Client;

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, DEMO_ORG);
  delivery = await seedDelivery(emu.endpoint, org);
  reader = new DeliveryReader(emu.endpoint, delivery, org);
  const credentials = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  await emu.setIamEnforcement(true);
  s3 = new S3Client({ endpoint: emu.endpoint, region: "us-east-1", credentials, forcePathStyle: true });
});
afterAll(async () => {
  s3?.destroy();
  await emu?.stop();
});

/** Reads back what landed as the administrator (enforcement off only for the read). */
const asAdmin = <T>(read: () => Promise<T>): Promise<T> => emu.unenforced(read);

/** A report of `accounts` accounts × 40 users (a quarter without MFA), its users packed as Publish keeps them. */
function largeReport(accounts: number): ScanReport {
  const policy = policyFromConfig(parseConfig({}, "test"));
  const now = new Date();
  const targets: AccountTarget[] = [];
  const entries = new Map<string, AccountEntry>();
  for (let a = 0; a < accounts; a++) {
    const accountId = String(200000000000 + a);
    const target: AccountTarget = {
      accountId,
      accountName: `member-${a}`,
      ouPath: "Root/Workloads",
      owner: null,
      state: "ACTIVE",
      skip: null,
    };
    targets.push(target);
    const users = Array.from({ length: 40 }, (_, i) => ({
      userName: `user-${i}`,
      arn: `arn:aws:iam::${accountId}:user/user-${i}`,
      createdAt: "2025-01-01T00:00:00Z",
      consoleAccess: true,
      passwordLastUsed: null,
      activeAccessKeys: 0,
      mfaDevices:
        i % 4 === 0
          ? []
          : [{ serialNumber: `arn:aws:iam::${accountId}:mfa/user-${i}`, type: "VIRTUAL" as const, enabledAt: null }],
      verifiedLive: false,
      mfaDevicesComplete: false,
      verdictAsOf: now.toISOString(),
    }));
    const outcome = {
      kind: "facts" as const,
      accountId,
      partition: "aws",
      credentialReportGeneratedAt: now.toISOString(),
      collection: "REPORT_CONFIRMED_LIVE" as const,
      notes: [],
      users,
      root: {
        arn: `arn:aws:iam::${accountId}:root`,
        credentials: "ABSENT" as const,
        password: false,
        activeAccessKeys: false,
        activeSigningCertificates: false,
        mfaEnabled: false,
        virtualDevices: [],
        source: "GetAccountSummary" as const,
      },
    };
    entries.set(accountId, accountEntry(target, outcome, policy, now, { packUsers: true }));
  }
  return buildReport({
    scanId: `large-${Date.now()}`,
    toolVersion: "test",
    startedAt: now,
    finishedAt: now,
    organizationId: org.organizationId,
    partition: "aws",
    targets,
    entries,
    policy,
  });
}

describe("a report larger than one upload part", () => {
  it("streams into S3 in parts as the scanner role, latest/ holds the same bytes, and the manifest proves them", async () => {
    const report = largeReport(700);
    const target = { bucket: delivery.bucket, prefix: "orgmfa", kmsKeyId: delivery.kmsKeyArn };
    const stored = await storeScan(s3, target, report, { report });
    const scanPrefix = stored.scanUri.replace(`s3://${delivery.bucket}/`, "");
    const manifest = JSON.parse((await asAdmin(() => reader.object(`${scanPrefix}manifest.json`))).body.toString()) as {
      files: Array<{ name: string; bytes: number; sha256: string }>;
    };
    const json = manifest.files.find((f) => f.name === "report.json");
    // More than one 8 MB part: the multipart path, not a single PutObject.
    expect(json?.bytes).toBeGreaterThan(8 * 1024 * 1024);
    for (const f of manifest.files) {
      const obj = await asAdmin(() => reader.object(`${scanPrefix}${f.name}`));
      expect(obj.body.length, f.name).toBe(f.bytes);
      expect(createHash("sha256").update(obj.body).digest("hex"), f.name).toBe(f.sha256);
      expect(obj.sse, f.name).toBe("aws:kms");
      const latest = await asAdmin(() => reader.object(`orgmfa/latest/${f.name}`));
      expect(latest.body.equals(obj.body), `latest/${f.name}`).toBe(true);
    }
    const stored_ = JSON.parse((await asAdmin(() => reader.object(`${scanPrefix}report.json`))).body.toString());
    expect(stored_.accounts).toHaveLength(700);
    expect(stored_.accounts[699].users).toHaveLength(40);

    // The next scan reads it back as it streams in: its id and every finding.
    const previous = await loadLatestScan(s3, target);
    expect(previous.warning).toBeNull();
    expect(previous.previous?.scanId).toBe(report.scanId);
    expect(previous.previous?.findings.map((f) => f.id)).toEqual(report.findings.map((f) => f.id));
  }, 120_000);
});
