/**
 * The scan history: each scan's findings, users, accounts and changes as JSON Lines (gzip), one file
 * per table and scan under a date partition (`<table>/dt=<yyyy-mm-dd>/<scanId>.jsonl.gz`), for Athena
 * (Glue tables with partition projection on `dt`) and, over the same files, DuckDB (docs/history.md).
 *
 * The tables' columns are not written here: they are generated from the report's one schema, the JSON
 * Schema emitted from the zod model ({@link reportJsonSchema}). A table is a list of *parts* — a few
 * properties of the report (the scan's id and start), of an account (its OU path), or every property
 * of one of the schema's definitions (`finding`, `user`, `account`) — and each property's column type
 * is read from its schema node ({@link historyType}). The same columns make the rows ({@link historyRows}),
 * the Glue tables ({@link glueType}, used by the CDK app) and the local DuckDB views ({@link duckDbType}),
 * so a field added to the report appears in all three at once.
 *
 * Column names are the report's keys in snake_case (`ouPath` → `ou_path`), nested keys too; timestamps
 * stay ISO-8601 strings (`from_iso8601_timestamp(col)` in Athena, `CAST(col AS TIMESTAMP)` in DuckDB); a
 * value of no fixed shape (a finding's `evidence`) is its JSON text.
 */
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { NO_MFA_CHECKS, parseFindingId, type ReportAccount, reportJsonSchema, type ScanReport } from "@orgmfa/core";
import { accountOf } from "./report-index";

// ── The tables ────────────────────────────────────────────────────────────────────────────────────

/** The history's tables, one file of each per scan. */
export const HISTORY_TABLES = ["findings", "users", "accounts", "changes"] as const;
export type HistoryTable = (typeof HISTORY_TABLES)[number];

/** What each table holds, one row per… (the Glue tables' descriptions). */
export const HISTORY_TABLE_DESCRIPTIONS: Record<HistoryTable, string> = {
  findings: "orgmfa: one row per finding of each scan (the report's findings, with the account's OU path)",
  users: "orgmfa: one row per IAM user of each audited account of each scan (the report's users)",
  accounts:
    "orgmfa: one row per listed account of each scan (the coverage ledger: audited, failed or skipped, and why)",
  changes: "orgmfa: one row per finding new or resolved since the previous scan (the report's changes)",
};

/** The Glue database the CDK app deploys the tables in. */
export const HISTORY_DATABASE = "orgmfa_history";
/** The Athena workgroup the CDK app deploys the named queries in (engine version 3, results encrypted). */
export const HISTORY_WORKGROUP = "orgmfa";
/** The partition column: the UTC day the scan started, `yyyy-mm-dd` (Hive-style `dt=…` folders). */
export const HISTORY_PARTITION = "dt";
/** Gzip-compressed JSON Lines: Athena and DuckDB both read them by the extension. */
export const HISTORY_FILE_EXTENSION = ".jsonl.gz";

/** The UTC day a scan started, its partition: `2026-01-02`. */
export const historyDay = (report: Pick<ScanReport, "startedAt">): string =>
  new Date(report.startedAt).toISOString().slice(0, 10);

/** One table's folder under the history root: `findings/`. */
export const historyTableFolder = (table: HistoryTable): string => `${table}/`;

/** One scan's file of one table, under the history root: `findings/dt=2026-01-02/<scanId>.jsonl.gz`. */
export function historyPath(table: HistoryTable, report: Pick<ScanReport, "scanId" | "startedAt">): string {
  if (!/^[\w.-]+$/.test(report.scanId)) throw new Error(`history: a scan id unfit for a file name: ${report.scanId}`);
  return `${historyTableFolder(table)}${HISTORY_PARTITION}=${historyDay(report)}/${report.scanId}${HISTORY_FILE_EXTENSION}`;
}

// ── Types, from the report's JSON Schema ─────────────────────────────────────────────────────────────

/**
 * A column's type, as the Glue table declares it and DuckDB reads it. `json`: a value of no fixed
 * shape, kept as its JSON text in a string column.
 */
export type HistoryType =
  | { kind: "string" | "bigint" | "double" | "boolean" | "json" }
  | { kind: "array" | "map"; of: HistoryType }
  | { kind: "struct"; fields: HistoryField[] };

/** A field of a struct (or a column): its name in the history, its key in the report, its type. */
export interface HistoryField {
  name: string;
  key: string;
  type: HistoryType;
}

/** The part of JSON Schema (draft-07, as the report's is emitted) the history reads. */
export interface JsonSchemaNode {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchemaNode[];
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: boolean | JsonSchemaNode;
  items?: JsonSchemaNode;
  definitions?: Record<string, JsonSchemaNode>;
}

const STRING: HistoryType = { kind: "string" };
const JSON_TEXT: HistoryType = { kind: "json" };

/** `ouPath` → `ou_path`; throws for a key that makes no plain SQL identifier. */
export function snakeCase(key: string): string {
  const name = key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    throw new Error(`history: the report key ${JSON.stringify(key)} makes no column name`);
  return name;
}

function resolve(root: JsonSchemaNode, ref: string): JsonSchemaNode {
  const m = /^#\/definitions\/(.+)$/.exec(ref);
  const node = m ? root.definitions?.[m[1] ?? ""] : undefined;
  if (!node) throw new Error(`history: cannot resolve ${ref} in the report's schema`);
  return node;
}

const isNull = (s: JsonSchemaNode) => s.type === "null" || (s.enum?.length === 1 && s.enum[0] === null);

/**
 * The history type of a node of the report's JSON Schema: strings (enums, patterns, ISO-8601 times)
 * → string, integers → bigint, numbers → double, booleans → boolean, objects with properties → struct,
 * objects of string values → map, arrays → array of their items; null alternatives are dropped
 * (every column is nullable); anything else — a union of shapes, an object of unknown values — is
 * its JSON text.
 */
export function historyType(node: JsonSchemaNode, root: JsonSchemaNode): HistoryType {
  if (node.$ref) return historyType(resolve(root, node.$ref), root);
  if (node.anyOf) {
    const alternatives = node.anyOf.filter((a) => !isNull(a));
    return alternatives.length === 1 ? historyType(alternatives[0] as JsonSchemaNode, root) : JSON_TEXT;
  }
  const types = [node.type ?? []].flat().filter((t) => t !== "null");
  if (types.length === 0) {
    const values = [...(node.enum ?? []), ...("const" in node ? [node.const] : [])].filter((v) => v !== null);
    if (values.length > 0 && values.every((v) => typeof v === "string")) return STRING;
    if (values.length > 0 && values.every((v) => typeof v === "boolean")) return { kind: "boolean" };
    return JSON_TEXT;
  }
  if (types.length > 1) return JSON_TEXT;
  switch (types[0]) {
    case "string":
      return STRING;
    case "integer":
      return { kind: "bigint" };
    case "number":
      return { kind: "double" };
    case "boolean":
      return { kind: "boolean" };
    case "array":
      return node.items ? { kind: "array", of: historyType(node.items, root) } : JSON_TEXT;
    case "object": {
      if (node.properties && Object.keys(node.properties).length > 0)
        return { kind: "struct", fields: fieldsOf(node, root) };
      const values = node.additionalProperties;
      if (typeof values === "object" && Object.keys(values).length > 0) {
        const of = historyType(values, root);
        if (of.kind === "string" || of.kind === "bigint" || of.kind === "double" || of.kind === "boolean")
          return { kind: "map", of };
      }
      return JSON_TEXT;
    }
    default:
      return JSON_TEXT;
  }
}

function fieldsOf(node: JsonSchemaNode, root: JsonSchemaNode, omit: readonly string[] = []): HistoryField[] {
  return Object.entries(node.properties ?? {})
    .filter(([key]) => !omit.includes(key))
    .map(([key, child]) => ({ name: snakeCase(key), key, type: historyType(child, root) }));
}

/** The type as a Glue (Hive) column declares it: `struct<reason:string,expires:string>`. */
export function glueType(t: HistoryType): string {
  switch (t.kind) {
    case "json":
      return "string";
    case "array":
      return `array<${glueType(t.of)}>`;
    case "map":
      return `map<string,${glueType(t.of)}>`;
    case "struct":
      return `struct<${t.fields.map((f) => `${f.name}:${glueType(f.type)}`).join(",")}>`;
    default:
      return t.kind;
  }
}

/** The type as DuckDB's read_json reads it: `STRUCT("reason" VARCHAR, "expires" VARCHAR)`. */
export function duckDbType(t: HistoryType): string {
  switch (t.kind) {
    case "string":
    case "json":
      return "VARCHAR";
    case "array":
      return `${duckDbType(t.of)}[]`;
    case "map":
      return `MAP(VARCHAR, ${duckDbType(t.of)})`;
    case "struct":
      return `STRUCT(${t.fields.map((f) => `"${f.name}" ${duckDbType(f.type)}`).join(", ")})`;
    default:
      return t.kind.toUpperCase();
  }
}

/** A report value as its column holds it: keys in snake_case, absent → null, shapeless → JSON text. */
function historyValue(t: HistoryType, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  switch (t.kind) {
    case "json":
      return JSON.stringify(v);
    case "array":
      return Array.isArray(v) ? v.map((x) => historyValue(t.of, x)) : null;
    case "map":
      return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, historyValue(t.of, x)]));
    case "struct": {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(t.fields.map((f) => [f.name, historyValue(f.type, o[f.key])]));
    }
    default:
      return v;
  }
}

// ── Columns and rows ─────────────────────────────────────────────────────────────────────────────────

/** What a row is made from: the report, the account it belongs to, and the report's element. */
interface RowSource {
  report: ScanReport;
  account: ReportAccount | undefined;
  item: Record<string, unknown>;
}

/** A column of a table: its name and type, and where a row's value comes from. */
export interface HistoryColumn {
  name: string;
  type: HistoryType;
  /** Where in the report's schema its type comes from (`#/definitions/finding/properties/status`). */
  from: string;
}
interface Column extends HistoryColumn {
  value: (s: RowSource) => unknown;
}

type Part =
  /** These properties of the report itself (each under its own column name). */
  | { of: "report"; columns: Record<string, string> }
  /** These properties of the row's account. */
  | { of: "account"; keys: string[] }
  /** Every property of a definition, from the row's element (the finding, the user, the account). */
  | { of: "item"; definition: string; omit?: string[] }
  /** A property of the report's `changes` (an array: one of its items per row). */
  | { of: "changes"; key: string; column: string }
  /** Properties of the finding definition, their values from the row's element. */
  | { of: "finding"; keys: string[] }
  /** A column of this module's own, with its fixed type. */
  | { of: "own"; column: string; type: HistoryType; description: string };

/** Every table starts with the scan it belongs to. */
const SCAN: Part = {
  of: "report",
  columns: { scanId: "scanId", scanStartedAt: "startedAt", organizationId: "organizationId" },
};

const TABLE_PARTS: Record<HistoryTable, Part[]> = {
  findings: [SCAN, { of: "item", definition: "finding" }, { of: "account", keys: ["ouPath"] }],
  users: [SCAN, { of: "account", keys: ["accountId", "accountName", "ouPath"] }, { of: "item", definition: "user" }],
  // The users are the users table's (a long array, kept out of each account's row).
  accounts: [SCAN, { of: "item", definition: "account", omit: ["users"] }],
  changes: [
    SCAN,
    { of: "changes", key: "previousScanId", column: "previousScanId" },
    { of: "own", column: "change", type: STRING, description: "NEW or RESOLVED" },
    { of: "changes", key: "new", column: "findingId" },
    { of: "finding", keys: ["checkId", "accountId", "userName"] },
  ],
};

/** The report's JSON Schema, emitted once per process. */
let schemaRoot: JsonSchemaNode | undefined;
const reportSchema = (): JsonSchemaNode => {
  schemaRoot ??= reportJsonSchema() as JsonSchemaNode;
  return schemaRoot;
};

function columnsOf(table: HistoryTable, root: JsonSchemaNode): Column[] {
  /** The schema node at `path` (`#/definitions/finding/properties/status`), resolving references on the way. */
  const at = (path: string): JsonSchemaNode => {
    let node: JsonSchemaNode = root;
    for (const step of path.replace(/^#\//, "").split("/")) {
      if (node.$ref) node = resolve(root, node.$ref);
      // A nullable object is `anyOf: [object, null]`: its properties are the object's.
      if (step === "properties" && node.anyOf) node = node.anyOf.find((a) => !isNull(a)) ?? node;
      const next = (node as Record<string, unknown>)[step] as JsonSchemaNode | undefined;
      if (next === undefined) throw new Error(`history: the report's schema has no ${path}`);
      node = next;
    }
    return node;
  };
  const column = (key: string, from: string, value: Column["value"]): Column => ({
    name: snakeCase(key),
    type: historyType(at(from), root),
    from,
    value,
  });
  const columns: Column[] = [];
  for (const part of TABLE_PARTS[table])
    switch (part.of) {
      case "report":
        for (const [name, key] of Object.entries(part.columns))
          columns.push(column(name, `#/properties/${key}`, (s) => (s.report as Record<string, unknown>)[key]));
        break;
      case "account":
        for (const key of part.keys)
          columns.push(
            column(key, `#/definitions/account/properties/${key}`, (s) => s.account?.[key as keyof ReportAccount]),
          );
        break;
      case "item":
        for (const key of Object.keys(at(`#/definitions/${part.definition}/properties`)))
          if (!part.omit?.includes(key))
            columns.push(column(key, `#/definitions/${part.definition}/properties/${key}`, (s) => s.item[key]));
        break;
      case "changes": {
        // An array's column holds one of its items per row.
        const path = `#/properties/changes/properties/${part.key}`;
        const from = at(path).type === "array" ? `${path}/items` : path;
        columns.push(column(part.column, from, (s) => s.item[part.column]));
        break;
      }
      case "finding":
        for (const key of part.keys)
          columns.push(column(key, `#/definitions/finding/properties/${key}`, (s) => s.item[key]));
        break;
      case "own":
        columns.push({
          name: snakeCase(part.column),
          type: part.type,
          from: `orgmfa: ${part.description}`,
          value: (s) => s.item[part.column],
        });
    }
  const seen = new Set<string>([HISTORY_PARTITION]);
  for (const c of columns) {
    if (seen.has(c.name)) throw new Error(`history: ${table} would have the column ${c.name} twice`);
    seen.add(c.name);
  }
  return columns;
}

const columnCache = new Map<HistoryTable, Column[]>();
function tableColumns(table: HistoryTable): Column[] {
  let columns = columnCache.get(table);
  if (!columns) {
    columns = columnsOf(table, reportSchema());
    columnCache.set(table, columns);
  }
  return columns;
}

/**
 * The columns of one table (without the partition column `dt`), generated from the report's JSON
 * Schema: what the Glue table declares (`glueType`) and DuckDB reads (`duckDbType`).
 */
export function historyColumns(table: HistoryTable, schema?: JsonSchemaNode): HistoryColumn[] {
  return (schema ? columnsOf(table, schema) : tableColumns(table)).map(({ name, type, from }) => ({
    name,
    type,
    from,
  }));
}

/** The report's elements a table has a row for, with what each row is made from. */
function* sourcesOf(table: HistoryTable, report: ScanReport): Generator<RowSource> {
  const row = (account: ReportAccount | undefined, item: object): RowSource => ({
    report,
    account,
    item: item as Record<string, unknown>,
  });
  switch (table) {
    case "findings":
      for (const f of report.findings) yield row(accountOf(report, f.accountId), f);
      return;
    case "users":
      for (const a of report.accounts) for (const u of a.users) yield row(a, u);
      return;
    case "accounts":
      for (const a of report.accounts) yield row(a, a);
      return;
    case "changes": {
      const c = report.changes;
      if (!c) return;
      for (const [change, ids] of [
        ["NEW", c.new],
        ["RESOLVED", c.resolved],
      ] as const)
        for (const id of ids) {
          const parsed = parseFindingId(id);
          const userName = parsed?.principal.kind === "user" ? parsed.principal.userName : null;
          yield row(undefined, {
            previousScanId: c.previousScanId,
            change,
            findingId: id,
            checkId: parsed?.checkId ?? null,
            accountId: parsed?.accountId ?? null,
            userName,
          });
        }
      return;
    }
  }
}

/**
 * The rows of one table for one scan, each an object of exactly its columns (snake_case keys, null
 * for what the report leaves out), in the report's order.
 */
export function* historyRows(table: HistoryTable, report: ScanReport): Generator<Record<string, unknown>> {
  const columns = tableColumns(table);
  for (const s of sourcesOf(table, report))
    yield Object.fromEntries(columns.map((c) => [c.name, historyValue(c.type, c.value(s))]));
}

/** One table's JSON Lines for one scan, in pieces of up to 1,000 rows. */
export function* historyJsonLines(table: HistoryTable, report: ScanReport): Generator<string> {
  let batch: string[] = [];
  for (const row of historyRows(table, report)) {
    batch.push(`${JSON.stringify(row)}\n`);
    if (batch.length === 1000) {
      yield batch.join("");
      batch = [];
    }
  }
  if (batch.length) yield batch.join("");
}

/**
 * One table's file for one scan, gzip-compressed as it is rendered (never the whole table in memory).
 * A table with no row for this scan (a first scan's changes) is an empty file: every scan writes
 * every table, so a reader always finds them.
 */
export function historyFileStream(table: HistoryTable, report: ScanReport): Readable {
  return Readable.from(historyJsonLines(table, report)).pipe(createGzip());
}

// ── The named queries ────────────────────────────────────────────────────────────────────────────────

/**
 * A question people ask of the history, as SQL both Athena (engine version 3, Trino) and DuckDB run
 * unchanged: table names unqualified (Athena's named query names the database), days compared as the
 * `dt` strings (so Athena prunes partitions), `current_date` in UTC.
 */
export interface HistoryQuery {
  /** A short stable id (`users-without-mfa-by-ou-today`). */
  id: string;
  /** The Athena named query's name. */
  name: string;
  description: string;
  sql: string;
}

/** `current_date` minus `days`, as a `dt` value (`'yyyy-mm-dd'`). */
const daysAgo = (days: number) => `CAST(CAST(current_date - INTERVAL '${days}' DAY AS date) AS varchar)`;
const TODAY = "CAST(current_date AS varchar)";
const sqlList = (values: Iterable<string>) => [...values].map((v) => `'${v.replace(/'/g, "''")}'`).join(", ");

/** The newest scan whose day is on or after `fromDay` (a `dt` expression). */
const newestScan = (fromDay: string) =>
  `(SELECT max_by(scan_id, scan_started_at) FROM accounts WHERE dt >= ${fromDay} AND dt <= ${TODAY})`;

export const HISTORY_QUERIES: readonly HistoryQuery[] = [
  {
    id: "users-without-mfa-by-ou-today",
    name: "orgmfa: users without MFA by OU, today",
    description:
      "Today's newest scan: IAM and root users with a credential and no MFA (exempted ones included, as the report's headline counts them), by OU path.",
    sql: `-- Today's newest scan (UTC day): users without MFA (${[...NO_MFA_CHECKS].join(", ")}), by OU.
SELECT
  ou_path,
  count(*) AS users_without_mfa,
  sum(CASE WHEN status = 'EXEMPTED' THEN 1 ELSE 0 END) AS exempted,
  sum(CASE WHEN user_name IS NULL THEN 1 ELSE 0 END) AS root_users
FROM findings
WHERE dt = ${TODAY}
  AND scan_id = ${newestScan(TODAY)}
  AND check_id IN (${sqlList(NO_MFA_CHECKS)})
GROUP BY ou_path
ORDER BY users_without_mfa DESC, ou_path`,
  },
  {
    id: "new-and-resolved-per-week",
    name: "orgmfa: new and resolved findings per week",
    description:
      "Findings new and resolved since each scan's previous one (as the digest says them), summed by ISO week (Monday first), over the last 12 weeks.",
    sql: `-- New and resolved findings per ISO week (Monday first), the last 12 weeks.
SELECT
  CAST(date_trunc('week', CAST(dt AS date)) AS date) AS week,
  sum(CASE WHEN change = 'NEW' THEN 1 ELSE 0 END) AS new_findings,
  sum(CASE WHEN change = 'RESOLVED' THEN 1 ELSE 0 END) AS resolved_findings
FROM changes
WHERE dt >= CAST(CAST(date_trunc('week', current_date) - INTERVAL '77' DAY AS date) AS varchar)
GROUP BY 1
ORDER BY 1`,
  },
  {
    id: "accounts-not-audited-30-days",
    name: "orgmfa: accounts never audited in the last 30 days",
    description:
      "Accounts listed by some scan of the last 30 days and audited by none of them, with their latest status and why.",
    sql: `-- Accounts no scan of the last 30 days audited, with the latest status and why.
SELECT
  account_id,
  max_by(account_name, scan_started_at) AS account_name,
  max_by(ou_path, scan_started_at) AS ou_path,
  max_by(status, scan_started_at) AS last_status,
  max_by(reason, scan_started_at) AS last_reason,
  max_by(error.message, scan_started_at) AS last_error,
  count(*) AS scans,
  min(dt) AS first_day,
  max(dt) AS last_day
FROM accounts
WHERE dt >= ${daysAgo(30)}
GROUP BY account_id
HAVING sum(CASE WHEN status = 'AUDITED' THEN 1 ELSE 0 END) = 0
ORDER BY account_id`,
  },
  {
    id: "exemptions-expiring-this-month",
    name: "orgmfa: exemptions expiring this month",
    description:
      "The newest scan of the last 7 days: exempted findings whose exemption expires in the current calendar month (UTC).",
    sql: `-- The newest scan of the last 7 days: exemptions in force that expire this calendar month.
SELECT
  exemption.expires AS expires,
  account_id,
  account_name,
  ou_path,
  coalesce(user_name, CASE WHEN principal_arn IS NULL THEN '(account)' ELSE 'root' END) AS principal,
  check_id,
  exemption.reason AS reason
FROM findings
WHERE dt >= ${daysAgo(7)}
  AND scan_id = ${newestScan(daysAgo(7))}
  AND status = 'EXEMPTED'
  AND substr(exemption.expires, 1, 7) = substr(${TODAY}, 1, 7)
ORDER BY expires, account_id, principal`,
  },
];

/**
 * A query's SQL as of another day: every `current_date` replaced by `DATE 'yyyy-mm-dd'` (a literal
 * both Athena and DuckDB read). The one translation the history's queries ever get: to ask "as it
 * was on that day" — and in the tests, to pin "today" to the day of the scans they wrote.
 */
export function sqlAsOf(sql: string, day: string): string {
  // A calendar day: 2026-02-30 is not one (Date would roll it into March).
  const parsed = new Date(`${day}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day)
    throw new Error(`sqlAsOf: not a day (yyyy-mm-dd): ${day}`);
  return sql.replace(/\bcurrent_date\b/g, `DATE '${day}'`);
}

// ── Local queries with DuckDB ────────────────────────────────────────────────────────────────────────

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * The DuckDB statements that make each table a view over a local copy of the history (`root`: the
 * folder holding `findings/`, `users/`, …, e.g. from `aws s3 sync s3://<bucket>/<prefix>/history/ .`),
 * with the very columns of the Glue tables and `dt` from the folder names, as a string like Athena's.
 * Run `SET TimeZone = 'UTC'` first: Athena's `current_date` is UTC.
 */
export function duckDbViews(root: string): string[] {
  const base = root.replace(/[\\/]+$/, "");
  return HISTORY_TABLES.map((table) => {
    const columns = historyColumns(table)
      .map((c) => `${sqlString(c.name)}: ${sqlString(duckDbType(c.type))}`)
      .join(", ");
    const files = sqlString(`${base}/${historyTableFolder(table)}${HISTORY_PARTITION}=*/*${HISTORY_FILE_EXTENSION}`);
    return `CREATE OR REPLACE VIEW ${table} AS SELECT * FROM read_json(${files}, format = 'newline_delimited', hive_partitioning = true, hive_types = {'${HISTORY_PARTITION}': 'VARCHAR'}, columns = {${columns}})`;
  });
}
