// report.html's top: the headline cards, the accounts not audited, what the page leaves out, and the charts.
import {
  type Finding,
  headline,
  headlineText,
  plural,
  type ScanReport,
  SEVERITIES,
  unknownBecause,
  withoutMfaKnown,
} from "@orgmfa/core";
import { fileLink } from "./bounds";
import { barChart, countBy, topBars } from "./charts";
import { h, pct, SEVERITY_COLOUR } from "./format";

function card(label: string, value: string, detail: string, cls = ""): string {
  return `<div class="card ${cls}"><div class="label">${h(label)}</div><div class="value">${h(value)}</div><div class="detail">${h(detail)}</div></div>`;
}

/** The headline figures: users without MFA, open findings, coverage, exempted, and the change since the previous scan. */
export function headlineCards(report: ScanReport): string {
  const s = report.summary;
  const w = headline(report).withoutMfa;
  const sevDetail = SEVERITIES.filter((k) => s.findings.bySeverity[k] > 0)
    .map((k) => `${k} ${s.findings.bySeverity[k]}`)
    .join(" · ");
  const notAuditedDetail = s.accounts.failed ? ` · ${plural(s.accounts.failed, "account")} not audited` : "";
  const cards = [
    withoutMfaKnown(s.accounts)
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
  return `<section class="cards" id="headline">${cards.join("")}</section>`;
}

/** Every account that could not be audited, whatever the size of the organization: their users' MFA state is unknown. */
export function notAuditedAlert(report: ScanReport): string {
  const failed = report.accounts.filter((a) => a.status === "FAILED");
  if (!failed.length) return "";
  return `<div class="alert" id="not-audited"><strong>${failed.length} account${failed.length === 1 ? " was" : "s were"} not audited</strong> — their users' MFA state is unknown:<ul>${failed
    .map(
      (a) => `<li>${h(a.accountName)} (${h(a.accountId)}), ${h(a.ouPath)}: ${h(a.reason)} — ${h(a.error?.code)}</li>`,
    )
    .join("")}</ul></div>`;
}

/** What the page leaves out of its long lists, said once at the top (each list says it again where it is cut). */
export function boundedSummary(parts: { findings: string; users: string; accounts: string }): string {
  const cut = [parts.findings, parts.users, parts.accounts].filter(Boolean);
  if (!cut.length) return "";
  const list = cut.length === 1 ? cut[0] : `${cut.slice(0, -1).join(", ")} and ${cut.at(-1)}`;
  return (
    `<p class="bounded summary" id="bounded"><strong>This organization is larger than one page can show.</strong> ` +
    `This page lists ${list}; the headline, the coverage, every account not audited, every OU, the exemptions ` +
    `and the checks are complete. The full lists are ${fileLink("findings.csv")}, ${fileLink("users.csv")}, ` +
    `${fileLink("accounts.csv")} and ${fileLink("report.json")}, written beside this page ` +
    `(<code>--out-dir</code>, and the scan's folder in S3).</p>`
  );
}

/** The three charts: open findings by severity, by OU and by account (the ten largest, then the rest). */
export function charts(report: ScanReport, open: readonly Finding[], ouOf: ReadonlyMap<string, string>): string {
  const s = report.summary;
  return `<section class="charts" id="charts">${[
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
  ].join("")}</section>`;
}
