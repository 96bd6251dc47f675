import {
  type Finding,
  headline,
  headlineText,
  plural,
  type ScanReport,
  SEVERITIES,
  unknownBecause,
  verdictSentence,
  withoutMfaKnown,
} from "@orgmfa/core";
import { barChart, countBy, topBars } from "./html/charts";
import { scanFacts, userStats } from "./html/facts";
import { cols, cssString, h, pct, SEVERITY_COLOUR, when } from "./html/format";
import { STYLE } from "./html/style";
import { accountRow, checksTable, exemptionsTable, findingRow, userRows, type Warning } from "./html/tables";

export { barChart } from "./html/charts";

function card(label: string, value: string, detail: string, cls = ""): string {
  return `<div class="card ${cls}"><div class="label">${h(label)}</div><div class="value">${h(value)}</div><div class="detail">${h(detail)}</div></div>`;
}

/**
 * `report.html`: one self-contained page for auditors (docs/delivery.md). No script and no network
 * fetch (a Content-Security-Policy forbids both); every organization-supplied string is escaped.
 * First the facts of the scan (who ran it, where, scope and filters, config SHA-256), the headline
 * figures and inline SVG charts; then the findings, the exemptions in force (with the config warnings
 * that concern them), the checks as run with their related controls, the accounts with their
 * collection notes, and every user with the source and time of its verdict. Prints on A4.
 */
export function renderHtml(report: ScanReport): string {
  return [...htmlChunks(report)].join("");
}

/**
 * `report.html` in pieces, in order (their concatenation is {@link renderHtml}'s page): the long
 * tables a row or an account at a time, so a report of 10,000 accounts is written without the page
 * ever being one string, and each account's users are read (inflated) only while they are written.
 */
export function* htmlChunks(report: ScanReport): Generator<string> {
  const s = report.summary;
  const head = headline(report);
  const w = head.withoutMfa;
  const open = report.findings.filter((f) => f.status === "OPEN");
  const ouOf = new Map(report.accounts.map((a) => [a.accountId, a.ouPath]));
  const openByAccount = new Map<string, number>();
  for (const f of open) openByAccount.set(f.accountId, (openByAccount.get(f.accountId) ?? 0) + 1);
  const findingsOf = new Map<string, Finding[]>();
  for (const f of report.findings)
    if (f.principalArn) findingsOf.set(f.principalArn, [...(findingsOf.get(f.principalArn) ?? []), f]);
  const failed = report.accounts.filter((a) => a.status === "FAILED");
  const sevDetail = SEVERITIES.filter((k) => s.findings.bySeverity[k] > 0)
    .map((k) => `${k} ${s.findings.bySeverity[k]}`)
    .join(" · ");

  // Config warnings about an exemption are shown with it; the others in the scan facts.
  const warnings = report.warnings ?? [];
  const exemptionOf = (wn: Warning) => {
    const m = /^exemptions\[(\d+)\]/.exec(wn.field);
    return m && report.exemptions && Number(m[1]) < report.exemptions.length ? Number(m[1]) : null;
  };
  const general = warnings.filter((wn) => exemptionOf(wn) === null);

  const known = withoutMfaKnown(s.accounts);
  const notAuditedDetail = s.accounts.failed ? ` · ${plural(s.accounts.failed, "account")} not audited` : "";
  const cards = [
    known
      ? card(
          "Users without MFA",
          String(w.total),
          `${w.iam} IAM, ${w.root} root, in ${plural(w.accounts, "account")}${w.exempted ? ` · ${w.exempted} exempted` : ""}${notAuditedDetail}`,
          w.open || s.accounts.failed ? "bad" : "ok",
        )
      : card("Users without MFA", "unknown", unknownBecause(s.accounts), "bad"),
    card(
      "Open findings",
      String(s.findings.open),
      `${headlineText(report).findings.replace(/^\d+ open findings?:? ?/, "") || "none"}${sevDetail ? ` · ${sevDetail}` : ""}`,
      s.findings.open ? "bad" : "ok",
    ),
    card(
      "Coverage",
      pct(s.coverage),
      `${s.accounts.audited} of ${s.accounts.inScope} in-scope accounts audited · ${s.accounts.failed} failed · ${s.accounts.skipped} skipped`,
      s.accounts.failed ? "bad" : "ok",
    ),
    card("Exempted", String(s.findings.exempted), "accepted with a reason and an expiry"),
  ];
  if (report.changes) {
    cards.push(
      card(
        "Since previous scan",
        `+${report.changes.new.length} / −${report.changes.resolved.length}`,
        `new / resolved since ${report.changes.previousScanId}`,
      ),
    );
  }

  const charts = [
    barChart(
      "Open findings by severity",
      SEVERITIES.map((k) => ({ label: k, value: s.findings.bySeverity[k], colour: SEVERITY_COLOUR[k] })),
      { id: "chart-severity" },
    ),
    barChart(
      "Open findings by OU",
      topBars(
        countBy(open, (f) => ouOf.get(f.accountId) ?? "?"),
        10,
      ),
      { id: "chart-ou" },
    ),
    barChart(
      "Open findings by account",
      topBars(
        countBy(open, (f) => `${f.accountName} (${f.accountId})`),
        10,
      ),
      { id: "chart-account" },
    ),
  ];

  const failedAlert = failed.length
    ? `<div class="alert" id="not-audited"><strong>${failed.length} account${failed.length === 1 ? " was" : "s were"} not audited</strong> — their users' MFA state is unknown:<ul>${failed
        .map(
          (a) =>
            `<li>${h(a.accountName)} (${h(a.accountId)}), ${h(a.ouPath)}: ${h(a.reason)} — ${h(a.error?.code)}</li>`,
        )
        .join("")}</ul></div>`
    : "";

  const stats = userStats(report);
  const pageFooter = `orgmfa · organization ${report.organizationId ?? "unknown"} · scan ${report.scanId}`;

  yield `<!doctype html>
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
<section class="cards" id="headline">${cards.join("")}</section>
${failedAlert}
<section class="charts" id="charts">${charts.join("")}</section>
<h2 id="findings-heading">Findings (${report.findings.length})</h2>
`;
  if (report.findings.length) {
    yield `<table id="findings">${cols(11, 15, 18, 12, 30, 14)}<thead><tr><th>Severity</th><th>Check</th><th>Account</th><th>Principal</th><th>Finding and fix</th><th>Status</th></tr></thead><tbody>`;
    for (const f of report.findings) yield findingRow(f, ouOf.get(f.accountId) ?? "");
    yield "</tbody></table>";
  } else yield `<p id="verdict">${h(verdictSentence(report))}</p>`;
  yield `
<h2 id="exemptions-heading">Exemptions (${report.exemptions?.length ?? "not recorded"})</h2>
${exemptionsTable(report, (i) => warnings.filter((wn) => exemptionOf(wn) === i))}
<h2 id="checks-heading">Checks</h2>
${checksTable(report)}
<h2 id="accounts-heading">Accounts (${report.accounts.length})</h2>
<table id="accounts">${cols(15, 15, 16, 9, 11, 6, 6, 22)}<thead><tr><th>Account</th><th>OU</th><th>Owner</th><th>Status</th><th>Root credentials / MFA</th><th>Users</th><th>Open</th><th>Detail</th></tr></thead><tbody>`;
  for (const a of report.accounts) yield accountRow(a, openByAccount.get(a.accountId) ?? 0);
  yield `</tbody></table>
<h2 id="users-heading">Users (${stats.total})</h2>
`;
  if (stats.withUsers.length) {
    yield `<p class="muted legend">Each verdict comes from the account's credential report or from a live IAM read, true as of the time shown. A partial device list shows only what the verdict needed: the virtual devices that prove the user has MFA, or, for a user whose MFA is a hardware or FIDO device, the fresh credential report's word that MFA is on; run with --complete-inventory to list every device.</p>` +
      `<table id="users">${cols(24, 11, 12, 19, 11, 13, 10)}<thead><tr><th>User</th><th>Credentials</th><th>MFA devices</th><th>Findings</th><th>Verdict from</th><th>As of</th><th>Device list</th></tr></thead>`;
    for (const a of stats.withUsers) yield userRows(a, findingsOf);
    yield "</table>";
  } else yield `<p id="users">No IAM users in the audited accounts.</p>`;
  yield `
<footer>Generated by orgmfa ${h(report.tool.version)} (report schema ${h(report.schemaVersion)}). This file is self-contained: it loads nothing from the network.</footer>
</body></html>
`;
}
