import {
  CopyObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type RunFile, runKeys, type StateFile, stateKey } from "@orgmfa/contract";
import { type OrgMfaConfig, OrgMfaError, parseConfigText, withPackedUsers } from "@orgmfa/core";
import pLimit from "p-limit";
import { errorCode, errorMessage } from "../errors";
import type { AccountResult, KeptObjects, KeptStateStore, RunObjects, RunStateStore, RunStates } from "./run-state";

/** The deployed scan configuration cannot be used; the message names the object and what to do. */
export class ScanConfigError extends OrgMfaError {
  readonly kind = "input";
}

const SCAN_CONFIG_FIX =
  'It is written by the OrgMfaCentral stack from `scan` in the deployment configuration: fix `scan` there and deploy OrgMfaCentral again, or start the execution with the config as its input: {"config": {…}}.';

/**
 * JSON objects in the report bucket (SSE-KMS when a key is given): the deployed workflow's run state,
 * the state kept between runs, the deployed scan configuration.
 */
export class BucketStore {
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

/**
 * The deployed workflow's run state, in the report bucket under the layout of `layout.ts`: one run's
 * objects under `runs/<scanId>/`, what runs keep between them under `state/`.
 */
export class S3RunStates implements RunStates {
  constructor(
    readonly bucket: BucketStore,
    readonly prefix: string,
  ) {}

  run(scanId: string): RunStateStore {
    const keys = runKeys(this.prefix, scanId);
    const bucket = this.bucket;
    return {
      scanId,
      put: <F extends RunFile>(file: F, value: RunObjects[F]) => bucket.put(keys[file], value),
      get: <F extends RunFile>(file: F) => bucket.get<RunObjects[F]>(keys[file]),
      find: <F extends RunFile>(file: F) => bucket.find<RunObjects[F]>(keys[file]),
      putResult: (result) => bucket.put(keys.result(result.accountId), result),
      // Each result's users are kept deflated as it is read (as the memory store keeps them): the
      // aggregate phase holds every account's entry at once, 10,000 of them in Publish.
      results: (accountIds, onResult) =>
        bucket.results(keys.results, accountIds, (r) =>
          onResult({ ...r, entry: { account: withPackedUsers(r.entry.account), findings: r.entry.findings } }),
        ),
    };
  }

  get kept(): KeptStateStore {
    return {
      find: (file: StateFile) => this.bucket.find<unknown>(stateKey(this.prefix, file)),
      put: <S extends StateFile>(file: S, value: KeptObjects[S]) => this.bucket.put(stateKey(this.prefix, file), value),
    };
  }
}
