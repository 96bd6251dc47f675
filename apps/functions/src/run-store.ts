import {
  CopyObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from "@aws-sdk/client-s3";
import { errorCode, errorMessage, type HubSyncResult } from "@orgmfa/aws";
import { type AccountOutcome, keyUnder, type OrgMfaConfig, parseConfigText } from "@orgmfa/core";
import pLimit from "p-limit";

/**
 * One scan's working state between the workflow's steps, under `<prefix>/runs/<scanId>/` in the
 * report bucket (a lifecycle rule expires it): the context Discover established, the in-scope
 * targets the Distributed Map reads, and one result object per account written by ScanBatch.
 */
export interface RunContext {
  scanId: string;
  startedAt: string;
  organizationId: string | null;
  partition: string;
  rootCredentialsManagement: boolean | null;
  config: OrgMfaConfig;
  /**
   * Where `config` came from: the deployed scan configuration object and the version of it that was
   * read, or null when the workflow's input gave the config (an explicit override).
   */
  configSource?: { bucket: string; key: string; versionId: string | null } | null;
  /**
   * Every account the organization lists, in scope or skipped (the ledger needs them all), is in the
   * run's `ledger.json`, read by Publish only: each of the thousand batches reads this context, which
   * therefore stays a few kilobytes at any organization size.
   */
  /**
   * The previous scan's report as it was when this run started (copied there by Discover), so that a
   * retried or redriven Publish compares with the same scan, not with the one it just wrote. Null:
   * there was none (the first run) or it could not be read (`previousWarning` says why).
   */
  previousKey?: string | null;
  previousWarning?: string | null;
}

/**
 * What the Owners step read (`owners.json` in the run's folder), for Publish: the owner of every
 * in-scope account that is known, from this run's reads or the earlier runs' (the owner-tag cache).
 */
export interface RunOwners {
  tag: string;
  owners: Record<string, string | null>;
  read: number;
  fromCache: number;
  unread: number;
  oldestRead: string | null;
}

/** One account's result object: its outcome, and what happened to its delivery in ScanBatch. */
export type AccountResult = AccountOutcome & {
  /** The account's own Security Hub, synced by the ScanBatch that scanned it (absent: not attempted). */
  delivery?: { securityHub: HubSyncResult };
  /** Seconds the account took in ScanBatch, its hub sync included: the pace the next run's Map concurrency follows. */
  seconds?: number;
};

/** What Discover returns, and what the Map's batches and Publish receive. */
export interface RunRef {
  bucket: string;
  scanId: string;
  contextKey: string;
  targetsKey: string;
  inScope: number;
  /** The account tag naming owners, or null: the Owners step then has nothing to read. */
  ownerTag?: string | null;
  /** Batches the Distributed Map runs at once (its MaxConcurrencyPath), derived by Discover (`mapConcurrency`). */
  mapConcurrency?: number;
}

/** The fields of a report that come from the run itself (Publish's report, ScanBatch's per-account ones). */
export function runReportFields(run: RunContext, toolVersion: string) {
  return {
    scanId: run.scanId,
    toolVersion,
    startedAt: new Date(run.startedAt),
    finishedAt: new Date(),
    organizationId: run.organizationId,
    partition: run.partition,
  };
}

const stateKey = (prefix: string, name: string) => keyUnder(prefix, `state/${name}`);
/** The owner tags read so far, kept between runs (the Owners step reads and rewrites it). */
export const ownerTagCacheKey = (prefix: string) => stateKey(prefix, "owner-tags.json");
/**
 * Every listed account's OU ids (root first), as the last Discover found them: Enforce takes an
 * account's quarantine mode by OU from it between runs.
 */
export const accountOusKey = (prefix: string) => stateKey(prefix, "account-ous.json");
/** The last run's pace (`ScanPace`): written by Publish, read by the next Discover for the Map's concurrency. */
export const paceKey = (prefix: string) => stateKey(prefix, "pace.json");

/** One change an IAM event led to, kept as evidence beside the reports: quarantine/<yyyy>/<mm>/<dd>/<time>-<account>-<user>.json. */
export const quarantineRecordKey = (prefix: string, at: string, accountId: string, userName: string) =>
  keyUnder(
    prefix,
    `quarantine/${at.slice(0, 4)}/${at.slice(5, 7)}/${at.slice(8, 10)}/${at.replace(/[:.]/g, "-")}-${accountId}-${encodeURIComponent(userName)}.json`,
  );

export const runKeys = (prefix: string, scanId: string) => {
  const base = keyUnder(prefix, `runs/${scanId}/`);
  return {
    base,
    context: `${base}context.json`,
    targets: `${base}targets.json`,
    previous: `${base}previous-report.json`,
    ledger: `${base}ledger.json`,
    owners: `${base}owners.json`,
    consoleWithoutMfa: `${base}console-without-mfa.json`,
    quarantine: `${base}quarantine.json`,
    results: `${base}results/`,
    result: (accountId: string) => `${base}results/${accountId}.json`,
  };
};

/** The deployed scan configuration cannot be used; the message names the object and what to do. */
export class ScanConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ScanConfigError";
  }
}

const SCAN_CONFIG_FIX =
  'It is written by the OrgMfaCentral stack from `scan` in the deployment configuration: fix `scan` there and deploy OrgMfaCentral again, or start the execution with the config as its input: {"config": {…}}.';

export class RunStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly kmsKeyId?: string,
  ) {}

  async put(key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: "application/json",
        ...(this.kmsKeyId ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: this.kmsKeyId } : {}),
      }),
    );
  }

  async get<T>(key: string): Promise<T> {
    const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return JSON.parse((await r.Body?.transformToString("utf8")) ?? "null") as T;
  }

  /**
   * The deployed scan configuration (JSON, validated by the config file's schema) and the version that
   * was read.
   * @throws ScanConfigError naming the object when it is missing, unreadable or invalid.
   */
  async scanConfig(key: string): Promise<{ config: OrgMfaConfig; versionId: string | null }> {
    const where = `s3://${this.bucket}/${key}`;
    let text: string;
    let versionId: string | null;
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = (await r.Body?.transformToString("utf8")) ?? "";
      versionId = r.VersionId ?? null;
    } catch (e) {
      const code = errorCode(e);
      const what =
        code === "NoSuchKey" || code === "NotFound"
          ? `the scan configuration ${where} does not exist`
          : `cannot read the scan configuration ${where} (${code}: ${errorMessage(e)}; the Discover role needs s3:GetObject on it and kms:Decrypt on the bucket's key)`;
      throw new ScanConfigError(`${what}. ${SCAN_CONFIG_FIX}`, { cause: e });
    }
    try {
      const source = `the scan configuration ${where}${versionId ? ` (version ${versionId})` : ""}`;
      return { config: parseConfigText(text, source), versionId };
    } catch (e) {
      throw new ScanConfigError(`${errorMessage(e)}\n${SCAN_CONFIG_FIX}`, { cause: e });
    }
  }

  /** The object, or null when there is none (found by listing: see {@link keys}). */
  async find<T>(key: string): Promise<T | null> {
    return (await this.keys(key)).includes(key) ? this.get<T>(key) : null;
  }

  /** Server-side copy within the bucket (no size limit that matters here, nothing through memory). */
  async copy(from: string, to: string): Promise<void> {
    await this.s3.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: to,
        CopySource: `${this.bucket}/${from.split("/").map(encodeURIComponent).join("/")}`,
        ...(this.kmsKeyId ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: this.kmsKeyId } : {}),
      }),
    );
  }

  /**
   * Copies `from` to `to` when `from` exists (found by listing, see {@link keys}). The key of the copy,
   * or null when there was nothing to copy; a warning when it could not be listed or copied.
   */
  async snapshot(from: string, to: string): Promise<{ key: string | null; warning: string | null }> {
    let exists: boolean;
    try {
      exists = (await this.keys(from)).includes(from);
    } catch (e) {
      return { key: null, warning: `cannot list s3://${this.bucket}/${from} (${errorCode(e)}: ${errorMessage(e)})` };
    }
    if (!exists) return { key: null, warning: null };
    try {
      await this.copy(from, to);
      return { key: to, warning: null };
    } catch (e) {
      return { key: null, warning: `cannot copy s3://${this.bucket}/${from} (${errorCode(e)}: ${errorMessage(e)})` };
    }
  }

  /**
   * The keys under a prefix, by listing. What exists is found by listing, never by reading keys that
   * may not exist: without s3:ListBucket on the very prefix, S3 answers a missing key with 403, not
   * 404, and the deployed role may list only the run-state prefix.
   */
  async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: this.bucket, Prefix: prefix }))
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    return keys;
  }

  /**
   * The result objects under `prefix` of the given accounts, found by listing and read 32 at a time,
   * each handed to `onResult` as it arrives (nothing is kept here). An account without an object (its
   * batch never finished) is simply not handed over, and the report then marks it FAILED.
   */
  async results(
    prefix: string,
    accountIds: readonly string[],
    onResult: (result: AccountResult) => void,
  ): Promise<number> {
    const wanted = new Set(accountIds);
    const existing = (await this.keys(prefix)).filter((k) => wanted.has(k.slice(prefix.length).replace(/\.json$/, "")));
    const limit = pLimit(32);
    await Promise.all(existing.map((key) => limit(async () => onResult(await this.get<AccountResult>(key)))));
    return existing.length;
  }
}
