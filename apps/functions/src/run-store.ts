import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { AccountOutcome, AccountTarget, OrgMfaConfig } from "@orgmfa/core";
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
  /** Every account the organization lists, in scope or skipped (the ledger needs them all). */
  targets: AccountTarget[];
}

/** What Discover returns, and what the Map's batches and Publish receive. */
export interface RunRef {
  bucket: string;
  scanId: string;
  contextKey: string;
  targetsKey: string;
  inScope: number;
}

export const runKeys = (prefix: string, scanId: string) => {
  const base = `${prefix.replace(/^\/+|\/+$/g, "")}${prefix ? "/" : ""}runs/${scanId}/`;
  return {
    base,
    context: `${base}context.json`,
    targets: `${base}targets.json`,
    results: `${base}results/`,
    result: (accountId: string) => `${base}results/${accountId}.json`,
  };
};

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
   * The result objects of the given accounts (read 32 at a time). An account whose object does not
   * exist (its batch never finished) is simply absent, and the report then marks it FAILED.
   */
  async results(
    keyOf: (accountId: string) => string,
    accountIds: readonly string[],
  ): Promise<Map<string, AccountOutcome>> {
    const limit = pLimit(32);
    const found = await Promise.all(
      accountIds.map((id) =>
        limit(async () => {
          try {
            return await this.get<AccountOutcome>(keyOf(id));
          } catch (e) {
            if ((e as { name?: string }).name === "NoSuchKey") return null;
            throw e;
          }
        }),
      ),
    );
    return new Map(found.filter((o): o is AccountOutcome => o !== null).map((o) => [o.accountId, o]));
  }
}
