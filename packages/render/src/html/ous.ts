// report.html's per-OU table: every OU of the ledger, ranked by open findings.
import type { ReportAccount } from "@orgmfa/core";
import { cols, headerRow, soft } from "./format";

export interface OuRow {
  ouPath: string;
  accounts: number;
  audited: number;
  failed: number;
  skipped: number;
  users: number;
  open: number;
  exempted: number;
}

/** Every OU an account of the ledger is in, by open findings (most first), then accounts not audited, then path. */
export function ouRows(
  accounts: readonly ReportAccount[],
  openOf: ReadonlyMap<string, number>,
  exemptedOf: ReadonlyMap<string, number>,
  usersOf: ReadonlyMap<string, number>,
): OuRow[] {
  const rows = new Map<string, OuRow>();
  for (const a of accounts) {
    let row = rows.get(a.ouPath);
    if (!row) {
      row = { ouPath: a.ouPath, accounts: 0, audited: 0, failed: 0, skipped: 0, users: 0, open: 0, exempted: 0 };
      rows.set(a.ouPath, row);
    }
    row.accounts++;
    if (a.status === "AUDITED") row.audited++;
    else if (a.status === "FAILED") row.failed++;
    else row.skipped++;
    row.users += usersOf.get(a.accountId) ?? 0;
    row.open += openOf.get(a.accountId) ?? 0;
    row.exempted += exemptedOf.get(a.accountId) ?? 0;
  }
  return [...rows.values()].sort(
    (x, y) => y.open - x.open || y.failed - x.failed || (x.ouPath < y.ouPath ? -1 : x.ouPath > y.ouPath ? 1 : 0),
  );
}

/** The per-OU table (every OU: there are never more OUs than accounts, and far fewer in practice). */
export function ousTable(rows: readonly OuRow[]): string {
  if (!rows.length) return `<p id="ous">No account was listed.</p>`;
  const body = rows
    .map(
      (r) =>
        `<tr><td>${soft(r.ouPath)}</td><td class="num">${r.accounts}</td><td class="num">${r.audited}</td>` +
        `<td class="num">${r.failed ? `<strong class="partial">${r.failed}</strong>` : "0"}</td><td class="num">${r.skipped}</td>` +
        `<td class="num">${r.users}</td><td class="num">${r.open}</td><td class="num">${r.exempted}</td></tr>`,
    )
    .join("");
  return (
    `<table id="ous">${cols(32, 9, 9, 11, 9, 10, 10, 10)}` +
    `${headerRow("OU", "Accounts", "Audited", "Not audited", "Skipped", "Users", "Open findings", "Exempted")}` +
    `<tbody>${body}</tbody></table>`
  );
}

/** Each account's findings of one status, by account id. */
export function countByAccount(findings: readonly { accountId: string; status: string }[], status: string) {
  const m = new Map<string, number>();
  for (const f of findings) if (f.status === status) m.set(f.accountId, (m.get(f.accountId) ?? 0) + 1);
  return m;
}
