// Escaping and formatting helpers of report.html: everything the page shows of the report goes through `h`.
import type { Severity } from "@orgmfa/core";
import escapeHtml from "escape-html";

/** Escapes text for HTML and SVG, attribute values included (`&`, `<`, `>`, `"`, `'`). */
export const h = (v: unknown): string => escapeHtml(v === null || v === undefined ? "" : String(v));

export const SEVERITY_COLOUR: Record<Severity, string> = {
  CRITICAL: "#8b0000",
  HIGH: "#d1352b",
  MEDIUM: "#e08a00",
  LOW: "#2f7fc1",
  INFORMATIONAL: "#6b7280",
};

export const pct = (n: number) => `${(n * 100).toFixed(n === 1 ? 0 : 1)}%`;
export const DAY_MS = 86_400_000;
export const NOT_RECORDED = `<span class="muted">not recorded (report written before orgmfa 0.2)</span>`;

/** A check id that may wrap at its underscores in a narrow column. */
export const checkName = (id: string) => h(id).replace(/_/g, "_<wbr>");

/** Escaped text that may also wrap after `/`, `:` and `@` (OU paths, ARNs, e-mail addresses). */
export const soft = (v: unknown) => h(v).replace(/[/:@]/g, (c) => `${c}<wbr>`);

/** An instant for people (`2026-11-22 00:33:56 UTC`), machine-readable in `datetime`. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return `<time datetime="${h(iso)}">${h(m ? `${m[1]} ${m[2]} UTC` : iso)}</time>`;
}

/** A CSS string literal that cannot end the string or the style element, whatever `v` holds. */
export const cssString = (v: string) =>
  `"${[...v].map((c) => (/[A-Za-z0-9 ._:/-]/.test(c) ? c : `\\${(c.codePointAt(0) ?? 32).toString(16)} `)).join("")}"`;

/** The widest column a table may ask for, in percent (the stylesheet has a class for each width up to it). */
export const MAX_COLUMN_WIDTH = 50;

/**
 * Column widths (percent), so a table lays out the same on screen and on an A4 page. Each width is a
 * class of the stylesheet (`w11`), not an inline style: the page has one stylesheet and no `style` attribute.
 */
export const cols = (...widths: number[]) =>
  `<colgroup>${widths.map((w) => `<col class="w${Math.min(MAX_COLUMN_WIDTH, Math.max(1, Math.round(w)))}">`).join("")}</colgroup>`;

/** A severity as a coloured badge (its colour a class of the stylesheet, from {@link SEVERITY_COLOUR}). */
export const severityBadge = (severity: string) =>
  `<span class="sev ${severity in SEVERITY_COLOUR ? `sev-${h(severity.toLowerCase())}` : "sev-other"}">${h(severity)}</span>`;

/** Header cells of a table's columns, each with `scope="col"` so assistive technology reads each cell with its heading. */
export const headerRow = (...labels: string[]) =>
  `<thead><tr>${labels.map((l) => `<th scope="col">${h(l)}</th>`).join("")}</tr></thead>`;
