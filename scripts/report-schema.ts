// Writes packages/core/schema/report.schema.json, the published JSON Schema of report.json, from its one
// source: the zod model in packages/core/src/report-model.ts. Run it after changing the model:
//
//   npm run schema:report            (tsx scripts/report-schema.ts)
//
// packages/core/test/report-model.test.ts fails while the checked-in file differs from what the model
// emits, so a model change without its schema (or a hand edit of the schema) does not pass CI.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { reportJsonSchemaText } from "../packages/core/src/report-model";

const file = fileURLToPath(new URL("../packages/core/schema/report.schema.json", import.meta.url));
const text = reportJsonSchemaText();
let before: string | null = null;
try {
  before = readFileSync(file, "utf8");
} catch {
  // Not there yet: written below.
}
if (before === text) console.log(`${file}: up to date`);
else {
  writeFileSync(file, text);
  console.log(`${file}: written`);
}
