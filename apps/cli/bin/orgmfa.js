#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step): `npm ci` is all `npx orgmfa` needs.
import { register } from "tsx/esm/api";

// The SDK warns on every run that its 2027 releases will need Node 22; that is for maintainers, not users.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type;
  if (type === "NodeVersionSupportWarning" || String(warning).includes("NodeVersionSupportWarning")) return;
  emitWarning(warning, ...rest);
};
register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv);
