import { closeSync, constants, mkdirSync, openSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { UsageError } from "./errors";
import { FORMATS, type Format } from "./options";

/** What a file's extension says its content is: the formats it may hold, the first inferred. */
const BY_EXTENSION: Record<string, readonly Format[]> = {
  ".json": ["json", "asff"],
  ".csv": ["csv"],
  ".html": ["html"],
  ".htm": ["html"],
  ".ocsf": ["ocsf"],
  ".jsonl": ["ocsf"],
  ".ndjson": ["ocsf"],
  ".txt": ["table"],
};

/**
 * The format to write: `--format` when given, else the one `--output`'s extension names, else
 * `fallback`. Refuses a `--output` that is a format name (`--output json`, the aws-cli habit), a
 * format that contradicts the file's extension (a table in `report.json`), and an extension that is
 * no format at all (a table in `report.pdf`).
 */
export function resolveFormat(format: Format | undefined, output: string | undefined, fallback: Format): Format {
  if (output === undefined || output === "-") return format ?? fallback;
  if ((FORMATS as readonly string[]).includes(output.toLowerCase()))
    throw new UsageError(
      `--output: "${output}" is a format name, not a file. Use --format ${output.toLowerCase()} (and --output FILE to write it to a file; --output ./${output} if you really mean a file of that name).`,
    );
  const ext = path.extname(output).toLowerCase();
  const allowed = BY_EXTENSION[ext];
  if (!allowed && ext)
    throw new UsageError(
      `--output: ${output} names a ${ext} file, and orgmfa writes no such format. Name the file for the format you want (${Object.keys(BY_EXTENSION).join(", ")}), or leave the extension off and choose with --format ${FORMATS.join("|")}.`,
    );
  if (!allowed) return format ?? fallback;
  if (format === undefined) return allowed[0] as Format;
  if (!allowed.includes(format))
    throw new UsageError(
      `--output: ${output} names a ${path.extname(output)} file but --format is ${format}. Use --format ${allowed.join(" or --format ")}, or a file name that matches ${format}.`,
    );
  return format;
}

const why = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * Proves that `--output FILE` can be written, before the scan starts (a bad path found after a
 * 2,000-account scan would cost the scan). An existing file is opened without truncating it; a new
 * one is created and removed again.
 */
export function checkOutputFile(file: string, flag = "--output"): void {
  let existing: ReturnType<typeof statSync> | undefined;
  try {
    existing = statSync(file);
  } catch {
    existing = undefined;
  }
  if (existing?.isDirectory())
    throw new UsageError(`${flag}: ${file} is a directory. Name a file (or use --out-dir for a directory).`);
  try {
    if (existing) closeSync(openSync(file, constants.O_WRONLY));
    else {
      closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL));
      rmSync(file, { force: true });
    }
  } catch (e) {
    const dir = path.dirname(path.resolve(file));
    const hint =
      why(e) === "ENOENT" ? ` (does the directory ${dir} exist?)` : why(e) === "EACCES" ? " (permission denied)" : "";
    throw new UsageError(`${flag}: cannot write ${file}: ${why(e)}${hint}. Name a file in a writable directory.`);
  }
}

/**
 * Makes `--out-dir DIR` (one level at a time from the nearest existing ancestor, so a path the
 * kernel will never create fails at once) and proves a file can be written in it.
 */
export function prepareOutDir(dir: string, flag = "--out-dir"): void {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let at = abs;
  for (;;) {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(at);
    } catch {
      st = undefined;
    }
    if (st) {
      if (!st.isDirectory())
        throw new UsageError(`${flag}: ${at} is a file, not a directory. Name a directory (it is created if missing).`);
      break;
    }
    missing.unshift(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  try {
    for (const d of missing) mkdirSync(d);
    const probe = path.join(abs, `.orgmfa-write-test-${process.pid}`);
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL));
    rmSync(probe, { force: true });
  } catch (e) {
    throw new UsageError(`${flag}: cannot write to ${dir}: ${why(e)}. Name a writable directory.`);
  }
}
