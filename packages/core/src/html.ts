import escapeHtml from "escape-html";
import { CHECK_INFO } from "./catalog";
import { headline, headlineText, verdictSentence } from "./headline";
import { type Finding, type ReportAccount, type ScanReport, SEVERITIES, type Severity } from "./types";

/** Escapes text for HTML and SVG, attribute values included (`&`, `<`, `>`, `"`, `'`). */
const h = (v: unknown): string => escapeHtml(v === null || v === undefined ? "" : String(v));

const SEVERITY_COLOUR: Record<Severity, string> = {
  CRITICAL: "#8b0000",
  HIGH: "#d1352b",
  MEDIUM: "#e08a00",
  LOW: "#2f7fc1",
  INFORMATIONAL: "#6b7280",
};

interface Bar {
  label: string;
  value: number;
  colour?: string;
}

/** A horizontal bar chart as inline SVG (no script, no external resource). */
export function barChart(title: string, bars: readonly Bar[], options: { id: string; max?: number } = { id: "chart" }) {
  const rowH = 22;
  const labelW = 230;
  const barW = 220;
  const height = Math.max(1, bars.length) * rowH + 8;
  const max = options.max ?? Math.max(1, ...bars.map((b) => b.value));
  const rows = bars.length
    ? bars
        .map((b, i) => {
          const y = i * rowH + 4;
          const w = b.value === 0 ? 0 : Math.max(2, Math.round((b.value / max) * barW));
          const label = b.label.length > 34 ? `…${b.label.slice(-33)}` : b.label;
          return (
            `<g><title>${h(b.label)}: ${b.value}</title>` +
            `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${h(label)}</text>` +
            `<rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 8}" fill="${b.colour ?? "#4b5563"}" rx="2"/>` +
            `<text x="${labelW + w + 6}" y="${y + 15}">${b.value}</text></g>`
          );
        })
        .join("")
    : `<text x="8" y="18">Nothing to show</text>`;
  return (
    `<figure class="chart" id="${h(options.id)}"><figcaption>${h(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${h(title)}" width="${labelW + barW + 50}" height="${height}" viewBox="0 0 ${labelW + barW + 50} ${height}" font-size="12" font-family="system-ui, sans-serif">${rows}</svg></figure>`
  );
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function topBars(entries: Array<[string, number]>, limit: number): Bar[] {
  const bars = entries.slice(0, limit).map(([label, value]) => ({ label, value }));
  const rest = entries.slice(limit).reduce((n, [, v]) => n + v, 0);
  if (rest > 0) bars.push({ label: `${entries.length - limit} more`, value: rest });
  return bars;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
const pct = (n: number) => `${(n * 100).toFixed(n === 1 ? 0 : 1)}%`;

function principal(f: Finding): string {
  return f.userName ?? (f.principalArn ? "root" : "—");
}

function card(label: string, value: string, detail: string, cls = ""): string {
  return `<div class="card ${cls}"><div class="label">${h(label)}</div><div class="value">${h(value)}</div><div class="detail">${h(detail)}</div></div>`;
}

function accountRow(a: ReportAccount, open: number): string {
  const detail =
    a.status === "FAILED" ? `${a.reason}: ${a.error?.code ?? ""} — ${a.error?.message ?? ""}` : (a.reason ?? "");
  return (
    `<tr class="status-${h(a.status.toLowerCase())}"><td>${h(a.accountName)}<div class="muted">${h(a.accountId)}</div></td>` +
    `<td>${h(a.ouPath)}</td><td>${h(a.owner ?? "")}</td><td><span class="badge ${h(a.status.toLowerCase())}">${h(a.status)}</span></td>` +
    `<td>${a.root ? `${h(a.root.credentials)} / ${h(a.root.mfa)}` : "—"}</td>` +
    `<td class="num">${a.status === "AUDITED" ? a.users.length : "—"}</td><td class="num">${open}</td><td>${h(detail)}</td></tr>`
  );
}

function findingRow(f: Finding, ouPath: string): string {
  const status =
    f.status === "EXEMPTED"
      ? `EXEMPTED until ${h(f.exemption?.expires)}<div class="muted">${h(f.exemption?.reason)}</div>`
      : "OPEN";
  return (
    `<tr><td><span class="sev" style="background:${SEVERITY_COLOUR[f.severity]}">${h(f.severity)}</span></td>` +
    `<td>${h(f.checkId)}</td><td>${h(f.accountName)}<div class="muted">${h(f.accountId)} · ${h(ouPath)}</div></td>` +
    `<td>${h(principal(f))}</td><td>${h(f.title)}<div class="muted">${h(CHECK_INFO[f.checkId].remediation)}</div></td><td>${status}</td></tr>`
  );
}

const STYLE = `
:root{color-scheme:light;--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bad:#b91c1c;--ok:#047857}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.muted{color:var(--muted);font-size:12px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 16px;min-width:200px;flex:1}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:28px;font-weight:700}
.card.bad .value{color:var(--bad)}.card.ok .value{color:var(--ok)}.charts{display:flex;flex-wrap:wrap;gap:16px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{background:#f9fafb;font-size:12px;text-transform:uppercase;letter-spacing:.03em}td.num{text-align:right}
.sev{color:#fff;border-radius:4px;padding:1px 6px;font-size:12px;font-weight:600;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.badge{border-radius:4px;padding:1px 6px;font-size:12px;border:1px solid var(--line)}.badge.failed{background:#fee2e2;color:var(--bad);border-color:#fecaca}
.badge.audited{background:#ecfdf5;color:var(--ok)}.badge.skipped{color:var(--muted)}
.alert{border:1px solid #fecaca;background:#fef2f2;border-radius:8px;padding:12px 16px;margin:16px 0}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@media print{body{padding:0;max-width:none;font-size:11px}h2{break-after:avoid}tr,figure,.card{break-inside:avoid}.charts{display:block}figure.chart{margin-bottom:8px}}
`;

/**
 * `report.html`: one self-contained page for auditors (CONTRACT.md). No script and no network
 * fetch (a Content-Security-Policy forbids both); every organization-supplied string is escaped.
 * Headline figures and inline SVG charts come first, then the accounts and the findings.
 */
export function renderHtml(report: ScanReport): string {
  const s = report.summary;
  const head = headline(report);
  const w = head.withoutMfa;
  const open = report.findings.filter((f) => f.status === "OPEN");
  const ouOf = new Map(report.accounts.map((a) => [a.accountId, a.ouPath]));
  const openByAccount = new Map<string, number>();
  for (const f of open) openByAccount.set(f.accountId, (openByAccount.get(f.accountId) ?? 0) + 1);
  const failed = report.accounts.filter((a) => a.status === "FAILED");
  const sevDetail = SEVERITIES.filter((k) => s.findings.bySeverity[k] > 0)
    .map((k) => `${k} ${s.findings.bySeverity[k]}`)
    .join(" · ");

  const cards = [
    card(
      "Users without MFA",
      String(w.total),
      `${w.iam} IAM, ${w.root} root, in ${plural(w.accounts, "account")}${w.exempted ? ` · ${w.exempted} exempted` : ""}`,
      w.open ? "bad" : "ok",
    ),
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

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>orgmfa report ${h(report.scanId)}</title><style>${STYLE}</style></head>
<body>
<header><h1>MFA across the organization</h1>
<div class="muted">Organization ${h(report.organizationId ?? "unknown")} · partition ${h(report.partition)} · scan ${h(report.scanId)} · ${h(report.startedAt)} → ${h(report.finishedAt)}</div></header>
<section class="cards" id="headline">${cards.join("")}</section>
${failedAlert}
<section class="charts" id="charts">${charts.join("")}</section>
<h2 id="findings-heading">Findings (${report.findings.length})</h2>
${
  report.findings.length
    ? `<table id="findings"><thead><tr><th>Severity</th><th>Check</th><th>Account</th><th>Principal</th><th>Finding and fix</th><th>Status</th></tr></thead><tbody>${report.findings
        .map((f) => findingRow(f, ouOf.get(f.accountId) ?? ""))
        .join("")}</tbody></table>`
    : `<p id="verdict">${h(verdictSentence(report))}</p>`
}
<h2 id="accounts-heading">Accounts (${report.accounts.length})</h2>
<table id="accounts"><thead><tr><th>Account</th><th>OU</th><th>Owner</th><th>Status</th><th>Root credentials / MFA</th><th>Users</th><th>Open</th><th>Detail</th></tr></thead><tbody>${report.accounts
    .map((a) => accountRow(a, openByAccount.get(a.accountId) ?? 0))
    .join("")}</tbody></table>
<footer>Generated by orgmfa ${h(report.tool.version)} (report schema ${h(report.schemaVersion)}). This file is self-contained: it loads nothing from the network.</footer>
</body></html>
`;
}
