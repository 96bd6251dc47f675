import { JSONParser } from "@streamparser/json";
import { Ajv, type ValidateFunction } from "ajv";
import schema from "../schema/report.schema.json" with { type: "json" };
import { OrgMfaError } from "./errors";
import type { ScanReport } from "./report-model";

// The report's shape is written once, in zod (report-model.ts); schema/report.schema.json is emitted from
// it (`npm run schema:report`, checked by report-model.test.ts). Reports are validated at run time against
// that emitted file with ajv: on a report of 700 accounts × 40 users ajv takes ~13 ms where zod's
// safeParse takes ~65 ms, and the file costs nothing to load where emitting it from zod costs ~35 ms.

/** The published JSON Schema of report.json (emitted from the zod model in report-model.ts). */
export { schema as reportSchema };

let compiled: ValidateFunction | undefined;
/** Compiled on first use: compiling at load would cost every command ~0.2 s, even `--version`. */
const validator = (): ValidateFunction =>
  (compiled ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema));

export class ReportSchemaError extends OrgMfaError {
  readonly kind = "input";
  constructor(readonly problems: string[]) {
    super(`report does not match the orgmfa report schema:\n${problems.map((p) => `  ${p}`).join("\n")}`);
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

/** What "changes since the previous scan" needs of the previous report: its id and its findings. */
export interface PreviousScan {
  scanId: string;
  /** When the previous scan started (a gap in it was found no later); absent in hand-made ones. */
  startedAt?: string;
  findings: Array<Pick<ScanReport["findings"][number], "id" | "status" | "checkId" | "accountId" | "firstSeenAt">>;
}

let findingValidator: ValidateFunction | undefined;
const validFinding = (): ValidateFunction => {
  if (!findingValidator) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).addSchema(schema);
    findingValidator = ajv.getSchema(`${schema.$id}#/definitions/finding`);
    if (!findingValidator) throw new Error("the report schema has no finding definition");
  }
  return findingValidator;
};

/**
 * Reads a saved report.json as it streams in (S3, a file) and keeps only what the next scan's
 * changes need: its scan id and each finding's id, status, check and account, every finding checked
 * against the report schema. A report of 10,000 accounts is never held whole, as text or as objects.
 * @throws ReportSchemaError when the bytes are not JSON or not an orgmfa report, naming the problem.
 */
export async function readPreviousScan(source: AsyncIterable<Uint8Array | string>): Promise<PreviousScan> {
  const parser = new JSONParser({
    paths: ["$.schemaVersion", "$.tool", "$.scanId", "$.startedAt", "$.findings.*"],
    keepStack: false,
  });
  const head: { schemaVersion?: unknown; tool?: unknown; scanId?: unknown; startedAt?: unknown } = {};
  const findings: PreviousScan["findings"] = [];
  const problems: string[] = [];
  parser.onValue = ({ value, key, stack }) => {
    if (stack.length === 1) {
      head[key as keyof typeof head] = value;
      return;
    }
    const validate = validFinding();
    if (problems.length === 0 && !validate(value))
      problems.push(
        ...(validate.errors ?? []).map((e) => `/findings/${String(key)}${e.instancePath}: ${e.message ?? "invalid"}`),
      );
    const f = value as PreviousScan["findings"][number];
    findings.push({
      id: f.id,
      status: f.status,
      checkId: f.checkId,
      accountId: f.accountId,
      ...(f.firstSeenAt ? { firstSeenAt: f.firstSeenAt } : {}),
    });
  };
  try {
    for await (const chunk of source) parser.write(chunk);
    // The parser ends by itself after the one top-level value; only a truncated document is left open.
    if (!parser.isEnded) parser.end();
  } catch (e) {
    throw new ReportSchemaError([`(top level): not JSON (${(e as Error).message})`]);
  }
  if (head.schemaVersion !== "1") problems.unshift(`/schemaVersion: must be "1"`);
  if ((head.tool as { name?: unknown } | undefined)?.name !== "orgmfa")
    problems.unshift(`/tool/name: must be "orgmfa"`);
  if (typeof head.scanId !== "string" || !head.scanId) problems.unshift("/scanId: must be a non-empty string");
  if (problems.length) throw new ReportSchemaError(problems);
  return {
    scanId: head.scanId as string,
    ...(typeof head.startedAt === "string" ? { startedAt: head.startedAt } : {}),
    findings,
  };
}
