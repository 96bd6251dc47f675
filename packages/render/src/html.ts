import { type Finding, type ScanReport, verdictSentence } from "@orgmfa/core";
import {
  accountsBound,
  findingsBound,
  HTML_LIMITS,
  type HtmlLimits,
  rankAccounts,
  shownAccounts,
  shownFindings,
  shownUsers,
  usersBound,
} from "./html/bounds";
import { scanFacts, userStats } from "./html/facts";
import { cols, cssString, h, headerRow, when } from "./html/format";
import { countByAccount, ouRows, ousTable } from "./html/ous";
import { STYLE } from "./html/style";
import { boundedSummary, charts, headlineCards, notAuditedAlert } from "./html/summary";
import { accountRow, checksTable, exemptionsTable, findingRow, userRows, type Warning } from "./html/tables";

export { HTML_LIMITS, type HtmlLimits } from "./html/bounds";
export { barChart } from "./html/charts";

/**
 * `report.html`: one self-contained page for auditors (docs/delivery.md). No script and no network
 * fetch (a Content-Security-Policy forbids both); every organization-supplied string is escaped.
 * First the facts of the scan (who ran it, where, scope and filters, config SHA-256), the headline
 * figures, every account not audited and inline SVG charts; then the findings, the exemptions in force
 * (with the config warnings that concern them), the checks as run with their related controls, the
 * OUs and the accounts ranked by open findings, with their collection notes, and the users with the
 * source and time of each verdict. Prints on A4.
 *
 * The long lists are bounded by `limits` ({@link HTML_LIMITS}): a large organization's page lists the
 * most severe findings, the accounts with the most open findings and their users, and says exactly
 * how many rows it left out and which files beside it hold them all. Below the bounds, every row.
 */
export function renderHtml(report: ScanReport, limits: HtmlLimits = HTML_LIMITS): string {
  return [...htmlChunks(report, limits)].join("");
}

/**
 * `report.html` in pieces, in order (their concatenation is {@link renderHtml}'s page): the long
 * tables a row or an account at a time, so the page is never one string, and each account's users
 * are read (inflated) only while they are counted or written.
 */
export function* htmlChunks(report: ScanReport, limits: HtmlLimits = HTML_LIMITS): Generator<string> {
  const open = report.findings.filter((f) => f.status === "OPEN");
  const ouOf = new Map(report.accounts.map((a) => [a.accountId, a.ouPath]));
  const openByAccount = countByAccount(report.findings, "OPEN");
  const stats = userStats(report);
  const ranked = rankAccounts(report.accounts, openByAccount);

  const findings = shownFindings(report.findings, limits.findings);
  const accounts = shownAccounts(ranked, limits.accounts);
  const users = shownUsers(ranked, stats.usersOf, limits.users);
  const shownUsersOf = new Set(users.groups.map((g) => g.account.accountId));
  const findingsOf = new Map<string, Finding[]>();
  for (const f of report.findings)
    if (f.principalArn && shownUsersOf.has(f.accountId)) {
      const list = findingsOf.get(f.principalArn);
      if (list) list.push(f);
      else findingsOf.set(f.principalArn, [f]);
    }

  // Config warnings about an exemption are shown with it; the others in the scan facts.
  const warnings = report.warnings ?? [];
  const exemptionOf = (wn: Warning) => {
    const m = /^exemptions\[(\d+)\]/.exec(wn.field);
    return m && report.exemptions && Number(m[1]) < report.exemptions.length ? Number(m[1]) : null;
  };
  const general = warnings.filter((wn) => exemptionOf(wn) === null);

  const leftOut = {
    findings:
      findings.shown.length < report.findings.length
        ? `the ${findings.shown.length} most severe of ${report.findings.length} findings`
        : "",
    users: users.shown < users.total ? `${users.shown} of ${users.total} users` : "",
    accounts: accounts.leftOut ? `${accounts.shown.length} of ${report.accounts.length} accounts` : "",
  };
  const pageFooter = `orgmfa · organization ${report.organizationId ?? "unknown"} · scan ${report.scanId}`;

  yield `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>orgmfa report ${h(report.scanId)}</title><style>${STYLE}
@page{@bottom-left{content:${cssString(pageFooter)};font:8px system-ui,sans-serif;color:#6b7280}@bottom-right{content:"page " counter(page) " of " counter(pages);font:8px system-ui,sans-serif;color:#6b7280}}
</style></head>
<body>
<header><h1>MFA across the organization</h1>
<div class="muted">orgmfa report for auditors · organization ${h(report.organizationId ?? "unknown")} · ${when(report.finishedAt)}</div></header>
${scanFacts(report, stats, general, warnings.length - general.length)}
${headlineCards(report)}
${notAuditedAlert(report)}
${boundedSummary(leftOut)}
${charts(report, open, ouOf)}
<h2 id="findings-heading">Findings (${report.findings.length})</h2>
${findingsBound(report.findings.length, findings)}`;
  if (report.findings.length) {
    yield `<table id="findings">${cols(11, 15, 18, 12, 30, 14)}${headerRow("Severity", "Check", "Account", "Principal", "Finding and fix", "Status")}<tbody>`;
    for (const f of findings.shown) yield findingRow(f, ouOf.get(f.accountId) ?? "");
    yield "</tbody></table>";
  } else yield `<p id="verdict">${h(verdictSentence(report))}</p>`;
  yield `
<h2 id="exemptions-heading">Exemptions (${report.exemptions?.length ?? "not recorded"})</h2>
${exemptionsTable(report, (i) => warnings.filter((wn) => exemptionOf(wn) === i))}
<h2 id="checks-heading">Checks</h2>
${checksTable(report)}
<h2 id="ous-heading">OUs (${new Set(ouOf.values()).size})</h2>
<p class="muted legend">Ranked by open findings. Not audited: accounts whose users' MFA state is unknown.</p>
${ousTable(ouRows(report.accounts, openByAccount, countByAccount(report.findings, "EXEMPTED"), stats.usersOf))}
<h2 id="accounts-heading">Accounts (${report.accounts.length})</h2>
<p class="muted legend">Ranked by open findings; on a tie, accounts not audited first.</p>
${accountsBound(report.accounts.length, accounts)}<table id="accounts">${cols(15, 15, 16, 9, 11, 6, 6, 22)}${headerRow("Account", "OU", "Owner", "Status", "Root credentials / MFA", "Users", "Open", "Detail")}<tbody>`;
  for (const a of accounts.shown)
    yield accountRow(a, openByAccount.get(a.accountId) ?? 0, stats.usersOf.get(a.accountId));
  yield `</tbody></table>
<h2 id="users-heading">Users (${stats.total})</h2>
`;
  if (users.groups.length) {
    yield `<p class="muted legend">Each verdict comes from the account's credential report or from a live IAM read, true as of the time shown. A partial device list shows only what the verdict needed: the virtual devices that prove the user has MFA, or, for a user whose MFA is a hardware or FIDO device, the fresh credential report's word that MFA is on; run with --complete-inventory to list every device.</p>` +
      usersBound(users) +
      `<table id="users">${cols(24, 11, 12, 19, 11, 13, 10)}${headerRow("User", "Credentials", "MFA devices", "Findings", "Verdict from", "As of", "Device list")}`;
    for (const g of users.groups) yield userRows(g.account, findingsOf, g.shown);
    yield "</table>";
  } else yield `<p id="users">No IAM users in the audited accounts.</p>`;
  yield `
<footer>Generated by orgmfa ${h(report.tool.version)} (report schema ${h(report.schemaVersion)}). This file is self-contained: it loads nothing from the network.</footer>
</body></html>
`;
}
