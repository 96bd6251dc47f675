// report.html at scale: how much of each long list the page shows, which rows, and how it says what it left out.
import { type Finding, plural, type ReportAccount } from "@orgmfa/core";

/** How many rows of each long list report.html shows at most; the files beside it hold every row. */
export interface HtmlLimits {
  /** Findings: the most severe open ones first, then exempted ones. @default 2000 */
  readonly findings: number;
  /** Users: those of the accounts with the most open findings first. @default 2000 */
  readonly users: number;
  /** Accounts, ranked by open findings. An account not audited is listed whatever this says. @default 2000 */
  readonly accounts: number;
}

/**
 * The page's bounds. At 10,000 accounts × 25 users and 72,000 open findings the page is about 2 MB
 * and opens in a browser in seconds (every row of it was 130 MB, and a 10,000-row accounts table
 * alone takes a browser several seconds to lay out); an organization within them sees every row.
 */
export const HTML_LIMITS: HtmlLimits = { findings: 2000, users: 2000, accounts: 2000 };

/** A file written beside report.html (`--out-dir`, and the scan's folder in S3), as a relative link. */
export const fileLink = (name: string) => `<a href="${name}">${name}</a>`;

const STATUS_RANK: Record<ReportAccount["status"], number> = { FAILED: 0, AUDITED: 1, SKIPPED: 2 };

/**
 * The accounts by open findings, most first; on a tie an account not audited comes first (its users'
 * state is unknown), then the ledger's order.
 */
export function rankAccounts(accounts: readonly ReportAccount[], openOf: ReadonlyMap<string, number>): ReportAccount[] {
  return accounts
    .map((a, i) => ({ a, i, open: openOf.get(a.accountId) ?? 0 }))
    .sort((x, y) => y.open - x.open || STATUS_RANK[x.a.status] - STATUS_RANK[y.a.status] || x.i - y.i)
    .map((x) => x.a);
}

export interface ShownFindings {
  shown: readonly Finding[];
  /** Left out of the page, by status. */
  leftOut: { open: number; exempted: number };
}

/**
 * The findings the page lists: all of them, in the report's order (severity, check, account), while
 * they are within `limit`; beyond it the first `limit` open ones in that order (then exempted ones if
 * fewer are open).
 */
export function shownFindings(findings: readonly Finding[], limit: number): ShownFindings {
  if (findings.length <= limit) return { shown: findings, leftOut: { open: 0, exempted: 0 } };
  const open = findings.filter((f) => f.status === "OPEN");
  const exempted = findings.filter((f) => f.status !== "OPEN");
  const openShown = open.slice(0, limit);
  const shown = [...openShown, ...exempted.slice(0, limit - openShown.length)];
  return {
    shown,
    leftOut: { open: open.length - openShown.length, exempted: exempted.length - (shown.length - openShown.length) },
  };
}

/** Why the page lists only some findings, and where all of them are. */
export function findingsBound(total: number, s: ShownFindings): string {
  const { open, exempted } = s.leftOut;
  if (!open && !exempted) return "";
  const which = s.shown.every((f) => f.status === "OPEN") ? "open findings" : "findings, open ones first";
  return (
    `<p class="bounded" id="findings-bound" data-shown="${s.shown.length}" data-left-out="${open + exempted}">` +
    `<strong>${s.shown.length} of ${total} findings are listed here</strong>: the most severe ${which} ` +
    `(by severity, check, then account). <strong>${open + exempted} left out</strong> ` +
    `(${open} open, ${exempted} exempted). Every finding is in ${fileLink("findings.csv")} and ` +
    `${fileLink("report.json")}, written beside this page.</p>`
  );
}

/** One account's place in the users table: the first `shown` of its `total` users are listed. */
export interface UserGroup {
  account: ReportAccount;
  shown: number;
  total: number;
}

export interface ShownUsers {
  groups: UserGroup[];
  shown: number;
  total: number;
  /** Accounts with users of which at least one is left out. */
  accountsLeftOut: number;
}

/**
 * The users the page lists: every user while they are within `limit`; beyond it the users of the
 * accounts ranked first (by open findings), `limit` users in all, the last account possibly in part.
 */
export function shownUsers(
  ranked: readonly ReportAccount[],
  usersOf: ReadonlyMap<string, number>,
  limit: number,
): ShownUsers {
  const groups: UserGroup[] = [];
  let shown = 0;
  let total = 0;
  let accountsLeftOut = 0;
  for (const account of ranked) {
    const n = account.status === "AUDITED" ? (usersOf.get(account.accountId) ?? 0) : 0;
    if (!n) continue;
    total += n;
    const take = Math.min(n, Math.max(0, limit - shown));
    if (take < n) accountsLeftOut++;
    if (take) groups.push({ account, shown: take, total: n });
    shown += take;
  }
  return { groups, shown, total, accountsLeftOut };
}

/** Why the page lists only some users, and where all of them are. */
export function usersBound(s: ShownUsers): string {
  if (s.shown === s.total) return "";
  return (
    `<p class="bounded" id="users-bound" data-shown="${s.shown}" data-left-out="${s.total - s.shown}">` +
    `<strong>${s.shown} of ${s.total} users are listed here</strong>: those of the ${plural(s.groups.length, "account")} ` +
    `with the most open findings. <strong>${s.total - s.shown} left out</strong>, of ${plural(s.accountsLeftOut, "account")}. ` +
    `Every user is in ${fileLink("users.csv")} and ${fileLink("report.json")}, written beside this page.</p>`
  );
}

export interface ShownAccounts {
  shown: ReportAccount[];
  leftOut: number;
}

/** The ranked accounts the page lists: the first `limit`, and every account not audited wherever it ranks. */
export function shownAccounts(ranked: readonly ReportAccount[], limit: number): ShownAccounts {
  const shown = ranked.filter((a, i) => i < limit || a.status === "FAILED");
  return { shown, leftOut: ranked.length - shown.length };
}

/** Why the page lists only some accounts, and where all of them are. */
export function accountsBound(total: number, s: ShownAccounts): string {
  if (!s.leftOut) return "";
  return (
    `<p class="bounded" id="accounts-bound" data-shown="${s.shown.length}" data-left-out="${s.leftOut}">` +
    `<strong>${s.shown.length} of ${total} accounts are listed here</strong>: those with the most open findings, ` +
    `and every account not audited. <strong>${s.leftOut} left out</strong>. Every account is in ` +
    `${fileLink("accounts.csv")} and ${fileLink("report.json")}, written beside this page.</p>`
  );
}
