import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { latestKeyPrefix, parseReportJson, ReportSchemaError, type ScanReport, scanKeyPrefix } from "@orgmfa/core";
import { errorCode, errorMessage } from "./errors";

export interface S3Target {
  bucket: string;
  /** Key prefix; `""` for the bucket root. */
  prefix: string;
  /** KMS key (id, ARN or alias) for SSE-KMS; without it the bucket's default encryption applies. */
  kmsKeyId?: string;
}

const CONTENT_TYPE: Record<string, string> = {
  json: "application/json; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  html: "text/html; charset=utf-8",
};

export interface StoredScan {
  /** `s3://bucket/<prefix>/scans/yyyy/mm/dd/<scanId>/` */
  scanUri: string;
  /** `s3://bucket/<prefix>/latest/` */
  latestUri: string;
  keys: string[];
}

/**
 * Writes one scan's files under `<prefix>/scans/<yyyy>/<mm>/<dd>/<scanId>/` (the manifest last, so a
 * manifest always describes files that exist), then the same files under `<prefix>/latest/`.
 * Objects carry SSE-KMS when a key is configured. The SDK retries; an error that survives it
 * propagates (the caller reports it, and the local files are already written).
 */
export async function storeScan(
  s3: S3Client,
  target: S3Target,
  report: ScanReport,
  files: Record<string, string>,
  onObject?: (key: string, written: number, total: number) => void,
): Promise<StoredScan> {
  const sse = target.kmsKeyId ? { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: target.kmsKeyId } : {};
  const names = Object.keys(files).sort((a, b) => Number(a === "manifest.json") - Number(b === "manifest.json"));
  const keys: string[] = [];
  const scanPrefix = scanKeyPrefix(target.prefix, report);
  const latestPrefix = latestKeyPrefix(target.prefix);
  for (const base of [scanPrefix, latestPrefix]) {
    for (const name of names) {
      const key = `${base}${name}`;
      await s3.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          Body: files[name],
          ContentType: CONTENT_TYPE[name.split(".").pop() ?? ""] ?? "application/octet-stream",
          Metadata: { "orgmfa-scan-id": report.scanId },
          ...sse,
        }),
      );
      keys.push(key);
      onObject?.(key, keys.length, names.length * 2);
    }
  }
  return {
    scanUri: `s3://${target.bucket}/${scanPrefix}`,
    latestUri: `s3://${target.bucket}/${latestPrefix}`,
    keys,
  };
}

/**
 * The previous scan's report from `<prefix>/latest/report.json`, for "new since last scan".
 * Absent → null. Unreadable or not an orgmfa report → null with a warning (the scan still runs;
 * only its `changes` are lost, and the warning says why).
 */
export async function loadLatestReport(
  s3: S3Client,
  target: S3Target,
): Promise<{ report: ScanReport | null; warning: string | null }> {
  return loadReportAt(s3, target.bucket, `${latestKeyPrefix(target.prefix)}report.json`);
}

/** An orgmfa report at one key; absent → null, unreadable or invalid → null with a warning. */
export async function loadReportAt(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ report: ScanReport | null; warning: string | null }> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { report: parseReportJson((await r.Body?.transformToString("utf8")) ?? ""), warning: null };
  } catch (e) {
    if (e instanceof ReportSchemaError)
      return {
        report: null,
        warning: `ignoring s3://${bucket}/${key}: not a valid orgmfa report (${e.problems[0]})`,
      };
    if (errorCode(e) === "NoSuchKey") return { report: null, warning: null };
    return { report: null, warning: `cannot read s3://${bucket}/${key} (${errorCode(e)}: ${errorMessage(e)})` };
  }
}
