import { Ajv } from "ajv";
import schema from "../schema/report.schema.json" with { type: "json" };
import type { ScanReport } from "./types";

export { schema as reportSchema };

const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

export class ReportSchemaError extends Error {
  constructor(readonly problems: string[]) {
    super(`report does not match the orgmfa report schema:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ReportSchemaError";
  }
}

/** Problems that make `doc` not a valid report (empty when valid). */
export function reportProblems(doc: unknown): string[] {
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "(top level)"}: ${e.message ?? "invalid"}`);
}

/** @throws ReportSchemaError naming every problem. */
export function assertValidReport(doc: unknown): asserts doc is ScanReport {
  const problems = reportProblems(doc);
  if (problems.length > 0) throw new ReportSchemaError(problems);
}
