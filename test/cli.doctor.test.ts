import type { DoctorCheck } from "@orgmfa/aws";
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
});
