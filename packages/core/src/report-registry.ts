/**
 * The registry of the report's named parts, and the parts both schema modules use: facts.ts (what the
 * collector produces) and report-model.ts (the report) record their schemas here, and the JSON Schema
 * (`reportJsonSchema`) is emitted with it.
 */
import { z } from "zod";

export interface Meta {
  /** Emitted under `definitions` with this name, and referenced from where it is used. */
  id?: string;
  title?: string;
  description?: string;
  /** The `if`/`then` rules of `withRules` (report-model.ts). */
  allOf?: unknown[];
}

/**
 * The names and descriptions of the report's parts, for the JSON Schema. Our own registry, not zod's
 * global one (shared through globalThis by every zod user in the process): the schema's `definitions`
 * are exactly the parts named here.
 */
export const reportRegistry = z.registry<Meta>();

/** `schema`, recorded with `meta` for the JSON Schema. */
export function meta<T extends z.ZodType>(schema: T, m: Meta): T {
  reportRegistry.add(schema, m);
  return schema;
}

export const isoTime = meta(z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/), {
  id: "isoTime",
});
export const count = meta(z.int().min(0), { id: "count" });
