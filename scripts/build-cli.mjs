#!/usr/bin/env node
// Bundles the CLI (apps/cli/src/main.ts with our workspace packages and its npm dependencies) into one
// ESM file, apps/cli/dist/orgmfa.mjs, which apps/cli/bin/orgmfa.js runs. Run by `npm run build`,
// `npm ci` / `npm install` (the root `prepare` script) and `npm test`.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outfile = path.join(root, "apps/cli/dist/orgmfa.mjs");

// Our sources find files beside them with `new URL("../python/x.py", import.meta.url)`. In the bundle
// import.meta.url is the bundle's URL, so in each of our files it becomes that source file's URL,
// relative to the bundle (which stays in the checkout, next to the files the sources read).
const sourceFileUrls = {
  name: "source-file-urls",
  setup(b) {
    b.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      if (args.path.split(path.sep).includes("node_modules")) return undefined;
      const contents = await readFile(args.path, "utf8");
      if (!contents.includes("import.meta.url")) return undefined;
      const rel = path.relative(path.dirname(outfile), args.path).split(path.sep).join("/");
      return {
        contents: contents.replaceAll("import.meta.url", `new URL(${JSON.stringify(rel)}, import.meta.url).href`),
        loader: "ts",
      };
    });
  },
};

await build({
  entryPoints: [path.join(root, "apps/cli/src/main.ts")],
  outdir: path.dirname(outfile),
  entryNames: "orgmfa",
  outExtension: { ".js": ".mjs" },
  // Commands are split into chunks loaded when they run; chunks sit beside the entry so the
  // import.meta.url rewriting above holds for them too.
  splitting: true,
  chunkNames: "[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Prefer packages' ESM builds (the AWS SDK's): smaller bundle, lazily loaded credential providers;
  // starts ~35% faster than their CommonJS builds.
  mainFields: ["module", "main"],
  // Not minified: stack traces (--debug) stay readable; minifying gained <10% start time.
  sourcemap: true,
  // CommonJS dependencies require() Node built-ins; an ESM bundle has no `require` of its own.
  banner: {
    js: "import { createRequire as __orgmfaCreateRequire } from 'node:module';\nconst require = __orgmfaCreateRequire(import.meta.url);",
  },
  plugins: [sourceFileUrls],
  logLevel: "warning",
});
