import { parse } from "csv-parse/sync";

/** The root user's row in an IAM credential report. */
export const ROOT_ROW_USER = "<root_account>";

/** One row of an IAM credential report, normalised. Unknown values are null. */
export interface CredentialReportRow {
  user: string;
  arn: string;
  createdAt: string | null;
  /** true / false; null for `not_supported` or a missing column. */
  passwordEnabled: boolean | null;
  passwordLastUsed: string | null;
  mfaActive: boolean | null;
  /** Active access keys among `access_key_N_active`; null when no such column is present. */
  activeAccessKeys: number | null;
  /** Active signing certificates among `cert_N_active`; null when no such column is present. */
  activeCertificates: number | null;
}

export interface ParsedCredentialReport {
  users: CredentialReportRow[];
  /** The `<root_account>` row, when the report has one. */
  root: CredentialReportRow | null;
}

export class CredentialReportFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CredentialReportFormatError";
  }
}

const NO_VALUE = new Set(["", "n/a", "not_supported", "no_information"]);

function bool(v: string | undefined): boolean | null {
  if (v === undefined) return null;
  const s = v.trim().toLowerCase();
  if (s === "true") return true;
  if (s === "false") return false;
  return null;
}

function time(v: string | undefined): string | null {
  if (v === undefined || NO_VALUE.has(v.trim().toLowerCase())) return null;
  const d = new Date(v.trim());
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Active values among the given columns; null when the row has none of them (unknown). */
function countActive(row: Record<string, string>, columns: readonly string[]): number | null {
  let seen = false;
  let n = 0;
  for (const k of columns) {
    const v = row[k];
    if (v === undefined) continue;
    seen = true;
    if (bool(v) === true) n++;
  }
  return seen ? n : null;
}

/**
 * Parses the CSV of `GetCredentialReport` by header name. Tolerates a byte-order mark, CRLF line
 * ends, extra or missing columns, and any case of `true`/`false`; `N/A`, `not_supported` and
 * `no_information` become null.
 *
 * @throws CredentialReportFormatError when the document has no `user` or `arn` column.
 */
export function parseCredentialReport(content: string | Uint8Array): ParsedCredentialReport {
  const text = typeof content === "string" ? content : new TextDecoder("utf-8").decode(content);
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      relax_column_count: true,
      skip_empty_lines: true,
      trim: false,
    });
  } catch (e) {
    throw new CredentialReportFormatError(`credential report is not valid CSV: ${(e as Error).message}`);
  }
  const first = records[0];
  if (first && (!("user" in first) || !("arn" in first))) {
    throw new CredentialReportFormatError("credential report has no 'user' or 'arn' column");
  }
  const users: CredentialReportRow[] = [];
  let root: CredentialReportRow | null = null;
  // The columns are the same in every row: find the numbered ones once per document.
  const names = first ? Object.keys(first) : [];
  const keyColumns = names.filter((k) => /^access_key_\d+_active$/.test(k));
  const certColumns = names.filter((k) => /^cert_\d+_active$/.test(k));
  for (const r of records) {
    const row: CredentialReportRow = {
      user: (r.user ?? "").trim(),
      arn: (r.arn ?? "").trim(),
      createdAt: time(r.user_creation_time),
      passwordEnabled: bool(r.password_enabled),
      passwordLastUsed: time(r.password_last_used),
      mfaActive: bool(r.mfa_active),
      activeAccessKeys: countActive(r, keyColumns),
      activeCertificates: countActive(r, certColumns),
    };
    if (row.user === ROOT_ROW_USER) root = row;
    else if (row.user !== "") users.push(row);
  }
  return { users, root };
}
