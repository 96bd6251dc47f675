import { BucketStore, S3RunStates } from "@orgmfa/aws";
import { runKeys as layoutRunKeys, stateKey } from "@orgmfa/contract";
import type { Settings } from "./runtime";

export type { AccountResult, RunContext, RunOwners, RunRef } from "@orgmfa/aws";
export { BucketStore as RunStore, ScanConfigError } from "@orgmfa/aws";
export { quarantineRecordKey } from "@orgmfa/contract";

/** The report bucket as the functions use it: its JSON objects, and the run state under the prefix. */
export function bucketOf(s: Settings, pool: { s3(): import("@aws-sdk/client-s3").S3Client }, bucket = s.REPORT_BUCKET) {
  const objects = new BucketStore(pool.s3(), bucket, s.KMS_KEY_ID);
  return { objects, states: new S3RunStates(objects, s.REPORT_PREFIX) };
}

/** The keys of one run's folder (the layout of packages/contract/src/layout.ts). */
export const runKeys = (prefix: string, scanId: string) => {
  const keys = layoutRunKeys(prefix, scanId);
  return { ...keys, consoleWithoutMfa: keys.withoutMfa };
};
/** The owner tags read so far, kept between runs. */
export const ownerTagCacheKey = (prefix: string) => stateKey(prefix, "ownerTags");
/** Every listed account's OU ids as the last Discover found them (Enforce's quarantine mode by OU). */
export const accountOusKey = (prefix: string) => stateKey(prefix, "accountOus");
/** The last run's pace: written by Publish, read by the next Discover for the Map's concurrency. */
export const paceKey = (prefix: string) => stateKey(prefix, "pace");
