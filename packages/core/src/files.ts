import { createHash } from "node:crypto";
import { accountsCsv, findingsCsv, usersCsv } from "./csv";
import { renderHtml } from "./html";
import type { ScanReport } from "./types";

/** The auditor files of one scan (CONTRACT.md), by file name, without the manifest. */
export function reportFiles(report: ScanReport): Record<string, string> {
  return {
    "report.json": `${JSON.stringify(report, null, 2)}\n`,
    "findings.csv": findingsCsv(report),
    "accounts.csv": accountsCsv(report),
    "users.csv": usersCsv(report),
    "report.html": renderHtml(report),
  };
}

export interface Manifest {
  scanId: string;
  files: Array<{ name: string; bytes: number; sha256: string }>;
}

export function sha256Hex(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** `manifest.json`: each file's size in bytes and SHA-256 (hex), so auditors can prove nothing changed. */
export function buildManifest(scanId: string, files: Record<string, string>): Manifest {
  return {
    scanId,
    files: Object.entries(files)
      .map(([name, content]) => ({ name, bytes: Buffer.byteLength(content, "utf8"), sha256: sha256Hex(content) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** The report files plus `manifest.json`. */
export function scanFiles(report: ScanReport): Record<string, string> {
  const files = reportFiles(report);
  return { ...files, "manifest.json": `${JSON.stringify(buildManifest(report.scanId, files), null, 2)}\n` };
}

/** `scans/<yyyy>/<mm>/<dd>/<scanId>/` under a prefix (the UTC day the scan started). */
export function scanKeyPrefix(prefix: string, report: Pick<ScanReport, "scanId" | "startedAt">): string {
  const d = new Date(report.startedAt);
  const p = (n: number) => String(n).padStart(2, "0");
  const base = prefix.replace(/^\/+|\/+$/g, "");
  return `${base ? `${base}/` : ""}scans/${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${report.scanId}/`;
}

/** `<prefix>/latest/`. */
export function latestKeyPrefix(prefix: string): string {
  const base = prefix.replace(/^\/+|\/+$/g, "");
  return `${base ? `${base}/` : ""}latest/`;
}
