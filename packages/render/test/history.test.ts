import { createWriteStream, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { reportJsonSchema, type ScanReport } from "@orgmfa/core";
import { describe, expect, it } from "vitest";
import {
  duckDbType,
  duckDbViews,
  glueType,
  HISTORY_QUERIES,
  HISTORY_TABLES,
  type HistoryTable,
  type HistoryType,
  historyColumns,
  historyFileStream,
  historyPath,
  historyRows,
  historyType,
  type JsonSchemaNode,
  snakeCase,
  sqlAsOf,
} from "../src/index";
import { accountIdOf, syntheticReport } from "./synthetic-org";

// The history's rows and columns, made from the report's one schema; and what DuckDB reads of them.

const schema = () =>
  structuredClone(reportJsonSchema()) as unknown as JsonSchemaNode & { definitions: Record<string, JsonSchemaNode> };

/** A report of the synthetic organization with changes since a previous scan. */
function report(): ScanReport {
  const r = syntheticReport({
    accounts: 12,
    users: 5,
    failEvery: 5,
    skipEvery: 7,
    exemptions: [{ account: "*", principal: "user-002", checks: "*", reason: "badge lost", expires: "2026-11-30" }],
  });
  r.changes = {
    previousScanId: "previous-scan",
    new: [(r.findings[0] as ScanReport["findings"][number]).id],
    resolved: [`orgmfa/USER_CONSOLE_NO_MFA/${accountIdOf(1)}/user/bob`, `orgmfa/ROOT_NO_MFA/${accountIdOf(2)}/root`],
  };
  return r;
}

/** Whether `v` is what a column of type `t` holds (null always is). */
function holds(t: HistoryType, v: unknown): boolean {
  if (v === null) return true;
  switch (t.kind) {
    case "string":
    case "json":
      return typeof v === "string";
    case "bigint":
      return Number.isInteger(v);
    case "double":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v) && v.every((x) => holds(t.of, x));
    case "map":
      return typeof v === "object" && Object.values(v as object).every((x) => holds(t.of, x));
    case "struct":
      return (
        typeof v === "object" &&
        JSON.stringify(Object.keys(v as object)) === JSON.stringify(t.fields.map((f) => f.name)) &&
        t.fields.every((f) => holds(f.type, (v as Record<string, unknown>)[f.name]))
      );
  }
}

describe("the history's columns, generated from the report's schema", () => {
  it("has every property of the finding, user and account definitions, in snake_case, after the scan's columns", () => {
    const s = schema();
    const names = (table: HistoryTable) => historyColumns(table).map((c) => c.name);
    const props = (def: string) => Object.keys(s.definitions[def]?.properties ?? {}).map(snakeCase);
    const scan = ["scan_id", "scan_started_at", "organization_id"];
    expect(names("findings")).toEqual([...scan, ...props("finding"), "ou_path"]);
    expect(names("users")).toEqual([...scan, "account_id", "account_name", "ou_path", ...props("user")]);
    expect(names("accounts")).toEqual([...scan, ...props("account").filter((n) => n !== "users")]);
    expect(names("changes")).toEqual([
      ...scan,
      "previous_scan_id",
      "change",
      "finding_id",
      "check_id",
      "account_id",
      "user_name",
    ]);
  });

  it("types each column from its schema node: structs, maps, arrays, nullable enums, JSON text for what has no shape", () => {
    const column = (table: HistoryTable, name: string) => {
      const c = historyColumns(table).find((x) => x.name === name);
      if (!c) throw new Error(`${table}.${name}`);
      return glueType(c.type);
    };
    expect(column("findings", "exemption")).toBe("struct<reason:string,expires:string>");
    expect(column("findings", "evidence")).toBe("string");
    expect(column("findings", "status")).toBe("string");
    expect(column("users", "active_access_keys")).toBe("bigint");
    expect(column("users", "console_access")).toBe("boolean");
    expect(column("users", "mfa_devices")).toBe(
      "array<struct<serial_number:string,type:string,enabled_at:string,certifications:map<string,string>>>",
    );
    expect(column("accounts", "reason")).toBe("string"); // enum of null and strings
    expect(column("accounts", "error")).toBe("struct<code:string,message:string>");
    expect(column("accounts", "notes")).toBe("array<string>");
    // Every column's type is its schema node's.
    const s = schema();
    for (const table of HISTORY_TABLES)
      for (const c of historyColumns(table))
        if (c.from.startsWith("#/")) {
          let node: JsonSchemaNode = s;
          for (const step of c.from.slice(2).split("/")) {
            if (node.$ref) node = s.definitions[node.$ref.split("/").pop() ?? ""] as JsonSchemaNode;
            if (step === "properties" && node.anyOf) node = node.anyOf.find((a) => a.type !== "null") as JsonSchemaNode;
            node = (node as Record<string, JsonSchemaNode>)[step] as JsonSchemaNode;
          }
          expect(c.type, `${table}.${c.name}`).toEqual(historyType(node, s));
        }
  });

  it("follows the schema: a property added to a definition is a new column of its type, nothing written twice", () => {
    const s = schema();
    (s.definitions.finding as JsonSchemaNode).properties = {
      ...s.definitions.finding?.properties,
      ticketUrl: { anyOf: [{ type: "string" }, { type: "null" }] },
      reviewCount: { type: "integer" },
    };
    const added = historyColumns("findings", s).filter((c) => c.name === "ticket_url" || c.name === "review_count");
    expect(added.map((c) => [c.name, glueType(c.type), duckDbType(c.type)])).toEqual([
      ["ticket_url", "string", "VARCHAR"],
      ["review_count", "bigint", "BIGINT"],
    ]);
    expect(() => snakeCase("FIPS-140-3")).toThrow(/makes no column name/);
  });

  it("maps each type to Glue's and DuckDB's words for it", () => {
    const t: HistoryType = {
      kind: "array",
      of: {
        kind: "struct",
        fields: [
          { name: "type", key: "type", type: { kind: "string" } },
          { name: "certs", key: "certs", type: { kind: "map", of: { kind: "string" } } },
          { name: "n", key: "n", type: { kind: "double" } },
        ],
      },
    };
    expect(glueType(t)).toBe("array<struct<type:string,certs:map<string,string>,n:double>>");
    expect(duckDbType(t)).toBe('STRUCT("type" VARCHAR, "certs" MAP(VARCHAR, VARCHAR), "n" DOUBLE)[]');
  });
});

describe("the history's rows", () => {
  it("has one row per finding, user, listed account and change, each of exactly its columns and their types", () => {
    const r = report();
    const count = { findings: 0, users: 0, accounts: 0, changes: 0 };
    for (const table of HISTORY_TABLES) {
      const columns = historyColumns(table);
      for (const row of historyRows(table, r)) {
        count[table]++;
        expect(Object.keys(row), table).toEqual(columns.map((c) => c.name));
        for (const c of columns)
          expect(holds(c.type, row[c.name]), `${table}.${c.name}: ${JSON.stringify(row[c.name])}`).toBe(true);
        expect(row.scan_id).toBe(r.scanId);
        expect(row.scan_started_at).toBe(r.startedAt);
      }
    }
    expect(count).toEqual({
      findings: r.findings.length,
      users: r.accounts.reduce((n, a) => n + a.users.length, 0),
      accounts: r.accounts.length,
      changes: 3,
    });
  });

  it("keeps the report's values: the OU path of a finding's account, the exemption, the evidence as JSON text, a change's parts", () => {
    const r = report();
    const exempted = r.findings.find((f) => f.status === "EXEMPTED");
    const row = [...historyRows("findings", r)].find((x) => x.id === exempted?.id);
    expect(row).toMatchObject({
      status: "EXEMPTED",
      exemption: { reason: "badge lost", expires: "2026-11-30" },
      ou_path: r.accounts.find((a) => a.accountId === exempted?.accountId)?.ouPath,
    });
    expect(JSON.parse(row?.evidence as string)).toEqual(exempted?.evidence);
    expect([...historyRows("changes", r)].slice(1)).toEqual([
      expect.objectContaining({
        change: "RESOLVED",
        check_id: "USER_CONSOLE_NO_MFA",
        account_id: accountIdOf(1),
        user_name: "bob",
      }),
      expect.objectContaining({
        change: "RESOLVED",
        check_id: "ROOT_NO_MFA",
        account_id: accountIdOf(2),
        user_name: null,
      }),
    ]);
    // A first scan has no changes: its changes file is empty.
    expect([...historyRows("changes", { ...r, changes: null })]).toEqual([]);
  });

  it("is gzip JSON Lines, one object per line, at <table>/dt=<the UTC day the scan started>/<scanId>.jsonl.gz", async () => {
    const r = report();
    expect(historyPath("users", r)).toBe(`users/dt=${r.startedAt.slice(0, 10)}/${r.scanId}.jsonl.gz`);
    expect(historyPath("changes", { scanId: "s", startedAt: "2026-03-01T23:30:00-02:00" })).toBe(
      "changes/dt=2026-03-02/s.jsonl.gz",
    );
    expect(() => historyPath("users", { scanId: "../x", startedAt: r.startedAt })).toThrow(/scan id/);
    const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-history-file-"));
    for (const table of HISTORY_TABLES) {
      const file = path.join(dir, `${table}.jsonl.gz`);
      await pipeline(historyFileStream(table, r), createWriteStream(file));
      const lines = gunzipSync(readFileSync(file)).toString("utf8").split("\n");
      expect(lines.pop(), table).toBe("");
      expect(
        lines.map((l) => JSON.parse(l)),
        table,
      ).toEqual([...historyRows(table, r)]);
    }
    const empty = path.join(dir, "empty.jsonl.gz");
    await pipeline(historyFileStream("changes", { ...r, changes: null }), createWriteStream(empty));
    expect(gunzipSync(readFileSync(empty)).length).toBe(0);
  });
});

describe("the named queries", () => {
  it("are in docs/history.md as they are deployed, each in full", () => {
    const doc = readFileSync(fileURLToPath(new URL("../../../docs/history.md", import.meta.url)), "utf8");
    for (const q of HISTORY_QUERIES) {
      expect(doc, q.id).toContain(`### ${q.name}\n\n\`\`\`sql\n${q.sql}\n\`\`\`\n`);
    }
  });

  it("are given another day by replacing current_date with a date literal, and nothing else", () => {
    for (const q of HISTORY_QUERIES) {
      const pinned = sqlAsOf(q.sql, "2026-02-28");
      expect(pinned).not.toMatch(/current_date/);
      expect(pinned.split("DATE '2026-02-28'").join("current_date")).toBe(q.sql);
    }
    expect(() => sqlAsOf("SELECT current_date", "2026-02-30")).toThrow(/not a day/);
    expect(() => sqlAsOf("SELECT current_date", "28/02/2026")).toThrow(/not a day/);
  });
});

describe("DuckDB over the files", () => {
  it("reads every table with the Glue tables' columns, every value as written, dt from the folder", async () => {
    const r = report();
    const root = mkdtempSync(path.join(tmpdir(), "orgmfa-history-duckdb-"));
    for (const table of HISTORY_TABLES) {
      const file = path.join(root, historyPath(table, r));
      mkdirSync(path.dirname(file), { recursive: true });
      await pipeline(historyFileStream(table, r), createWriteStream(file));
    }
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    try {
      for (const view of duckDbViews(root)) await c.run(view);
      for (const table of HISTORY_TABLES) {
        const described = (await c.runAndReadAll(`DESCRIBE ${table}`)).getRowObjectsJS();
        // (DuckDB prints a struct's field names unquoted.)
        const unquoted = (t: unknown) => String(t).replace(/"/g, "");
        expect(
          described.map((d) => [d.column_name, unquoted(d.column_type)]),
          table,
        ).toEqual([
          ...historyColumns(table).map((col) => [col.name, unquoted(duckDbType(col.type))]),
          ["dt", "VARCHAR"],
        ]);
        const rows = (await c.runAndReadAll(`SELECT * FROM ${table}`)).getRowObjectsJS();
        const asJson = (v: unknown) =>
          JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x)));
        expect(asJson(rows), table).toEqual(
          [...historyRows(table, r)].map((row) => ({ ...row, dt: r.startedAt.slice(0, 10) })),
        );
      }
    } finally {
      c.closeSync();
      db.closeSync();
    }
  });

  it("runs every named query as it is written, answering for the day the scans were", async () => {
    // Two days of the synthetic organization: a week apart, the second with changes.
    const second = report();
    const first = { ...syntheticReport({ accounts: 12, users: 5, failEvery: 5, skipEvery: 7 }), scanId: "first-scan" };
    first.startedAt = new Date(Date.parse(second.startedAt) - 7 * 86_400_000).toISOString();
    first.changes = null;
    const root = mkdtempSync(path.join(tmpdir(), "orgmfa-history-queries-"));
    for (const r of [first, second])
      for (const table of HISTORY_TABLES) {
        const file = path.join(root, historyPath(table, r));
        mkdirSync(path.dirname(file), { recursive: true });
        await pipeline(historyFileStream(table, r), createWriteStream(file));
      }
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    const answer = async (id: string) => {
      const q = HISTORY_QUERIES.find((x) => x.id === id);
      const rows = (await c.runAndReadAll(sqlAsOf(q?.sql ?? "", second.startedAt.slice(0, 10)))).getRowObjectsJS();
      return JSON.parse(JSON.stringify(rows, (_k, x) => (typeof x === "bigint" ? Number(x) : x)));
    };
    try {
      await c.run("SET TimeZone = 'UTC'");
      for (const view of duckDbViews(root)) await c.run(view);
      const byOu = await answer("users-without-mfa-by-ou-today");
      expect(byOu.reduce((n: number, r: { users_without_mfa: number }) => n + r.users_without_mfa, 0)).toBe(
        second.summary.users.withoutMfa,
      );
      expect(await answer("new-and-resolved-per-week")).toEqual([
        { week: expect.stringMatching(/^2026-11-16/), new_findings: 1, resolved_findings: 2 },
      ]);
      const never = await answer("accounts-not-audited-30-days");
      expect(never.map((a: { account_id: string; scans: number }) => [a.account_id, a.scans])).toEqual(
        second.accounts.filter((a) => a.status !== "AUDITED").map((a) => [a.accountId, 2]),
      );
      const expiring = await answer("exemptions-expiring-this-month");
      expect(expiring.length).toBe(second.findings.filter((f) => f.status === "EXEMPTED").length);
      expect(new Set(expiring.map((e: { principal: string }) => e.principal))).toEqual(new Set(["user-002"]));
    } finally {
      c.closeSync();
      db.closeSync();
    }
  });
});
