import type { S3Client } from "@aws-sdk/client-s3";
import { historyKey } from "@orgmfa/contract";
import { type Clock, type Policy, type ScanReport, systemClock } from "@orgmfa/core";
import { accountMessages, buildDigest, HISTORY_TABLES, historyFileStream } from "@orgmfa/render";
import type { ClientPool } from "./client-pool";
import { errorCode, errorMessage } from "./errors";
import { type S3Target, type StoredScan, storeScan, uploadObject } from "./s3-store";
import { hubProblems, type SecurityHubSyncResult, syncSecurityHub } from "./security-hub";
import { publishAccountMessages, publishDigest } from "./sns-notifier";

export interface PublishTargets {
  s3?: S3Target;
  /** `hubs`: only these accounts' hubs (the deployed workflow syncs member hubs in ScanBatch). */
  securityHub?: { region: string; scanningAccountId: string; hubs?: readonly string[] };
  sns?: { topicArn: string; perAccountMessages?: boolean };
}

export type DeliveryTarget = "s3" | "securityhub" | "sns";

export interface PublishResult {
  s3: StoredScan | null;
  /** The history files written (`<prefix>/history/<table>/dt=<day>/<scanId>.jsonl.gz`), with S3. */
  history: { keys: string[] } | null;
  securityHub: SecurityHubSyncResult | null;
  sns: { digestMessageId: string; accountMessages: number } | null;
  /** What did not land, by target; empty when everything did. */
  problems: Array<{ target: DeliveryTarget; message: string }>;
}

export interface PublishOptions {
  policy: Pick<Policy, "checks" | "exemptions">;
  clock?: Clock;
  /** Delivery problems found before this phase (per-account Security Hub in ScanBatch), for the digest. */
  earlierProblems?: Array<{ target: DeliveryTarget; message: string }>;
  /** Where the report is when it is not in S3 (the --out-dir), for the digest. */
  localReportLocation?: string | null;
  /** A directory the scan's files were already written to (--out-dir): S3 gets those very bytes. */
  filesDir?: string;
  onPhase?: (message: string) => void;
  /** Called as each target ends, and after each S3 object (so an interrupted run can say what landed). */
  onProgress?: (event: { target: DeliveryTarget; done: boolean; objects?: { written: number; total: number } }) => void;
}

/**
 * The publish phase: S3 first (so the digest can say where the report is), then Security Hub, then
 * SNS. Each target is independent: one failing (after the SDK's retries) is recorded in `problems`
 * and the others still run. Nothing here throws for a delivery failure.
 */
export async function publishReport(
  pool: ClientPool,
  report: ScanReport,
  targets: PublishTargets,
  o: PublishOptions,
): Promise<PublishResult> {
  const clock = o.clock ?? systemClock;
  const result: PublishResult = { s3: null, history: null, securityHub: null, sns: null, problems: [] };
  const failed = (target: DeliveryTarget, e: unknown) =>
    result.problems.push({ target, message: `${errorCode(e)}: ${errorMessage(e)}` });

  if (targets.s3) {
    o.onPhase?.(`writing the report to s3://${targets.s3.bucket}/${targets.s3.prefix}`);
    try {
      result.s3 = await storeScan(
        pool.s3(),
        targets.s3,
        report,
        o.filesDir ? { dir: o.filesDir } : { report },
        (_, written, total) => o.onProgress?.({ target: "s3", done: false, objects: { written, total } }),
      );
    } catch (e) {
      failed("s3", e);
    }
    // The history (docs/history.md): what Athena and DuckDB query across scans. Rendered from the
    // report, not copied from --out-dir (which holds one scan's auditor files only).
    try {
      result.history = await storeHistory(pool.s3(), targets.s3, report);
    } catch (e) {
      result.problems.push({ target: "s3", message: `history: ${errorCode(e)}: ${errorMessage(e)}` });
    }
    o.onProgress?.({ target: "s3", done: true });
  }

  if (targets.securityHub) {
    o.onPhase?.("importing findings into Security Hub");
    try {
      const sh = await syncSecurityHub(pool, { report, policy: o.policy, clock, ...targets.securityHub });
      result.securityHub = sh;
      for (const hub of sh.hubs) result.problems.push(...hubProblems(hub));
    } catch (e) {
      failed("securityhub", e);
    }
    o.onProgress?.({ target: "securityhub", done: true });
  }

  if (targets.sns) {
    o.onPhase?.("publishing the digest");
    const reportLocation = result.s3 ? `${result.s3.scanUri}report.html` : (o.localReportLocation ?? null);
    try {
      const digest = buildDigest(report, {
        now: clock.now(),
        exemptions: o.policy.exemptions,
        reportLocation,
        deliveryProblems: [...(o.earlierProblems ?? []), ...result.problems],
      });
      const digestMessageId = await publishDigest(pool.sns(), targets.sns.topicArn, digest);
      let sent = 0;
      if (targets.sns.perAccountMessages) {
        const r = await publishAccountMessages(
          pool.sns(),
          targets.sns.topicArn,
          accountMessages(report, { reportLocation }),
        );
        sent = r.published;
        for (const f of r.failed)
          result.problems.push({ target: "sns", message: `account message ${f.accountId}: ${f.code}: ${f.message}` });
      }
      result.sns = { digestMessageId, accountMessages: sent };
    } catch (e) {
      failed("sns", e);
    }
    o.onProgress?.({ target: "sns", done: true });
  }
  return result;
}

/**
 * Writes one scan's history: a gzip-compressed JSON Lines file per table (findings, users, accounts,
 * changes) at `<prefix>/history/<table>/dt=<yyyy-mm-dd>/<scanId>.jsonl.gz`, each streamed into the
 * bucket as it is rendered (multipart above 8 MB), SSE-KMS when a key is configured. Not locked: the
 * history is derived from the scan's locked report.json, and a scan written again (a retried Publish)
 * overwrites its own files. An error that survives the SDK's retries propagates.
 */
export async function storeHistory(s3: S3Client, target: S3Target, report: ScanReport): Promise<{ keys: string[] }> {
  const sse = target.kmsKeyId ? { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: target.kmsKeyId } : {};
  const keys: string[] = [];
  for (const table of HISTORY_TABLES) {
    const key = historyKey(target.prefix, table, report);
    await uploadObject(s3, {
      Bucket: target.bucket,
      Key: key,
      Body: historyFileStream(table, report),
      // The file is gzip (its name says so, for Athena and DuckDB): no Content-Encoding, which would
      // have HTTP clients decompress it on the way and readers then fail on plain text named .gz.
      ContentType: "application/gzip",
      Metadata: { "orgmfa-scan-id": report.scanId },
      ...sse,
    });
    keys.push(key);
  }
  return { keys };
}
