import { createReadStream } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { CopyObjectCommand, GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { latestKeyPrefix, scanKeyPrefix } from "@orgmfa/contract";
import { type PreviousScan, ReportSchemaError, readPreviousScan, type ScanReport } from "@orgmfa/core";
import { digested, type FileDigest, manifestJson, REPORT_FILE_NAMES, reportFileChunks } from "@orgmfa/render";
import { errorCode, errorMessage } from "./errors";

/**
 * One object written as it is produced (multipart above 8 MB, two parts in flight, parts removed when
 * it fails): how every scan file and history file goes to the bucket.
 */
export function uploadObject(
  s3: S3Client,
  params: ConstructorParameters<typeof Upload>[0]["params"],
): Promise<unknown> {
  return new Upload({ client: s3, queueSize: 2, partSize: 8 * 1024 * 1024, leavePartsOnError: false, params }).done();
}

export interface S3Target {
  bucket: string;
  /** Key prefix; `""` for the bucket root. */
  prefix: string;
  /** KMS key (id, ARN or alias) for SSE-KMS; without it the bucket's default encryption applies. */
  kmsKeyId?: string;
  /**
   * S3 Object Lock retention for the scan's own files (`scans/…`, the manifest included), never for the
   * `latest/` copies. The bucket must have Object Lock enabled, and the writer needs
   * s3:PutObjectRetention besides s3:PutObject. The SDK adds the checksum S3 requires of an upload with
   * a retention period (its default CRC32; "Uploading objects to an Object Lock enabled bucket", S3
   * user guide object-lock-managing.html).
   */
  retention?: { mode: "GOVERNANCE" | "COMPLIANCE"; until: Date };
  /**
   * Copy the files to `latest/` after storing them (default true). False for a report that must not
   * become "the previous scan" of the next run (a run whose discovery failed).
   */
  latest?: boolean;
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
 * Where the files to store come from: rendered from the report while they upload, or the files an
 * `--out-dir` already holds (so the bucket and the directory hold the same bytes).
 */
export type ScanFilesSource = { report: ScanReport } | { dir: string };

const contentType = (name: string) => CONTENT_TYPE[name.split(".").pop() ?? ""] ?? "application/octet-stream";

/**
 * Writes one scan's files under `<prefix>/scans/<yyyy>/<mm>/<dd>/<scanId>/` (the manifest last, so a
 * manifest always describes files that exist), then copies them, in the same order, to
 * `<prefix>/latest/`. Each file streams into the bucket (multipart above 8 MB) as it is rendered or
 * read, so a report of 10,000 accounts is never held whole. Objects carry SSE-KMS when a key is
 * configured. The SDK retries; an error that survives it propagates (the caller reports it, and the
 * local files are already written).
 */
export async function storeScan(
  s3: S3Client,
  target: S3Target,
  report: Pick<ScanReport, "scanId" | "startedAt">,
  source: ScanFilesSource,
  onObject?: (key: string, written: number, total: number) => void,
): Promise<StoredScan> {
  const sse = target.kmsKeyId ? { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: target.kmsKeyId } : {};
  const keys: string[] = [];
  const scanPrefix = scanKeyPrefix(target.prefix, report);
  const latestPrefix = latestKeyPrefix(target.prefix);
  const names = "dir" in source ? [...REPORT_FILE_NAMES, "manifest.json"] : null;
  const total = (REPORT_FILE_NAMES.length + 1) * (target.latest === false ? 1 : 2);
  const upload = async (name: string, body: Readable | string) => {
    const key = `${scanPrefix}${name}`;
    await uploadObject(s3, {
      Bucket: target.bucket,
      Key: key,
      Body: body,
      ContentType: contentType(name),
      Metadata: { "orgmfa-scan-id": report.scanId },
      ...sse,
      ...(target.retention
        ? { ObjectLockMode: target.retention.mode, ObjectLockRetainUntilDate: target.retention.until }
        : {}),
    });
    keys.push(key);
    onObject?.(key, keys.length, total);
  };
  if ("dir" in source) {
    for (const name of names ?? []) await upload(name, createReadStream(path.join(source.dir, name)));
  } else {
    const digests: FileDigest[] = [];
    for (const [name, chunks] of Object.entries(reportFileChunks(source.report)))
      await upload(name, Readable.from(digested(name, chunks(), (d) => digests.push(d))));
    await upload("manifest.json", manifestJson(report.scanId, digests));
  }
  // latest/ is a copy of what was just stored, manifest last (server-side: nothing is rendered twice).
  // The copy carries no lock: CopyObject applies the lock headers of its own request (none here) or the
  // bucket's default retention, not the source's ("CopyObject", S3 API reference: x-amz-object-lock-mode
  // is "the Object Lock mode that you want to apply to the object copy").
  for (const scanKey of target.latest === false ? [] : [...keys]) {
    const name = scanKey.slice(scanPrefix.length);
    const key = `${latestPrefix}${name}`;
    await s3.send(
      new CopyObjectCommand({
        Bucket: target.bucket,
        Key: key,
        CopySource: `${target.bucket}/${scanKey.split("/").map(encodeURIComponent).join("/")}`,
        ...sse,
      }),
    );
    keys.push(key);
    onObject?.(key, keys.length, total);
  }
  return {
    scanUri: `s3://${target.bucket}/${scanPrefix}`,
    latestUri: `s3://${target.bucket}/${latestPrefix}`,
    keys,
  };
}

/**
 * The previous scan (its id and findings) from `<prefix>/latest/report.json`, for "new since last
 * scan". Absent → null. Unreadable or not an orgmfa report → null with a warning (the scan still
 * runs; only its `changes` are lost, and the warning says why).
 */
export async function loadLatestScan(
  s3: S3Client,
  target: S3Target,
): Promise<{ previous: PreviousScan | null; warning: string | null }> {
  return loadPreviousAt(s3, target.bucket, `${latestKeyPrefix(target.prefix)}report.json`);
}

/**
 * The scan of the orgmfa report at one key, read as it streams in; absent → null, unreadable or
 * invalid → null with a warning.
 */
export async function loadPreviousAt(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ previous: PreviousScan | null; warning: string | null }> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = r.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (!body) return { previous: null, warning: `cannot read s3://${bucket}/${key} (the object has no body)` };
    try {
      return { previous: await readPreviousScan(body), warning: null };
    } finally {
      body.destroy?.();
    }
  } catch (e) {
    if (e instanceof ReportSchemaError)
      return {
        previous: null,
        warning: `ignoring s3://${bucket}/${key}: not a valid orgmfa report (${e.problems[0]})`,
      };
    if (errorCode(e) === "NoSuchKey") return { previous: null, warning: null };
    return { previous: null, warning: `cannot read s3://${bucket}/${key} (${errorCode(e)}: ${errorMessage(e)})` };
  }
}
