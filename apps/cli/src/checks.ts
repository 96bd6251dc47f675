import { CHECK_DEFAULTS, CHECK_IDS, CHECK_INFO, type CheckId } from "@orgmfa/core";
import Table from "cli-table3";

/** Every check, as `orgmfa checks` lists it. */
export function checkList(): Array<{
  id: CheckId;
  severity: string;
  enabledByDefault: boolean;
  relatedControls: string[];
  description: string;
  needs: string;
}> {
  return CHECK_IDS.map((id) => ({
    id,
    severity: CHECK_DEFAULTS[id].severity,
    enabledByDefault: CHECK_DEFAULTS[id].enabledByDefault,
    relatedControls: CHECK_DEFAULTS[id].controls,
    description: CHECK_INFO[id].description,
    needs: CHECK_INFO[id].needs,
  }));
}

/** `orgmfa checks [--format table|json]`: the table fits `width` columns. */
export function renderChecks(format: "table" | "json", width = 120): string {
  const list = checkList();
  if (format === "json") return `${JSON.stringify(list, null, 2)}\n`;
  // A text column is never narrower than its longest word: a check id or an option one must type is
  // wrapped whole onto its own line, never cut to "USER_MFA_NOT_PHISHING_RE…".
  const longest = (texts: string[]) => Math.max(...texts.flatMap((t) => t.split(/\s+/)).map((w) => w.length)) + 2;
  const text = Math.max(24, Math.floor((width - 66) / 2));
  const t = new Table({
    head: ["Check", "Severity", "Related controls", "Raised when", "Needs"],
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [
      longest(list.map((c) => c.id)),
      10,
      17,
      Math.max(text, longest(list.map((c) => c.description))),
      Math.max(text, longest(list.map((c) => c.needs))),
    ],
  });
  for (const c of list) t.push([c.id, c.severity, c.relatedControls.join(", ") || "—", c.description, c.needs]);
  return `${t.toString()}\n`;
}
