#!/usr/bin/env node
// Bundles the CLI (apps/cli/src/main.ts with our workspace packages and its npm dependencies) into
// apps/cli/dist/, which apps/cli/bin/orgmfa.js runs: the checkout and the packed tarball
// (`npm pack -w apps/cli`, whose `prepack` runs this) use the same self-contained directory. Run by
// `npm run build`, `npm ci` / `npm install` (the root `prepare` script) and `npm test`.
//
// apps/cli/dist/
//   orgmfa.mjs, <command>-<hash>.mjs, chunk-<hash>.mjs (+ .map)   the bundle, code-split per command
//   files/<repository path>                                      every file our sources read at run time
//                                                                (a directory they name: copied whole)
//
// Nothing is left from an earlier build: each build is written to a new directory that then replaces
// dist/ (a CLI already running from dist/ keeps finding its chunks: unchanged sources give the same
// chunk names).
import { copyFile, cp, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const cliDir = path.join(root, "apps/cli");
const dist = path.join(cliDir, "dist");
// Same depth as dist/, so the source maps' relative paths hold once it is renamed.
const staging = path.join(cliDir, `.dist-build-${process.pid}`);
const toPosix = (p) => p.split(path.sep).join("/");

/** Repository-relative paths of the files our sources read at run time, copied into dist/files/. */
const assets = new Set();

// Our sources find files beside them with `new URL("../../../stacksets/x.yaml", import.meta.url)`, and
// whole directories with `new URL("../python/", import.meta.url)` (the emulator's Python entry and its
// package of moto patches, which Python finds beside the entry). In each of our source files
// import.meta.url becomes the URL that file would have under dist/files/ (relative to the bundle's own
// URL), and every file or directory it points at is copied there, at the same repository path: the
// lookup works wherever dist/ is — in the checkout or in an installed tarball. Any other use of
// import.meta.url in our sources fails the build, so no run-time file can be missed.
const sourceFileUrls = {
  name: "source-file-urls",
  setup(b) {
    b.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      if (args.path.split(path.sep).includes("node_modules")) return undefined;
      const contents = await readFile(args.path, "utf8");
      if (!contents.includes("import.meta.url")) return undefined;
      const source = toPosix(path.relative(root, args.path));
      const uses = contents.match(/import\.meta\.url/g).length;
      const lookups = [...contents.matchAll(/new URL\(\s*"([^"]+)",\s*import\.meta\.url\s*\)/g)];
      if (lookups.length !== uses) {
        return {
          errors: [
            {
              text: `${source}: import.meta.url is only supported as new URL("<relative path>", import.meta.url) (found ${uses} uses, ${lookups.length} of that form)`,
            },
          ],
        };
      }
      for (const [, rel] of lookups) {
        const asset = toPosix(path.relative(root, path.resolve(path.dirname(args.path), rel)));
        if (asset.startsWith("../")) return { errors: [{ text: `${source}: ${rel} is outside the repository` }] };
        assets.add(asset);
      }
      return {
        contents: contents.replaceAll(
          "import.meta.url",
          `new URL(${JSON.stringify(`files/${source}`)}, import.meta.url).href`,
        ),
        loader: "ts",
      };
    });
  },
};

/**
 * Copies an asset into dist/files/: a directory whole (without Python's bytecode caches, which Python
 * writes beside the sources it imports); a package.json (read for the version) keeps only name and version.
 */
async function copyAsset(asset) {
  const from = path.join(root, asset);
  const to = path.join(staging, "files", asset);
  await mkdir(path.dirname(to), { recursive: true });
  if ((await stat(from)).isDirectory()) {
    const cache = (src) => path.basename(src) === "__pycache__" || src.endsWith(".pyc");
    await cp(from, to, { recursive: true, filter: (src) => !cache(src) });
    return;
  }
  if (path.basename(asset) === "package.json") {
    const { name, version } = JSON.parse(await readFile(from, "utf8"));
    await writeFile(to, `${JSON.stringify({ name, version }, null, 2)}\n`);
  } else {
    await copyFile(from, to);
  }
}

await rm(staging, { recursive: true, force: true });
try {
  await build({
    entryPoints: [path.join(cliDir, "src/main.ts")],
    outdir: staging,
    entryNames: "orgmfa",
    outExtension: { ".js": ".mjs" },
    // Commands are split into chunks loaded when they run.
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
  for (const asset of [...assets].sort()) await copyAsset(asset);
  const old = path.join(cliDir, `.dist-old-${process.pid}`);
  await rename(dist, old).catch((e) => {
    if (e.code !== "ENOENT") throw e;
  });
  await rename(staging, dist);
  await rm(old, { recursive: true, force: true });
} finally {
  await rm(staging, { recursive: true, force: true });
}
