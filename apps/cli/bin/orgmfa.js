#!/usr/bin/env node
// Runs the bundle that scripts/build-cli.mjs builds (`npm run build`; `npm ci` and `npm test` run it).
import { existsSync } from "node:fs";

// The SDK warns on every run that its 2027 releases need Node 22: that is for maintainers, not users.
// Its documented switch; read when the first client is created, so set before the bundle loads.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
// Stack traces that --debug prints point into the TypeScript sources.
if (process.argv.includes("--debug")) process.setSourceMapsEnabled(true);

const bundle = new URL("../dist/orgmfa.mjs", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("orgmfa: the CLI is not built (apps/cli/dist/orgmfa.mjs is missing); run `npm run build`.\n");
  process.exit(2);
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv);
