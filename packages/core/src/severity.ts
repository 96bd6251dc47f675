/** The severities of a finding, most severe first (the order `--fail-on` and the report's counts use). */
export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"] as const;
export type Severity = (typeof SEVERITIES)[number];
