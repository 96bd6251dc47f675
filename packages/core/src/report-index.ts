import type { ReportAccount, ReportUser, ScanReport } from "./types";

interface Index {
  accounts: Map<string, ReportAccount>;
  users: Map<string, ReportUser>;
}

// Built once per report (reports are not changed after buildReport), so renderers that look up a
// finding's account or user stay O(findings) instead of O(findings × accounts).
const indexes = new WeakMap<ScanReport, Index>();

function indexOf(report: ScanReport): Index {
  let index = indexes.get(report);
  if (!index) {
    index = { accounts: new Map(), users: new Map() };
    for (const a of report.accounts) {
      index.accounts.set(a.accountId, a);
      for (const u of a.users) index.users.set(`${a.accountId}/${u.userName}`, u);
    }
    indexes.set(report, index);
  }
  return index;
}

/** The ledger entry of an account in the report. */
export function accountOf(report: ScanReport, accountId: string): ReportAccount | undefined {
  return indexOf(report).accounts.get(accountId);
}

/** An IAM user of an audited account in the report. */
export function userOf(report: ScanReport, accountId: string, userName: string | null): ReportUser | undefined {
  return userName === null ? undefined : indexOf(report).users.get(`${accountId}/${userName}`);
}
