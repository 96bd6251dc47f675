import { stringify } from "csv-stringify/sync";
import type { ScanReport } from "./types";

/**
 * Neutralises a cell that a spreadsheet would evaluate as a formula (CONTRACT.md): one starting
 * with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
 */
export function safeCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const s = typeof value === "string" ? value : String(value);
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function csv(header: string[], rows: unknown[][]): string {
  return stringify([header, ...rows.map((r) => r.map(safeCell))], {
    record_delimiter: "\r\n",
    quoted_match: /[",\r\n]/,
  });
}

/** findings.csv: one row per finding. */
export function findingsCsv(report: ScanReport): string {
  return csv(
    [
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
    ],
    report.findings.map((f) => [
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
    ]),
  );
}

/** accounts.csv: the coverage ledger, one row per listed account. */
export function accountsCsv(report: ScanReport): string {
  return csv(
    [
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
    ],
    report.accounts.map((a) => [
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
    ]),
  );
}

/** users.csv: the inventory of every IAM user in the audited accounts. */
export function usersCsv(report: ScanReport): string {
  const rows: unknown[][] = [];
  for (const a of report.accounts) {
    for (const u of a.users) {
      rows.push([
        a.accountId,
        a.accountName,
        u.userName,
        u.arn,
        u.createdAt,
        u.consoleAccess,
        u.passwordLastUsed,
        u.activeAccessKeys,
        u.mfaDevices.length,
        u.mfaDevices.map((d) => d.type).join(" ") || (u.mfaActive ? "NOT_LISTED" : ""),
        u.verifiedLive,
        // Say whether the device list is all the user has; never imply it (older reports: unknown).
        u.mfaDevicesComplete === undefined ? "" : u.mfaDevicesComplete,
        u.verdictSource ?? (u.verifiedLive ? "LIVE" : "CREDENTIAL_REPORT"),
        u.verdictAsOf ?? "",
      ]);
    }
  }
  return csv(
    [
      "accountId",
      "accountName",
      "userName",
      "arn",
      "createdAt",
      "consoleAccess",
      "passwordLastUsed",
      "activeAccessKeys",
      "mfaDevices",
      "mfaDeviceTypes",
      "verifiedLive",
      "mfaDevicesComplete",
      "verdictSource",
      "verdictAsOf",
    ],
    rows,
  );
}
