import type { ScanReport } from "./report-model";
import { SEVERITIES, type Severity } from "./severity";

export type FailOn = Severity | "none";

/** The exit codes of docs/usage.md. */
export const EXIT = { OK: 0, ERROR: 1, USAGE: 2, FINDINGS: 3, INCOMPLETE: 4 } as const;

/**
 * 4 when some in-scope account was not audited (unless `allowPartial`), or when no account was in
 * scope at all (a report of nothing is never all clear); else 3 when an open finding is at or above
 * `failOn`; else 0. When both 3 and 4 apply, 4 wins.
 */
export function exitCodeFor(report: ScanReport, failOn: FailOn, allowPartial: boolean): number {
  if (report.summary.accounts.inScope === 0) return EXIT.INCOMPLETE;
  if (report.summary.accounts.failed > 0 && !allowPartial) return EXIT.INCOMPLETE;
  if (failOn === "none") return EXIT.OK;
  const threshold = SEVERITIES.indexOf(failOn);
  const hit = report.findings.some((f) => f.status === "OPEN" && SEVERITIES.indexOf(f.severity) <= threshold);
  return hit ? EXIT.FINDINGS : EXIT.OK;
}
