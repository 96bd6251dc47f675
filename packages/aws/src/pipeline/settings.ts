import { DEFAULT_AUDIT_ROLE_NAME, DEFAULT_ENFORCER_ROLE_NAME, parseWith } from "@orgmfa/core";
import { z } from "zod";

/**
 * The contract between the CDK app and the Lambda functions: every environment variable a function
 * reads, written once. The CDK app builds each function's environment with {@link functionEnvironment}
 * from typed settings (a misspelt or missing variable is a compile error, a bad value fails synth),
 * and each handler reads it back with {@link readFunctionSettings} through the same schema. Zod only:
 * the CDK app imports this module (`@orgmfa/aws/settings`) without loading the AWS SDK.
 */

/** Powertools' service name and metrics namespace: the functions log and publish metrics under them, the alarms read them. */
export const POWERTOOLS = { serviceName: "orgmfa", metricsNamespace: "orgmfa" } as const;

/** A whole number: `"10"` in the environment, `10` in the settings. */
const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.codec(z.string().regex(/^\d+$/, "must be a whole number"), z.number().int().min(min).max(max), {
    decode: (text) => Number(text),
    encode: (n) => String(n),
  });
/** `"true"` or `"false"` in the environment, a boolean in the settings. */
const flag = () => z.stringbool({ truthy: ["true"], falsy: ["false"], case: "sensitive" });

/** Every variable a function reads, as the environment holds it (strings) and as the handlers use it (typed). */
export const functionSettingsSchema = z.object({
  /** Set by Lambda: the function's region. */
  AWS_REGION: z.string().min(1),
  REPORT_BUCKET: z.string().min(3),
  REPORT_PREFIX: z.string().default("orgmfa"),
  /** The member audit role assumed in every account. */
  AUDIT_ROLE_NAME: z.string().default(DEFAULT_AUDIT_ROLE_NAME),
  /** An external id for the audit roles (never deployed: tests only). */
  EXTERNAL_ID: z.string().optional(),
  /** The management account's audit role, for Organizations. */
  ORG_ROLE_ARN: z.string().optional(),
  KMS_KEY_ID: z.string().optional(),
  /** The deployed scan configuration's key in REPORT_BUCKET (Discover, Enforce; the CDK app writes it). */
  CONFIG_KEY: z.string().optional(),
  DIGEST_TOPIC_ARN: z.string().optional(),
  SECURITY_HUB: flag().default(true),
  SNS_PER_ACCOUNT: flag().default(false),
  ACCOUNT_CONCURRENCY: wholeNumber(1, 64).default(10),
  ACCOUNT_TIMEOUT_MS: wholeNumber(1000).default(300_000),
  /** Discover: the Map's batch size (ItemBatcher), its concurrency's ceiling, and its window (`mapConcurrency`). */
  BATCH_SIZE: wholeNumber(1, 100).default(10),
  MAP_MAX_CONCURRENCY: wholeNumber(1, 1000).default(20),
  MAP_WINDOW_SECONDS: wholeNumber(60).default(900),
  ORGMFA_VERSION: z.string().default("0.0.0"),
  /**
   * Publish: days each scan's files are locked (S3 Object Lock, GOVERNANCE); unset, none is set (a bucket
   * without Object Lock refuses lock headers).
   */
  EVIDENCE_RETENTION_DAYS: wholeNumber(1, 36500).optional(),
  /** ScanBatch's role: the identity that reads the accounts, named in the report as the scanner. */
  SCANNER_ROLE_ARN: z.string().optional(),
  /** The member enforcer role Enforce assumes (the member template's EnforcerRoleName). */
  ENFORCER_ROLE_NAME: z.string().default(DEFAULT_ENFORCER_ROLE_NAME),
});

/** The settings as a handler reads them. */
export type FunctionSettings = z.output<typeof functionSettingsSchema>;

/**
 * What the CDK app gives a function: every setting but those Lambda sets (`AWS_REGION`) or only tests
 * do (`EXTERNAL_ID`); those every function reads are required, one function's own are optional.
 */
const deployedSettingsSchema = functionSettingsSchema.omit({ AWS_REGION: true, EXTERNAL_ID: true }).partial().required({
  REPORT_BUCKET: true,
  REPORT_PREFIX: true,
  AUDIT_ROLE_NAME: true,
  ORG_ROLE_ARN: true,
  KMS_KEY_ID: true,
  DIGEST_TOPIC_ARN: true,
  SECURITY_HUB: true,
  SNS_PER_ACCOUNT: true,
  ACCOUNT_CONCURRENCY: true,
  ACCOUNT_TIMEOUT_MS: true,
  ORGMFA_VERSION: true,
  SCANNER_ROLE_ARN: true,
});
export type DeployedSettings = z.output<typeof deployedSettingsSchema>;

/** What every function's environment holds besides its settings: Powertools' names, and source maps in stack traces. */
const RUNTIME_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: POWERTOOLS.serviceName,
  POWERTOOLS_METRICS_NAMESPACE: POWERTOOLS.metricsNamespace,
  NODE_OPTIONS: "--enable-source-maps",
} as const;

/**
 * The Lambda environment of a function given `settings`: each encoded as {@link readFunctionSettings}
 * decodes it (`true` → `"true"`, `10` → `"10"`; CDK tokens pass as they are), plus Powertools' names.
 * @throws a zod error naming the setting whose value the functions would refuse.
 */
export function functionEnvironment(settings: DeployedSettings): Record<string, string> {
  const encoded = z.encode(deployedSettingsSchema, settings) as Record<string, string | undefined>;
  const defined = Object.entries(encoded).filter((e): e is [string, string] => e[1] !== undefined);
  return { ...Object.fromEntries(defined), ...RUNTIME_ENVIRONMENT };
}

/**
 * A function's settings from its environment, validated once, so a misconfigured function fails on its
 * first line with the variable named. An empty variable counts as unset.
 */
export function readFunctionSettings(env: NodeJS.ProcessEnv): FunctionSettings {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  return parseWith(functionSettingsSchema, set, "the function's environment");
}
