import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { ClientPool, tuneHeapForScan } from "@orgmfa/aws";
import { DEFAULT_AUDIT_ROLE_NAME, DEFAULT_ENFORCER_ROLE_NAME, parseWith } from "@orgmfa/core";
import { z } from "zod";

/**
 * What every handler reads from its environment (set by the CDK app). Validated once, so a
 * misconfigured function fails on its first line with the variable named.
 */
const settingsSchema = z.object({
  AWS_REGION: z.string().min(1),
  REPORT_BUCKET: z.string().min(3),
  REPORT_PREFIX: z.string().default("orgmfa"),
  AUDIT_ROLE_NAME: z.string().default(DEFAULT_AUDIT_ROLE_NAME),
  EXTERNAL_ID: z.string().optional(),
  ORG_ROLE_ARN: z.string().optional(),
  KMS_KEY_ID: z.string().optional(),
  /** The deployed scan configuration's key in REPORT_BUCKET (Discover; the CDK app writes it). */
  CONFIG_KEY: z.string().optional(),
  DIGEST_TOPIC_ARN: z.string().optional(),
  SECURITY_HUB: z.enum(["true", "false"]).default("true"),
  SNS_PER_ACCOUNT: z.enum(["true", "false"]).default("false"),
  ACCOUNT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(10),
  ACCOUNT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(300_000),
  /** Discover: the Map's batch size (ItemBatcher), its concurrency's ceiling, and its window (`mapConcurrency`). */
  BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  MAP_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(20),
  MAP_WINDOW_SECONDS: z.coerce.number().int().min(60).default(900),
  ORGMFA_VERSION: z.string().default("0.0.0"),
  /**
   * Publish: days each scan's files are locked (S3 Object Lock, GOVERNANCE); unset, none is set (a bucket
   * without Object Lock refuses lock headers).
   */
  EVIDENCE_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).optional(),
  /** ScanBatch's role: the identity that reads the accounts, named in the report as the scanner. */
  SCANNER_ROLE_ARN: z.string().optional(),
  /** The member enforcer role Enforce assumes (the member template's EnforcerRoleName). */
  ENFORCER_ROLE_NAME: z.string().default(DEFAULT_ENFORCER_ROLE_NAME),
});

export type Settings = z.infer<typeof settingsSchema>;

export function settings(env: NodeJS.ProcessEnv = process.env): Settings {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  return parseWith(settingsSchema, blank, "the function's environment");
}

export const logger = new Logger({ serviceName: "orgmfa" });
export const metrics = new Metrics({ namespace: "orgmfa", serviceName: "orgmfa" });

// Many accounts' short-lived allocations, little kept: collect before the heap grows far past it.
tuneHeapForScan();

/** The client pool for one invocation, as the function's own role (`roleName`: the role assumed in each account). */
export function poolFor(s: Settings, roleName = s.AUDIT_ROLE_NAME): ClientPool {
  return new ClientPool({
    region: s.AWS_REGION,
    roleName,
    externalId: s.EXTERNAL_ID,
    orgRoleArn: s.ORG_ROLE_ARN,
  });
}
