import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { IAMClient } from "@aws-sdk/client-iam";
import { DuckDBInstance } from "@duckdb/node-api";
import { ClientPool, type PublishResult, publishReport, runScan } from "@orgmfa/aws";
import { historyKey } from "@orgmfa/contract";
import { type Clock, type OrgMfaConfig, policyFromConfig, type ScanReport } from "@orgmfa/core";
import {
  accountAdminCredentials,
  createUser,
  DEMO_ORG,
  DeliveryReader,
  type Emulator,
  enrolVirtualMfa,
  REGION,
  roleCredentials,
  type SeededDelivery,
  type SeededOrg,
  seedDelivery,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import {
  duckDbViews,
  HISTORY_QUERIES,
  HISTORY_TABLES,
  type HistoryQuery,
  historyDay,
  historyRows,
  sqlAsOf,
} from "@orgmfa/render";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The history's queries, run by a real query engine over the files the real code wrote: two scans of
// the emulated organization eight days apart (the phases of `orgmfa scan`, with a clock, as the scanner
// role under IAM enforcement), each published to the emulated bucket by publishReport with the deployed
// Publish role's credentials; the history read back from the bucket into a folder laid out as the
// bucket is; DuckDB reading it (read_json, hive partitions) with the columns the Glue tables declare,
// and answering the very SQL of the Athena named queries, "today" pinned to the second scan's day
// (sqlAsOf).

let emu: Emulator;
let org: SeededOrg;
let delivery: SeededDelivery;
let scanPool: ClientPool;
let publishPool: ClientPool;
let root: string;
let db: DuckDBInstance;
const scans: Array<{ report: ScanReport; published: PublishResult }> = [];

const NOW = Date.now();
const DAY_MS = 86_400_000;
const id = (name: string) => org.accounts[name] as string;
/** The last second of this month (UTC): an exemption that expires this month, after the scans. */
const endOfMonth = (() => {
  const d = new Date(NOW);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - 1000).toISOString().replace(".000Z", "Z");
})();
const in90Days = new Date(NOW + 90 * DAY_MS).toISOString().slice(0, 10);

const CONFIG: OrgMfaConfig = {
  exemptions: [
    { account: "*", principal: "heidi", checks: ["USER_CONSOLE_NO_MFA"], reason: "key on order", expires: endOfMonth },
    { account: "*", principal: "mallory", checks: "*", reason: "lab account, rebuilt", expires: in90Days },
  ],
};

/** A clock `days` behind the real one (the emulator's own times stay real). */
const daysAgo = (days: number): Clock => ({ now: () => new Date(Date.now() - days * DAY_MS) });

async function scanAndPublish(clock: Clock, previous: ScanReport | null) {
  const report = await runScan({
    pool: scanPool,
    config: CONFIG,
    clock,
    toolVersion: "0.1.0",
    concurrency: 4,
    accountTimeoutMs: 120_000,
    previous: previous ? { scanId: previous.scanId, startedAt: previous.startedAt, findings: previous.findings } : null,
  });
  // As the deployed Publish role, IAM enforcement on (the emulator signs S3 keys holding "=", every
  // `dt=` partition, as S3 does: python/orgmfa_moto/s3.py).
  const published = await publishReport(
    publishPool,
    report,
    { s3: { bucket: delivery.bucket, prefix: delivery.prefix, kmsKeyId: delivery.kmsKeyArn } },
    { policy: policyFromConfig(CONFIG), clock },
  );
  scans.push({ report, published });
}

/** An account's administrator changing its users, as they would between two scans. */
const admin = (account: string, act: (iam: IAMClient) => Promise<unknown>) =>
  emu.unenforced(async () => {
    const iam = new IAMClient({
      region: REGION,
      endpoint: emu.endpoint,
      credentials: await accountAdminCredentials(emu.endpoint, id(account)),
    });
    try {
      await act(iam);
    } finally {
      iam.destroy();
    }
  });

/** Rows as plain values: DuckDB's BIGINT and HUGEINT as numbers, its DATE as `yyyy-mm-dd`. */
const plain = (rows: Record<string, unknown>[]) =>
  rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [
        k,
        typeof v === "bigint" ? Number(v) : v instanceof Date ? v.toISOString().slice(0, 10) : v,
      ]),
    ),
  );

async function sql(text: string): Promise<Record<string, unknown>[]> {
  const c = await db.connect();
  try {
    return plain((await c.runAndReadAll(text)).getRowObjectsJS() as Record<string, unknown>[]);
  } finally {
    c.closeSync();
  }
}

const query = (qid: HistoryQuery["id"]) => {
  const q = HISTORY_QUERIES.find((x) => x.id === qid);
  if (!q) throw new Error(`no query ${qid}`);
  return sql(sqlAsOf(q.sql, historyDay(scans[1]?.report as ScanReport)));
};

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, DEMO_ORG);
  // As the CDK app deploys it: ScanBatch's role (the scanner role), Discover's, Publish's.
  delivery = await seedDelivery(emu.endpoint, org, { as: "workflow" });
  const roles = delivery.roles as NonNullable<SeededDelivery["roles"]>;
  const scanner = await roleCredentials(emu.endpoint, roles.scanBatch, "scan");
  const publisher = await roleCredentials(emu.endpoint, roles.publish, "publish");
  await emu.setIamEnforcement(true);
  const common = { region: REGION, endpoint: emu.endpoint, maxAttempts: 2 };
  scanPool = new ClientPool({ ...common, baseCredentials: async () => scanner, orgRoleArn: org.orgRoleArn });
  publishPool = new ClientPool({ ...common, baseCredentials: async () => publisher });

  await scanAndPublish(daysAgo(8), null);
  // Between the scans: alice enrols a device; a new console user without MFA appears.
  await admin("prod-payments", (iam) => enrolVirtualMfa(iam, "alice", "alice-phone"));
  await admin("dev-platform", (iam) => createUser(iam, id("dev-platform"), { name: "zoe", console: true }));
  await scanAndPublish(daysAgo(0), scans[0]?.report ?? null);

  // The history as the bucket holds it, copied into a folder laid out the same way.
  root = mkdtempSync(path.join(tmpdir(), "orgmfa-history-"));
  const reader = new DeliveryReader(emu.endpoint, delivery, org);
  const base = `${delivery.prefix}/history/`;
  for (const key of await emu.unenforced(() => reader.keys(base))) {
    const file = path.join(root, key.slice(base.length));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, (await emu.unenforced(() => reader.object(key))).body);
  }
  db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  await c.run("SET TimeZone = 'UTC'");
  for (const view of duckDbViews(root)) await c.run(view);
  c.closeSync();
});
afterAll(async () => {
  db?.closeSync();
  scanPool?.destroy();
  publishPool?.destroy();
  await emu?.stop();
});

describe("the history of two scans, queried with DuckDB as Athena queries it", () => {
  it("is written by Publish: one gzip JSON Lines file per table and scan, date-partitioned, SSE-KMS", async () => {
    const [first, second] = scans;
    expect(historyDay(first?.report as ScanReport)).not.toBe(historyDay(second?.report as ScanReport));
    const expected: string[] = [];
    for (const s of scans) {
      expect(s.published.problems).toEqual([]);
      const keys = HISTORY_TABLES.map((t) => historyKey(delivery.prefix, t, s.report));
      expect(s.published.history?.keys).toEqual(keys);
      expected.push(...keys);
    }
    const reader = new DeliveryReader(emu.endpoint, delivery, org);
    expect(await emu.unenforced(() => reader.keys(`${delivery.prefix}/history/`))).toEqual([...expected].sort());
    for (const key of expected) {
      const o = await emu.unenforced(() => reader.object(key));
      expect(o.sse, key).toBe("aws:kms");
      expect(o.body.subarray(0, 2).toString("hex"), `${key} is gzip`).toBe("1f8b");
    }
  });

  it("reads back every row of every table, with the dt of the day each scan started", async () => {
    for (const table of HISTORY_TABLES) {
      const rows = await sql(`SELECT * FROM ${table} ORDER BY dt`);
      const written = scans.flatMap((s) =>
        [...historyRows(table, s.report)].map((r) => ({ ...r, dt: historyDay(s.report) })),
      );
      expect(rows.length, table).toBe(written.length);
      // Every column as written (DuckDB's structs and lists are the JSON's objects and arrays).
      expect(JSON.parse(JSON.stringify(rows)), table).toEqual(
        expect.arrayContaining(JSON.parse(JSON.stringify(written))),
      );
    }
    const [first, second] = scans.map((s) => s.report);
    expect(await sql("SELECT dt, count(*) AS accounts FROM accounts GROUP BY dt ORDER BY dt")).toEqual([
      { dt: historyDay(first as ScanReport), accounts: first?.accounts.length },
      { dt: historyDay(second as ScanReport), accounts: second?.accounts.length },
    ]);
  });

  it("users without MFA by OU today: the second scan's, as its headline counts them", async () => {
    const rows = await query("users-without-mfa-by-ou-today");
    expect(rows).toEqual([
      // prod-payments: root (a password, no MFA) and ci-deploy (an access key) — alice enrolled
      // between the scans; prod-web: frank (a virtual device never enabled), grace (deactivated).
      { ou_path: "Root/Workloads/Prod", users_without_mfa: 4, exempted: 0, root_users: 1 },
      // dev-platform: heidi (exempted), ivan (keys, no MFA), zoe (new).
      { ou_path: "Root/Workloads/Dev", users_without_mfa: 3, exempted: 1, root_users: 0 },
      // sandbox-ml: mallory (exempted).
      { ou_path: "Root/Sandbox", users_without_mfa: 1, exempted: 1, root_users: 0 },
    ]);
    const total = rows.reduce((n, r) => n + (r.users_without_mfa as number), 0);
    expect(total).toBe(scans[1]?.report.summary.users.withoutMfa);
  });

  it("new and resolved findings per week: zoe new, alice resolved, in the second scan's week", async () => {
    const second = scans[1]?.report as ScanReport;
    const day = new Date(second.startedAt);
    const monday = new Date(
      Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() - ((day.getUTCDay() + 6) % 7)),
    );
    expect(second.changes?.new).toEqual([`orgmfa/USER_CONSOLE_NO_MFA/${id("dev-platform")}/user/zoe`]);
    expect(second.changes?.resolved).toEqual([`orgmfa/USER_CONSOLE_NO_MFA/${id("prod-payments")}/user/alice`]);
    expect(await query("new-and-resolved-per-week")).toEqual([
      { week: monday.toISOString().slice(0, 10), new_findings: 1, resolved_findings: 1 },
    ]);
    expect(await sql("SELECT change, check_id, account_id, user_name FROM changes ORDER BY change")).toEqual([
      { change: "NEW", check_id: "USER_CONSOLE_NO_MFA", account_id: id("dev-platform"), user_name: "zoe" },
      { change: "RESOLVED", check_id: "USER_CONSOLE_NO_MFA", account_id: id("prod-payments"), user_name: "alice" },
    ]);
  });

  it("accounts never audited in the last 30 days: the one without the role and the suspended one", async () => {
    const [first, second] = scans.map((s) => historyDay(s.report));
    expect(await query("accounts-not-audited-30-days")).toEqual(
      [
        {
          account_id: id("legacy-unmanaged"),
          account_name: "legacy-unmanaged",
          ou_path: "Root/Legacy",
          last_status: "FAILED",
          last_reason: "ASSUME_ROLE_DENIED",
          last_error: expect.stringContaining("OrgMfaAuditRole"),
          scans: 2,
          first_day: first,
          last_day: second,
        },
        {
          account_id: id("retired-2019"),
          account_name: "retired-2019",
          ou_path: "Root/Sandbox",
          last_status: "SKIPPED",
          last_reason: "SUSPENDED",
          last_error: null,
          scans: 2,
          first_day: first,
          last_day: second,
        },
      ].sort((a, b) => a.account_id.localeCompare(b.account_id)),
    );
  });

  it("exemptions expiring this month: heidi's, not mallory's (in 90 days)", async () => {
    expect(await query("exemptions-expiring-this-month")).toEqual([
      {
        expires: endOfMonth,
        account_id: id("dev-platform"),
        account_name: "dev-platform",
        ou_path: "Root/Workloads/Dev",
        principal: "heidi",
        check_id: "USER_CONSOLE_NO_MFA",
        reason: "key on order",
      },
    ]);
  });
});
