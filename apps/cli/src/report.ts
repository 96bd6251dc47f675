import { readFileSync, writeFileSync } from "node:fs";
import { parseReportJson, ReportSchemaError, type ScanReport } from "@orgmfa/core";
import { UsageError } from "./errors";
import { FORMATS, type Format, render } from "./render";

export interface ReportFlags {
  format: Format;
  output?: string;
  region?: string;
  scanningAccount?: string;
  color: boolean;
}

/** Reads and validates a saved report.json; every problem is a usage error naming the file. */
export function loadReportFile(file: string): ScanReport {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(
      `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Pass the path of a report.json written by orgmfa scan.`,
    );
  }
  try {
    return parseReportJson(text);
  } catch (e) {
    if (!(e instanceof ReportSchemaError)) throw e;
    const problems = e.problems.slice(0, 5).map((p) => `  ${p}`);
    throw new UsageError(`${file} is not an orgmfa report:\n${problems.join("\n")}`);
  }
}

/** `orgmfa report <file> --format …`: re-renders a saved report without touching AWS. */
export function runReportCommand(
  file: string,
  f: ReportFlags,
  stdout: NodeJS.WritableStream & { isTTY?: boolean },
): number {
  if (!FORMATS.includes(f.format)) throw new UsageError(`--format: "${f.format}" must be one of ${FORMATS.join(", ")}`);
  if (f.format === "asff") {
    if (!f.region) throw new UsageError("--region: needed for --format asff (the Security Hub region)");
    if (!f.scanningAccount || !/^\d{12}$/.test(f.scanningAccount))
      throw new UsageError(
        "--scanning-account: needed for --format asff, as a 12-digit account id (ACCOUNT_NOT_AUDITED findings are imported there)",
      );
  }
  const report = loadReportFile(file);
  const out = render(report, f.format, {
    color: f.color && !f.output && stdout.isTTY === true,
    ...(f.format === "asff" ? { asff: { region: f.region ?? "", scanningAccountId: f.scanningAccount ?? "" } } : {}),
  });
  if (f.output && f.output !== "-") writeFileSync(f.output, out);
  else stdout.write(out);
  return 0;
}
