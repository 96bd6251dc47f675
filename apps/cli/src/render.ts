import { headlineText, principalLabel, type ScanReport, verdictSentence } from "@orgmfa/core";
import {
  type AsffContext,
  asffFindings,
  findingsCsvChunks,
  htmlChunks,
  renderOcsf,
  reportJsonChunks,
} from "@orgmfa/render";
import Table from "cli-table3";
import pc from "picocolors";

import type { Format } from "./options";

export { FORMATS, type Format } from "./options";

type Colors = ReturnType<typeof pc.createColors>;
const SEVERITY_COLOR: Record<string, (c: Colors, s: string) => string> = {
  CRITICAL: (c, s) => c.bold(c.red(s)),
  HIGH: (c, s) => c.red(s),
  MEDIUM: (c, s) => c.yellow(s),
  LOW: (c, s) => c.cyan(s),
  INFORMATIONAL: (c, s) => c.dim(s),
};

function pct(n: number): string {
  return `${(n * 100).toFixed(n === 1 ? 0 : 1)}%`;
}

/** The human table: headline, findings, coverage ledger. `color` only on a terminal. */
export function renderTable(report: ScanReport, color: boolean): string {
  // Decided by the caller (terminal, NO_COLOR, FORCE_COLOR, --no-color), not by picocolors' own guess.
  const c = pc.createColors(color);
  const sev = (s: string) => SEVERITY_COLOR[s]?.(c, s) ?? s;
  const s = report.summary;
  const lines: string[] = [];
  const head = headlineText(report);
  lines.push(c.bold(`orgmfa scan ${report.scanId}: ${head.users}`), head.findings);
  lines.push(
    `Coverage ${pct(s.coverage)}: ${s.accounts.audited} of ${s.accounts.inScope} in-scope accounts audited, ${s.accounts.failed} failed, ${s.accounts.skipped} skipped (${s.accounts.listed} listed)`,
  );
  const bySev = Object.entries(s.findings.bySeverity)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${sev(k)} ${n}`);
  if (bySev.length) lines.push(`Open by severity: ${bySev.join("  ")}`);
  lines.push("");
  if (report.findings.length === 0) {
    const verdict = verdictSentence(report);
    lines.push(s.accounts.inScope > 0 && s.accounts.failed === 0 ? c.green(verdict) : c.yellow(verdict));
  } else {
    const t = new Table({
      head: ["Severity", "Check", "Account", "Principal", "Status"],
      style: { head: [], border: [] },
    });
    for (const f of report.findings) {
      t.push([
        sev(f.severity),
        f.checkId,
        `${f.accountName}\n${f.accountId}`,
        principalLabel(f),
        f.status === "EXEMPTED" ? `EXEMPTED until ${f.exemption?.expires}` : "OPEN",
      ]);
    }
    lines.push(t.toString());
  }
  lines.push("");
  const a = new Table({
    head: ["Account", "OU", "Status", "Root", "Users", "Detail"],
    style: { head: [], border: [] },
  });
  for (const acc of report.accounts) {
    const detail =
      acc.status === "AUDITED"
        ? ""
        : acc.reason === "EXCLUDED" || acc.reason === "SUSPENDED"
          ? acc.reason
          : `${acc.reason}: ${acc.error?.code ?? ""}`;
    a.push([
      `${acc.accountName}\n${acc.accountId}`,
      acc.ouPath,
      acc.status === "FAILED" ? c.red(acc.status) : acc.status === "SKIPPED" ? c.dim(acc.status) : acc.status,
      acc.root ? `${acc.root.credentials}/${acc.root.mfa}` : "—",
      acc.status === "AUDITED" ? String(acc.users.length) : "—",
      detail,
    ]);
  }
  lines.push(a.toString());
  if (report.changes) {
    lines.push(
      "",
      `Since scan ${report.changes.previousScanId}: ${report.changes.new.length} new, ${report.changes.resolved.length} resolved`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export interface RenderOptions {
  color: boolean;
  /** Needed for `asff`: the region and the scanning account (ACCOUNT_NOT_AUDITED findings go there). */
  asff?: AsffContext;
  /** The scan's region, where known (`ocsf` records it as `cloud.region`). */
  region?: string;
}

/** One report in one output format. */
export function render(report: ScanReport, format: Format, o: RenderOptions): string {
  return [...renderChunks(report, format, o)].join("");
}

/**
 * One report in one output format, in pieces: the JSON report, the findings CSV and the HTML page a
 * row or an account at a time (so `--format json` of 10,000 accounts is never one string); the other
 * formats in one piece.
 */
export function renderChunks(report: ScanReport, format: Format, o: RenderOptions): Iterable<string> {
  switch (format) {
    case "json":
      return reportJsonChunks(report);
    case "csv":
      return findingsCsvChunks(report);
    case "html":
      return htmlChunks(report);
    case "ocsf":
      return [renderOcsf(report, { region: o.region ?? o.asff?.region })];
    case "asff":
      if (!o.asff) throw new Error("asff needs the region and the scanning account");
      return [`${JSON.stringify(asffFindings(report, o.asff), null, 2)}\n`];
    default:
      return [renderTable(report, o.color)];
  }
}
