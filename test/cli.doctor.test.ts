import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
} from "@aws-sdk/client-cloudtrail";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { type DoctorCheck, logsManagementWrites } from "@orgmfa/aws";
import { accountAdminCredentials } from "@orgmfa/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmulatedOrg, startEmulatedOrg } from "./emulated-org";
import { runInProcess } from "./in-process";

// `orgmfa doctor` against the emulated organization, IAM enforcement on, as the scanner role.
let e: EmulatedOrg;
beforeAll(async () => {
  e = await startEmulatedOrg();
});
afterAll(async () => {
  await e?.emu.stop();
});

const doctor = (...a: string[]) => runInProcess(["doctor", "--org-role-arn", e.org.orgRoleArn, ...a], { env: e.env });
const parse = (stdout: string) => JSON.parse(stdout) as { ok: boolean; gaps: number; checks: DoctorCheck[] };

describe("orgmfa doctor", () => {
  it("finds the account without the audit role and the account without Security Hub, each with its fix, and passes the rest", async () => {
    const legacy = e.org.accounts["legacy-unmanaged"] as string;
    const web = e.org.accounts["prod-web"] as string;
    await e.emu.setSecurityHubDisabled([web]);
    try {
      const r = await doctor(
        "--security-hub",
        "--s3-bucket",
        e.delivery.bucket,
        "--sns-topic-arn",
        e.delivery.topicArn,
        "--format",
        "json",
      );
      expect(r.code).toBe(4);
      const out = parse(r.stdout);
      expect(out.ok).toBe(false);
      const gaps = out.checks.filter((c) => !c.ok);
      expect(gaps.map((g) => [g.check, g.accountId])).toEqual(
        expect.arrayContaining([
          ["audit role", legacy],
          ["Security Hub", web],
        ]),
      );
      expect(gaps).toHaveLength(2);
      expect(gaps.find((g) => g.accountId === legacy)?.fix).toMatch(/member StackSet/);
      expect(gaps.find((g) => g.accountId === web)?.detail).toMatch(/not enabled in us-east-1/);
      expect(gaps.find((g) => g.accountId === web)?.fix).toMatch(/Enable Security Hub/);
      // Every other in-scope account: role assumed, every IAM read answering, hub enabled.
      const passed = out.checks.filter((c) => c.ok && c.accountId && c.accountId !== legacy && c.accountId !== web);
      expect(new Set(passed.map((c) => c.accountId)).size).toBe(5);
      expect(passed.filter((c) => c.check === "IAM reads")).toHaveLength(5);
      expect(out.checks.find((c) => c.check === "S3 bucket")?.ok).toBe(true);
      expect(out.checks.find((c) => c.check === "SNS topic")?.ok).toBe(true);
    } finally {
      await e.emu.setSecurityHubDisabled([]);
    }
  });

  it("exits 0 with a table saying so when nothing is missing", async () => {
    const r = await doctor("--exclude-accounts", e.org.accounts["legacy-unmanaged"] as string, "--security-hub");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No gap: 6 accounts ready to scan\./);
    // One line for the accounts without a gap, not a row per account and check.
    expect(r.stdout).toMatch(/every check\s*│ 6 accounts\s*│ ok: every check passed \(audit role,/);
    expect(r.stdout).not.toMatch(/GAP/);
  });

  it("says what the scanning identity lacks on a bucket it cannot reach, and exits 1", async () => {
    // The bucket named is not the scanner's: listing it is denied, and the fix says what is needed.
    const r = await doctor("--accounts", e.org.accounts["prod-web"] as string, "--s3-bucket", "someone-elses-bucket");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/GAP: s3:\/\/someone-elses-bucket/);
  });

  it("checks the deployment's prerequisites: a trail logging management events in us-east-1 (a gap with the quarantine) and Lambda's concurrency quota", async () => {
    const config = path.join(mkdtempSync(path.join(tmpdir(), "orgmfa-doctor-")), "config.json");
    writeFileSync(config, JSON.stringify({ quarantine: { mode: "enforce" } }));
    const prerequisites = async (enforced = true) => {
      const run = () =>
        doctor("--accounts", e.org.accounts["prod-web"] as string, "--config", config, "--format", "json");
      const r = enforced ? await run() : await e.asAdmin(run);
      const out = parse(r.stdout);
      return {
        code: r.code,
        trail: out.checks.find((c) => c.check === "CloudTrail"),
        lambda: out.checks.find((c) => c.check === "Lambda concurrency"),
      };
    };
    // As the scanner role, which may not read CloudTrail: not verified — a warning, never a pass.
    const denied = await prerequisites();
    expect(denied.trail).toMatchObject({ ok: true, warning: true, fix: null });
    expect(denied.trail?.detail).toMatch(/^not verified: .*cloudtrail:DescribeTrails in us-east-1/);
    // The emulator (moto 5.2.1) has no lambda:GetAccountSettings: doctor says it could not verify, never passes it.
    expect(denied.lambda).toMatchObject({ ok: true, warning: true });
    expect(denied.lambda?.detail).toMatch(/^not verified: .* \(a run takes up to 22 concurrent executions\)$/);

    // As an identity that may read CloudTrail, with no trail: IAM's changes would never reach EventBridge,
    // which the quarantine needs — a gap, with its fix.
    const without = await prerequisites(false);
    expect(without.trail).toMatchObject({ ok: false, accountId: null });
    expect(without.trail?.detail).toMatch(/no trail that is logging management events covers us-east-1/);
    expect(without.trail?.fix).toMatch(/create-trail .*--is-multi-region-trail --is-organization-trail/);
    expect(without.code).toBe(1); // a gap of this account, not of a member account

    // A multi-region trail of the scanning account, logging (management events by default): the check
    // passes and names it.
    const admin = await e.asAdmin(() => accountAdminCredentials(e.emu.endpoint, e.org.scannerAccountId));
    await e.asAdmin(async () => {
      const s3 = new S3Client({
        endpoint: e.emu.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: admin,
      });
      await s3.send(new CreateBucketCommand({ Bucket: "orgmfa-doctor-trail" }));
      s3.destroy();
      const ct = new CloudTrailClient({ endpoint: e.emu.endpoint, region: "us-east-1", credentials: admin });
      await ct.send(
        new CreateTrailCommand({ Name: "org-trail", S3BucketName: "orgmfa-doctor-trail", IsMultiRegionTrail: true }),
      );
      // AWS gives a new trail this selector by default; moto gives none, so it is set as AWS has it.
      await ct.send(
        new PutEventSelectorsCommand({
          TrailName: "org-trail",
          EventSelectors: [{ ReadWriteType: "All", IncludeManagementEvents: true }],
        }),
      );
      await ct.send(new StartLoggingCommand({ Name: "org-trail" }));
      ct.destroy();
    });
    try {
      const withTrail = await prerequisites(false);
      expect(withTrail.trail).toMatchObject({ ok: true, fix: null });
      expect(withTrail.trail?.detail).toMatch(/^org-trail logs management events in us-east-1/);
      expect(withTrail.code).toBe(0);
    } finally {
      await e.asAdmin(async () => {
        const ct = new CloudTrailClient({ endpoint: e.emu.endpoint, region: "us-east-1", credentials: admin });
        await ct.send(new DeleteTrailCommand({ Name: "org-trail" }));
        ct.destroy();
      });
    }
  });

  it("counts a trail's management write events, from basic or advanced event selectors", () => {
    expect(logsManagementWrites({ EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: "All" }] })).toBe(
      true,
    );
    expect(
      logsManagementWrites({ EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: "WriteOnly" }] }),
    ).toBe(true);
    expect(
      logsManagementWrites({ EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: "ReadOnly" }] }),
    ).toBe(false);
    expect(logsManagementWrites({ EventSelectors: [{ IncludeManagementEvents: false, ReadWriteType: "All" }] })).toBe(
      false,
    );
    const advanced = (...fields: Array<{ Field: string; Equals?: string[]; NotEquals?: string[] }>) => ({
      AdvancedEventSelectors: [{ FieldSelectors: fields }],
    });
    expect(logsManagementWrites(advanced({ Field: "eventCategory", Equals: ["Management"] }))).toBe(true);
    expect(
      logsManagementWrites(
        advanced({ Field: "eventCategory", Equals: ["Management"] }, { Field: "readOnly", Equals: ["true"] }),
      ),
    ).toBe(false);
    expect(
      logsManagementWrites(
        advanced(
          { Field: "eventCategory", Equals: ["Management"] },
          { Field: "eventSource", NotEquals: ["iam.amazonaws.com"] },
        ),
      ),
    ).toBe(false);
    expect(logsManagementWrites(advanced({ Field: "eventCategory", Equals: ["Data"] }))).toBe(false);
    expect(logsManagementWrites({})).toBe(false);
  });
});
