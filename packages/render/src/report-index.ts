import type { ReportAccount, ReportUser, ScanReport } from "@orgmfa/core";

interface Index {
  accounts: Map<string, ReportAccount>;
  /** The users of recently looked-up accounts, by user name (most recent last). */
  users: Map<string, Map<string, ReportUser>>;
}

/**
 * Accounts whose users are kept indexed at once. A report's users may be kept deflated
 * (`withPackedUsers`); indexing every user of 10,000 accounts would bring them all back onto
 * the heap. Findings are sorted by check and account, so lookups come in runs of one account and a
 * few recent accounts suffice.
 */
const USER_CACHE_ACCOUNTS = 64;

// Built once per report (reports are not changed after buildReport), so renderers that look up a
// finding's account or user stay O(findings) instead of O(findings × accounts).
const indexes = new WeakMap<ScanReport, Index>();

function indexOf(report: ScanReport): Index {
  let index = indexes.get(report);
  if (!index) {
    index = { accounts: new Map(), users: new Map() };
    for (const a of report.accounts) index.accounts.set(a.accountId, a);
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
  if (userName === null) return undefined;
  const index = indexOf(report);
  let users = index.users.get(accountId);
  if (users) {
    index.users.delete(accountId); // most recent last
  } else {
    users = new Map((index.accounts.get(accountId)?.users ?? []).map((u) => [u.userName, u]));
    if (index.users.size >= USER_CACHE_ACCOUNTS) {
      const oldest = index.users.keys().next().value;
      if (oldest !== undefined) index.users.delete(oldest);
    }
  }
  index.users.set(accountId, users);
  return users.get(userName);
}
