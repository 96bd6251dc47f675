import type { ScanReport } from "@orgmfa/core";
import {
  HISTORY_FILE_EXTENSION,
  HISTORY_PARTITION,
  type HistoryTable,
  historyPath,
  historyTableFolder,
} from "@orgmfa/render";

/**
 * The report bucket's layout, in one place: the keys the run-state store and Publish write, the key
 * patterns the deployed roles' policies grant, and the prefixes the bucket's lifecycle rules expire.
 *
 * ```
 * <prefix>/scans/<yyyy>/<mm>/<dd>/<scanId>/…   each scan's auditor files (Object Lock per object)
 * <prefix>/latest/…                             a copy of the newest scan's files
 * <prefix>/runs/<scanId>/…                      one run's working state (RUN_FILES, results/<account>.json)
 * <prefix>/state/…                              what runs keep between them (STATE_FILES)
 * <prefix>/quarantine/<yyyy>/<mm>/<dd>/…        one record per change an IAM event led to
 * <prefix>/history/<table>/dt=<yyyy-mm-dd>/<scanId>.jsonl.gz
 *                                               each scan's findings, users, accounts and changes as
 *                                               JSON Lines (gzip) for Athena and DuckDB (docs/history.md)
 * ```
 */
export const TOP_FOLDERS = {
  scans: "scans/",
  latest: "latest/",
  runs: "runs/",
  state: "state/",
  quarantine: "quarantine/",
  history: "history/",
} as const;

/** The objects of one run's folder, `runs/<scanId>/`. */
export const RUN_FILES = {
  /** The run's context (Discover): every step reads it. */
  context: "context.json",
  /** The in-scope targets: the Distributed Map's items. */
  targets: "targets.json",
  /** The previous scan's report as it was when the run started (a copy Discover makes). */
  previous: "previous-report.json",
  /** Every listed account, in scope or skipped. */
  ledger: "ledger.json",
  /** The owners the Owners step knew. */
  owners: "owners.json",
  /** Who the run found without MFA, by audited account (Publish, for the sweep). */
  withoutMfa: "console-without-mfa.json",
  /** The quarantine sweep's record. */
  quarantine: "quarantine.json",
} as const;
export type RunFile = keyof typeof RUN_FILES;

/** One result object per account, `runs/<scanId>/results/<accountId>.json` (ScanBatch). */
export const RESULTS_FOLDER = "results/";

/** What runs keep between them, under `state/`. */
export const STATE_FILES = {
  /** The owner tags read so far (Owners reads and rewrites it). */
  ownerTags: "owner-tags.json",
  /** Every listed account's OU ids as the last Discover found them (Enforce's quarantine mode by OU). */
  accountOus: "account-ous.json",
  /** The last run's pace (Publish writes it; the next Discover derives the Map's concurrency from it). */
  pace: "pace.json",
} as const;
export type StateFile = keyof typeof STATE_FILES;

/** `path` under the report prefix, however the prefix was written ("orgmfa", "/orgmfa/", "" for the root). */
export function keyUnder(prefix: string, path: string): string {
  const base = prefix.replace(/^\/+|\/+$/g, "");
  return `${base ? `${base}/` : ""}${path}`;
}

/** `scans/<yyyy>/<mm>/<dd>/<scanId>/` under a prefix (the UTC day the scan started). */
export function scanKeyPrefix(prefix: string, report: Pick<ScanReport, "scanId" | "startedAt">): string {
  const d = new Date(report.startedAt);
  const p = (n: number) => String(n).padStart(2, "0");
  return keyUnder(
    prefix,
    `${TOP_FOLDERS.scans}${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${report.scanId}/`,
  );
}

/** `<prefix>/latest/`. */
export function latestKeyPrefix(prefix: string): string {
  return keyUnder(prefix, TOP_FOLDERS.latest);
}

/** The keys of one run's folder. */
export function runKeys(prefix: string, scanId: string) {
  const base = keyUnder(prefix, `${TOP_FOLDERS.runs}${scanId}/`);
  const file = Object.fromEntries(Object.entries(RUN_FILES).map(([k, name]) => [k, `${base}${name}`])) as Record<
    RunFile,
    string
  >;
  return {
    base,
    ...file,
    results: `${base}${RESULTS_FOLDER}`,
    result: (accountId: string) => `${base}${RESULTS_FOLDER}${accountId}.json`,
  };
}

/** A key kept between runs, `state/<name>`. */
export const stateKey = (prefix: string, file: StateFile) =>
  keyUnder(prefix, `${TOP_FOLDERS.state}${STATE_FILES[file]}`);

/** The pattern (for IAM resources) of one run file in every run: `runs/*\/<name>`. */
export const runFilePattern = (file: RunFile | "results") =>
  `${TOP_FOLDERS.runs}*/${file === "results" ? `${RESULTS_FOLDER}*` : RUN_FILES[file]}`;

/** The pattern of one state file: `state/<name>`. */
export const stateFilePattern = (file: StateFile) => `${TOP_FOLDERS.state}${STATE_FILES[file]}`;

/** One change an IAM event led to, kept as evidence beside the reports: quarantine/<yyyy>/<mm>/<dd>/<time>-<account>-<user>.json. */
export const quarantineRecordKey = (prefix: string, at: string, accountId: string, userName: string) =>
  keyUnder(
    prefix,
    `${TOP_FOLDERS.quarantine}${at.slice(0, 4)}/${at.slice(5, 7)}/${at.slice(8, 10)}/${at.replace(/[:.]/g, "-")}-${accountId}-${encodeURIComponent(userName)}.json`,
  );

/**
 * One scan's file of one history table (Publish writes one of each per scan):
 * `<prefix>/history/<table>/dt=<yyyy-mm-dd>/<scanId>.jsonl.gz`, the day the scan started (UTC).
 */
export const historyKey = (prefix: string, table: HistoryTable, report: Pick<ScanReport, "scanId" | "startedAt">) =>
  keyUnder(prefix, `${TOP_FOLDERS.history}${historyPath(table, report)}`);

/** One history table's folder, its Glue table's location: `<prefix>/history/<table>/`. */
export const historyTableKeyPrefix = (prefix: string, table: HistoryTable) =>
  keyUnder(prefix, `${TOP_FOLDERS.history}${historyTableFolder(table)}`);

/** The pattern (for IAM resources) of every scan's file of one history table: `history/<table>/dt=*\/*.jsonl.gz`. */
export const historyFilePattern = (table: HistoryTable) =>
  `${TOP_FOLDERS.history}${historyTableFolder(table)}${HISTORY_PARTITION}=*/*${HISTORY_FILE_EXTENSION}`;
