import { deviceClass, type ScanReport } from "@orgmfa/core";
import { stringify } from "csv-stringify/sync";

/**
 * Neutralises a cell that a spreadsheet would evaluate as a formula (docs/delivery.md): one starting
 * with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
 */
export function safeCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const s = typeof value === "string" ? value : String(value);
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

const OPTIONS = { record_delimiter: "\r\n", quoted_match: /[",\r\n]/ } as const;

/** Rows of cells as CSV text (each record ends with CRLF, so pieces concatenate into one file). */
const records = (rows: unknown[][]): string =>
  stringify(
    rows.map((r) => r.map(safeCell)),
    OPTIONS,
  );

/** A CSV file in pieces: the header, then each batch of rows as it is produced. */
function* csvChunks(header: string[], batches: Iterable<unknown[][]>): Generator<string> {
  yield stringify([header], OPTIONS);
  for (const rows of batches) if (rows.length) yield records(rows);
}

const FINDINGS_HEADER = [
  "id",
  "checkId",
  "severity",
  "status",
  "accountId",
  "accountName",
  "userName",
  "principalArn",
  "title",
  "exemptionReason",
  "exemptionExpires",
  "firstSeenAt",
  "enrolBy",
];

/** findings.csv in pieces, a thousand findings at a time. */
export function* findingsCsvChunks(report: ScanReport): Generator<string> {
  function* batches() {
    for (let i = 0; i < report.findings.length; i += 1000)
      yield report.findings
        .slice(i, i + 1000)
        .map((f) => [
          f.id,
          f.checkId,
          f.severity,
          f.status,
          f.accountId,
          f.accountName,
          f.userName,
          f.principalArn,
          f.title,
          f.exemption?.reason,
          f.exemption?.expires,
          f.firstSeenAt,
          f.enrolBy,
        ]);
  }
  yield* csvChunks(FINDINGS_HEADER, batches());
}

/** findings.csv: one row per finding. */
export function findingsCsv(report: ScanReport): string {
  return [...findingsCsvChunks(report)].join("");
}

const ACCOUNTS_HEADER = [
  "accountId",
  "accountName",
  "ouPath",
  "owner",
  "status",
  "reason",
  "errorCode",
  "errorMessage",
  "rootCredentials",
  "rootMfa",
  "users",
  "credentialReportGeneratedAt",
  "usersAuditedVia",
  "rootAuditedVia",
  "rootDevicesComplete",
  "rootDeviceClasses",
];

/** accounts.csv in pieces, an account at a time (each account's users are counted, not kept). */
export function* accountsCsvChunks(report: ScanReport): Generator<string> {
  function* batches() {
    for (const a of report.accounts)
      yield [
        [
          a.accountId,
          a.accountName,
          a.ouPath,
          a.owner,
          a.status,
          a.reason,
          a.error?.code,
          a.error?.message,
          a.root?.credentials,
          a.root?.mfa,
          a.status === "AUDITED" ? a.users.length : "",
          a.credentialReportGeneratedAt,
          // Which parts were audited, and how (a FAILED account's root may have been, through AssumeRoot).
          a.audited?.users ?? "",
          a.audited?.root ?? "",
          a.root?.devicesComplete ?? "",
          (a.root?.devices ?? []).map((d) => deviceClass(d)).join(" "),
        ],
      ];
  }
  yield* csvChunks(ACCOUNTS_HEADER, batches());
}

/** accounts.csv: the coverage ledger, one row per listed account. */
export function accountsCsv(report: ScanReport): string {
  return [...accountsCsvChunks(report)].join("");
}

const USERS_HEADER = [
  "accountId",
  "accountName",
  "userName",
  "arn",
  "createdAt",
  "consoleAccess",
  "passwordLastUsed",
  "activeAccessKeys",
  "hasMfa",
  "mfaDevices",
  "mfaDeviceTypes",
  "verifiedLive",
  "mfaDevicesComplete",
  "verdictSource",
  "verdictAsOf",
  "mfaDeviceClasses",
];

/** users.csv in pieces, an account's users at a time (read only while they are written). */
export function* usersCsvChunks(report: ScanReport): Generator<string> {
  function* batches() {
    for (const a of report.accounts)
      yield a.users.map((u) => [
        a.accountId,
        a.accountName,
        u.userName,
        u.arn,
        u.createdAt,
        u.consoleAccess,
        u.passwordLastUsed,
        u.activeAccessKeys,
        // Whether the user has MFA at all: a user whose hardware or FIDO device was not listed (MFA
        // proven by the credential report) has 0 in mfaDevices but MFA all the same.
        u.mfaDevices.length > 0 || u.mfaActive === true,
        u.mfaDevices.length,
        u.mfaDevices.map((d) => d.type).join(" ") || (u.mfaActive ? "NOT_LISTED" : ""),
        u.verifiedLive,
        // Say whether the device list is all the user has; never imply it (older reports: unknown).
        u.mfaDevicesComplete === undefined ? "" : u.mfaDevicesComplete,
        u.verdictSource ?? (u.verifiedLive ? "LIVE" : "CREDENTIAL_REPORT"),
        u.verdictAsOf ?? "",
        // What each device resists (docs/checks.md, "Device classes").
        u.mfaDevices.map((d) => deviceClass(d)).join(" "),
      ]);
  }
  yield* csvChunks(USERS_HEADER, batches());
}

/** users.csv: the inventory of every IAM user in the audited accounts. */
export function usersCsv(report: ScanReport): string {
  return [...usersCsvChunks(report)].join("");
}
