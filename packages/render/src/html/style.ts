// report.html's stylesheet, inline (the Content-Security-Policy allows inline styles and nothing else).
import { MAX_COLUMN_WIDTH, SEVERITY_COLOUR } from "./format";

/** A class per column width (`col.w11` is 11 % wide), so no element needs a `style` attribute. */
const WIDTHS = Array.from({ length: MAX_COLUMN_WIDTH }, (_, i) => `col.w${i + 1}{width:${i + 1}%}`).join("");

/** A class per severity badge's colour; on paper the badge is outlined in it instead (no dark fills). */
const SEVERITIES = Object.entries(SEVERITY_COLOUR)
  .map(([s, c]) => `.sev-${s.toLowerCase()}{background:${c}}`)
  .join("");
const PRINTED_SEVERITIES = Object.entries(SEVERITY_COLOUR)
  .map(([s, c]) => `.sev-${s.toLowerCase()}{color:${c};border-color:${c}}`)
  .concat(".sev-other{color:#4b5563;border-color:#4b5563}")
  .join("");

export const STYLE = `${WIDTHS}
${SEVERITIES}.sev-other{background:#4b5563}
:root{color-scheme:light;--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bad:#b91c1c;--ok:#047857;--warn:#92400e}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.muted{color:var(--muted);font-size:12px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 16px;min-width:200px;flex:1}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:28px;font-weight:700}
.card.bad .value{color:var(--bad)}.card.ok .value{color:var(--ok)}.charts{display:flex;flex-wrap:wrap;gap:16px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px;max-width:100%}figcaption{font-weight:600;margin-bottom:4px}
figure.chart svg{max-width:100%;height:auto}
#scan h2.facts-title{margin-top:16px}
.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:3px 16px;margin:0}
.facts dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em;padding-top:2px}
.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
th{background:#f9fafb;font-size:12px;text-transform:uppercase;letter-spacing:.03em;overflow-wrap:break-word}td.num{text-align:right}
thead{display:table-header-group}
tr.group th{background:#f3f4f6;text-transform:none;letter-spacing:0;font-size:13px;padding-top:10px}
tr.group th .muted{font-weight:400}tr.off td{color:var(--muted)}
.sev{color:#fff;border:1px solid transparent;border-radius:4px;padding:1px 6px;font-size:12px;font-weight:600;white-space:nowrap}
.badge{border-radius:4px;padding:1px 6px;font-size:12px;border:1px solid var(--line)}.badge.failed{background:#fee2e2;color:var(--bad);border-color:#fecaca}
.badge.audited{background:#ecfdf5;color:var(--ok)}.badge.skipped{color:var(--muted)}
.control{display:inline-block;border:1px solid var(--line);border-radius:4px;padding:0 5px;margin:0 2px 2px 0;font-size:12px;white-space:nowrap}
.flag,.partial{color:var(--warn);font-weight:600}.flag{display:inline-block}
tr.warn-row td{background:#fffbeb;color:var(--warn);border-bottom:1px solid #fde68a;font-size:12px}
.warn-label{font-weight:700;text-transform:uppercase;font-size:11px;letter-spacing:.04em}
ul.notes{margin:4px 0 0;padding-left:18px;color:var(--warn);font-size:12px;font-weight:400}
.alert{border:1px solid #fecaca;background:#fef2f2;border-radius:8px;padding:12px 16px;margin:16px 0}
.alert ul{margin:6px 0 0;padding-left:20px;columns:30em;column-gap:32px}.alert li{break-inside:avoid}
.bounded{border:1px solid #fde68a;background:#fffbeb;border-radius:8px;padding:8px 12px;margin:8px 0 12px}
p.bounded.summary{margin:16px 0}
#ous th:not(:first-child){text-align:right}
.badge,.control,tr.warn-row td,tr.group th,.alert,.bounded{-webkit-print-color-adjust:exact;print-color-adjust:exact}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@page{size:A4;margin:12mm 11mm 14mm}
@media print{
body{padding:0;max-width:none;font-size:9.5px;line-height:1.35}
h1{font-size:16px}h2{font-size:12.5px;margin:14px 0 6px;break-after:avoid}#scan h2.facts-title{margin-top:8px}
.muted,.facts dt,.badge,.sev,.control,ul.notes,tr.warn-row td,footer{font-size:8px}.warn-label{font-size:7.5px}
th{font-size:7.5px}th,td{padding:3px 4px}tr.group th{font-size:9px;padding-top:6px}
.cards{gap:6px;margin:10px 0;flex-wrap:nowrap}.card{min-width:0;padding:6px 8px}.card .label{font-size:7.5px}.card .value{font-size:17px}
.card .detail{font-size:8px}.alert{padding:6px 10px;margin:10px 0}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:8px}figure.chart{padding:4px}figure.chart svg{width:100%;height:auto}
tr,figure,.card,.facts dd,#checks,.alert li,.bounded{break-inside:avoid}.legend,tr.group,p.bounded:not(.summary){break-after:avoid}
footer{margin-top:16px}
table{break-inside:auto}thead{display:table-header-group}tfoot{display:table-footer-group}
.sev{background:#fff;border-color:currentColor;-webkit-print-color-adjust:exact;print-color-adjust:exact}${PRINTED_SEVERITIES}
}
`;
