import { readFileSync, writeFileSync } from "node:fs";
import { EXIT, exitCodeFor, type FailOn, parseReportJson, ReportSchemaError, type ScanReport } from "@orgmfa/core";
import { UsageError } from "./errors";
import { colorFor, type Io, sinks } from "./io";
import { checkOutputFile, resolveFormat } from "./outputs";
import { type Format, render } from "./render";

export interface ReportFlags {
  /** Undefined: from --output's extension, else the table. */
  format?: Format;
  output?: string;
  region?: string;
  scanningAccount?: string;
  /** Exit 3/4 as `orgmfa scan` would for this report; without it, 0. */
  failOn?: FailOn;
  allowPartial?: boolean;
  color: boolean;
}

/** Parses and validates a report's text; every problem is a usage error naming where it came from. */
export function parseReportText(text: string, source: string): ScanReport {
  try {
    return parseReportJson(text);
  } catch (e) {
    if (!(e instanceof ReportSchemaError)) throw e;
    const problems = e.problems.slice(0, 5).map((p) => `  ${p}`);
    throw new UsageError(`${source} is not an orgmfa report:\n${problems.join("\n")}`);
  }
}

/** Reads and validates a saved report.json. */
export function loadReportFile(file: string): ScanReport {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(
      `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Pass the path of a report.json written by orgmfa scan, or - to read it from stdin.`,
    );
  }
  return parseReportText(text, file);
}

async function readStdin(io: Io): Promise<string> {
  const stdin = io.stdin ?? process.stdin;
  if (stdin.isTTY)
    throw new UsageError("report -: stdin is a terminal; pipe a report.json into it (… | orgmfa report -).");
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * `orgmfa report <file|-> …`: re-renders a saved report without touching AWS. Exit 0, or with
 * --fail-on the 3 or 4 the scan that wrote it would have given.
 */
export async function runReportCommand(file: string, f: ReportFlags, io: Io): Promise<number> {
  const { out } = sinks(io);
  const format = resolveFormat(f.format, f.output, "table");
  const outputFile = f.output && f.output !== "-" ? f.output : undefined;
  if (outputFile) checkOutputFile(outputFile);
  const report = file === "-" ? parseReportText(await readStdin(io), "stdin") : loadReportFile(file);
  // The report records where it was scanned from (run.region, run.callerArn): the flags override it.
  const region = f.region ?? report.run?.region ?? undefined;
  const scanningAccount = f.scanningAccount ?? report.run?.callerArn?.split(":")[4] ?? undefined;
  if (format === "asff") {
    if (!region)
      throw new UsageError(
        "--region: needed for --format asff (this report does not record the region it was scanned in), as a region name such as us-east-1 (the Security Hub region)",
      );
    if (!scanningAccount || !/^\d{12}$/.test(scanningAccount))
      throw new UsageError(
        "--scanning-account: needed for --format asff (this report does not record who scanned), as a 12-digit account id (ACCOUNT_NOT_AUDITED findings are imported there)",
      );
  }
  const rendered = render(report, format, {
    color: colorFor(io.stdout, f.color) && !outputFile,
    ...(region ? { region } : {}),
    ...(format === "asff" ? { asff: { region: region ?? "", scanningAccountId: scanningAccount ?? "" } } : {}),
  });
  if (outputFile) writeFileSync(outputFile, rendered);
  else out.write(rendered);
  return f.failOn ? exitCodeFor(report, f.failOn, f.allowPartial === true) : EXIT.OK;
}
