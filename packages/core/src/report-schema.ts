import { Ajv, type ValidateFunction } from "ajv";
import schema from "../schema/report.schema.json" with { type: "json" };
import type { ScanReport } from "./types";

export { schema as reportSchema };

let compiled: ValidateFunction | undefined;
/** Compiled on first use: compiling at load would cost every command ~0.2 s, even `--version`. */
const validator = (): ValidateFunction =>
  (compiled ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema));

export class ReportSchemaError extends Error {
  constructor(readonly problems: string[]) {
    super(`report does not match the orgmfa report schema:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ReportSchemaError";
  }
}

/** Problems that make `doc` not a valid report (empty when valid). */
export function reportProblems(doc: unknown): string[] {
  const validate = validator();
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "(top level)"}: ${e.message ?? "invalid"}`);
}

/**
 * Parses a saved report.json (from --out-dir, S3 or a file). One parser for every reader.
 * @throws ReportSchemaError when the text is not JSON or not an orgmfa report, naming the problems.
 */
export function parseReportJson(text: string): ScanReport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ReportSchemaError([`(top level): not JSON (${(e as Error).message})`]);
  }
  assertValidReport(doc);
  return doc;
}

/** @throws ReportSchemaError naming every problem. */
export function assertValidReport(doc: unknown): asserts doc is ScanReport {
  const problems = reportProblems(doc);
  if (problems.length > 0) throw new ReportSchemaError(problems);
}
