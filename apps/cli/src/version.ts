import { readFileSync } from "node:fs";

/**
 * The tool's version, from the root package.json (in the bundle, its copy in apps/cli/dist/files/: see
 * scripts/build-cli.mjs).
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
