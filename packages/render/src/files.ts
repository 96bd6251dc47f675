import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ScanReport } from "@orgmfa/core";
import { accountsCsvChunks, findingsCsvChunks, usersCsvChunks } from "./csv";
import { htmlChunks } from "./html";

/** The ledger and the findings: the report's long arrays, written an element at a time. */
const LONG_ARRAYS = new Set(["accounts", "findings"]);

/** `JSON.stringify(value, null, 2)` for a value nested `depth` levels deep in the document. */
const nested = (value: unknown, depth: number) =>
  (JSON.stringify(value, null, 2) ?? "null").replace(/\n/g, `\n${"  ".repeat(depth)}`);

/**
 * `report.json` in pieces: exactly the bytes of `JSON.stringify(report, null, 2)` and a newline, but
 * the accounts and findings one element at a time, so a report of 10,000 accounts is never one
 * string (and each account's packed users are inflated only while it is written).
 */
export function* reportJsonChunks(report: ScanReport): Generator<string> {
  const fields = Object.entries(report).filter(([, v]) => v !== undefined && typeof v !== "function");
  yield "{";
  let first = true;
  for (const [key, value] of fields) {
    yield `${first ? "" : ","}\n  ${JSON.stringify(key)}: `;
    first = false;
    if (LONG_ARRAYS.has(key) && Array.isArray(value) && value.length) {
      yield "[";
      for (let i = 0; i < value.length; i++) yield `${i ? "," : ""}\n    ${nested(value[i], 2)}`;
      yield "\n  ]";
    } else yield nested(value, 1);
  }
  yield fields.length ? "\n}\n" : "}\n";
}

/** The auditor files of one scan besides `manifest.json`, in the order they are written. */
export const REPORT_FILE_NAMES = ["report.json", "findings.csv", "accounts.csv", "users.csv", "report.html"] as const;

/** The auditor files of one scan (docs/delivery.md), by file name, without the manifest: each as pieces. */
export function reportFileChunks(report: ScanReport): Record<string, () => Iterable<string>> {
  return {
    "report.json": () => reportJsonChunks(report),
    "findings.csv": () => findingsCsvChunks(report),
    "accounts.csv": () => accountsCsvChunks(report),
    "users.csv": () => usersCsvChunks(report),
    "report.html": () => htmlChunks(report),
  };
}

/** The auditor files of one scan (docs/delivery.md), by file name, without the manifest. */
export function reportFiles(report: ScanReport): Record<string, string> {
  return Object.fromEntries(
    Object.entries(reportFileChunks(report)).map(([name, chunks]) => [name, [...chunks()].join("")]),
  );
}

export interface FileDigest {
  name: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  scanId: string;
  files: FileDigest[];
}

export function sha256Hex(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/**
 * A file's pieces as UTF-8 buffers of about `size` bytes (small pieces joined, so a writer sees
 * few large writes), its size and SHA-256 taken as they pass; `done` gets them after the last one.
 */
export function* digested(
  name: string,
  chunks: Iterable<string>,
  done: (digest: FileDigest) => void,
  size = 1 << 20,
): Generator<Buffer> {
  const hash = createHash("sha256");
  let bytes = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = () => {
    const buffer = Buffer.from(pending.join(""), "utf8");
    pending = [];
    pendingLength = 0;
    hash.update(buffer);
    bytes += buffer.length;
    return buffer;
  };
  for (const chunk of chunks) {
    pending.push(chunk);
    pendingLength += chunk.length;
    if (pendingLength >= size) yield flush();
  }
  if (pendingLength || bytes === 0) yield flush();
  done({ name, bytes, sha256: hash.digest("hex") });
}

/** `manifest.json`'s content from each file's digest (sorted by name). */
export function manifestJson(scanId: string, digests: readonly FileDigest[]): string {
  const manifest: Manifest = {
    scanId,
    files: [...digests]
      .map((d) => ({ name: d.name, bytes: d.bytes, sha256: d.sha256 }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** `manifest.json`: each file's size in bytes and SHA-256 (hex), so auditors can prove nothing changed. */
export function buildManifest(scanId: string, files: Record<string, string>): Manifest {
  return JSON.parse(
    manifestJson(
      scanId,
      Object.entries(files).map(([name, content]) => ({
        name,
        bytes: Buffer.byteLength(content, "utf8"),
        sha256: sha256Hex(content),
      })),
    ),
  ) as Manifest;
}

/** The report files plus `manifest.json`. */
export function scanFiles(report: ScanReport): Record<string, string> {
  const files = reportFiles(report);
  return { ...files, "manifest.json": `${JSON.stringify(buildManifest(report.scanId, files), null, 2)}\n` };
}

/**
 * Writes one scan's files into `dir` as they are rendered (never a whole file in memory), then
 * `manifest.json` with each file's size and SHA-256 as written. Returns the files' digests.
 */
export async function writeScanDir(dir: string, report: ScanReport): Promise<FileDigest[]> {
  const digests: FileDigest[] = [];
  for (const [name, chunks] of Object.entries(reportFileChunks(report)))
    await pipeline(
      Readable.from(digested(name, chunks(), (d) => digests.push(d))),
      createWriteStream(path.join(dir, name)),
    );
  await pipeline(
    Readable.from([manifestJson(report.scanId, digests)]),
    createWriteStream(path.join(dir, "manifest.json")),
  );
  return digests;
}
