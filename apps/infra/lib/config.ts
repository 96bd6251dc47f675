import { readFileSync } from "node:fs";
import path from "node:path";
import { guardrailScp, SCP_MAX_SIZE, scpSize } from "@orgmfa/contract";
import {
  ACCOUNT_ID_PATTERN,
  ConfigError,
  configSchema,
  DEFAULT_AUDIT_ROLE_NAME,
  DEFAULT_CENTRAL_ENFORCER_ROLE_NAME,
  DEFAULT_DISCOVER_ROLE_NAME,
  DEFAULT_SCANNER_ROLE_NAME,
  OU_OR_ROOT_ID_PATTERN,
  parseJsonWith,
  parseWith,
  ROLE_NAME_PATTERN,
} from "@orgmfa/core";
import { RegionInfo } from "aws-cdk-lib/region-info";
import { z } from "zod";

/** OUs one StackSet deployment target may name (CreateStackInstances, CloudFormation API reference). */
export const STACKSET_MAX_TARGET_OUS = 50;

/** One account's time limit in ScanBatch, and ScanBatch's own (Lambda's maximum). */
export const ACCOUNT_LIMIT_MINUTES = 5;
export const LAMBDA_LIMIT_MINUTES = 15;
/**
 * Discover's time limit. The workflow simulation (bench/results/pipeline.md) measured Discover's walk of
 * 10,000 accounts — 500 pages of ListAccountsForParent under a modelled Organizations rate — at 57.8 s;
 * 10 minutes is ~10× that. Organizations does not publish its per-account request rate, and the SDK's
 * adaptive retry slows the walk when throttled, so the headroom is wide (≥ 2× is the floor): a walk
 * ten times slower than the simulation's still ends. Beyond it, the workflow's Catch on Discover reports
 * the run as failed (a report and digest that say so, and an alarm) rather than ending silently. A longer
 * limit costs nothing on a run that ends sooner; it only delays the failure report of a hung walk.
 */
export const DISCOVER_LIMIT_MINUTES = 10;

// The shapes of AWS's identifiers, from the one names module (packages/core/src/names.ts).
const accountId = z.string().regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id");
const ouOrRoot = z.string().regex(OU_OR_ROOT_ID_PATTERN, "must be an OU id (ou-…) or the root id (r-…)");
const roleName = z.string().regex(ROLE_NAME_PATTERN, "must be an IAM role name");

/**
 * An `aws:PrincipalArn` pattern of IAM users (ArnNotLike: `*` and `?` match), e.g.
 * `arn:aws:iam::*:user/break-glass-*`. Roles and root users are never denied by the guardrail, so a
 * pattern of them would exempt nobody; a pattern of every user would leave the policy denying nothing.
 */
const userArnPattern = z
  .string()
  .regex(
    /^arn:(\*|aws(-[a-z]+)*):iam::(\*|[0-9*?]{1,12}):user\/[\w+=,.@\-/*?]+$/,
    "must be an IAM user ARN pattern such as arn:aws:iam::*:user/break-glass-* (roles and root users are never denied by the SCP: they need no exemption)",
  )
  .refine((p) => !/:user\/[*/?]*$/.test(p), {
    message: "matches every IAM user: the SCP would deny nobody; name the users (a name prefix, a path)",
  });

/** A calendar date (`2026-12-31`, through that UTC day) or an RFC 3339 date-time with Z or an offset. */
const expiryDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: "must be an ISO-8601 date such as 2026-12-31 (through that UTC day) or a date-time with Z or an offset",
});

/**
 * The MFA guardrail (docs/scp-guardrail.md): one service control policy in the management account's
 * stack, denying IAM users signed in without MFA everything but enrolling MFA on their own user.
 */
const scpSchema = z.strictObject({
  /** Deploy the policy and attach it to `targetIds`; false keeps the section without deploying anything. */
  enabled: z.boolean(),
  /** The OUs (or the root) the policy is attached to; their accounts' IAM users are then held to it. */
  targetIds: z
    .array(ouOrRoot)
    .min(1, "must list at least one OU (ou-…) or the root id (r-…)")
    .refine((ids) => new Set(ids).size === ids.length, { message: "must not list an OU twice" }),
  /** IAM users never denied (break-glass users), by ARN pattern. */
  breakGlassPrincipalArns: z.array(userArnPattern).default([]),
  /** IAM users not denied until a date: left out of the policy from the day after `expires`. */
  exemptions: z
    .array(
      z.strictObject({
        principalArnPattern: userArnPattern,
        reason: z.string().trim().min(1, "is required: say why this user may work without MFA"),
        expires: expiryDate,
      }),
    )
    .default([]),
});

/** The partition a region is in (CDK's region facts; a region they do not know yet is taken as commercial). */
export const partitionOf = (region: string): string => RegionInfo.get(region).partition ?? "aws";

/** The deployment configuration: one typed, validated source for both stacks. */
export const deploymentSchema = z
  .strictObject({
    /** The organization (o-…); the member role only trusts callers from it. */
    organizationId: z.string().regex(/^o-[a-z0-9]{10,32}$/, "must be an organization id such as o-abcd123456"),
    managementAccountId: accountId,
    /** The delegated-administrator (security tooling) account CentralStack is deployed to. */
    scannerAccountId: accountId,
    /** The one region everything is deployed to (and Security Hub findings go to). */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1"),
    /**
     * OUs (or the root) the member StackSet deploys the audit role to. At most 50: "The maximum number
     * of organizational unit (OUs) supported by a CreateStackInstances operation is 50" (CloudFormation
     * API reference, CreateStackInstances); more would fail at deploy time, so synth refuses them.
     */
    stackSetTargetOus: z
      .array(ouOrRoot)
      .min(1, "must list at least one OU or the root id")
      .max(
        STACKSET_MAX_TARGET_OUS,
        `must list at most ${STACKSET_MAX_TARGET_OUS} OUs (CloudFormation's limit per CreateStackInstances operation): target a parent OU, or the root, that holds them`,
      ),
    /** SELF from the management account, DELEGATED_ADMIN from a StackSets delegated administrator. */
    callAs: z.enum(["SELF", "DELEGATED_ADMIN"]).default("DELEGATED_ADMIN"),
    /** EventBridge Scheduler expression. */
    schedule: z
      .string()
      .regex(/^(cron|rate)\(.+\)$/, "must be an EventBridge Scheduler expression such as cron(0 6 * * ? *)")
      .default("cron(0 6 * * ? *)"),
    scheduleTimezone: z.string().min(1).default("UTC"),
    /** Accounts per ScanBatch invocation (Distributed Map ItemBatcher). */
    batchSize: z.number().int().min(1).max(100).default(10),
    /**
     * The most batches running at once (the Lambda concurrency the scan may take). Each run uses the
     * fewest that end the Map within `mapWindowMinutes` at the last run's pace (`mapConcurrency` in
     * packages/core); the first run, with no pace measured, uses this ceiling.
     */
    maxConcurrency: z.number().int().min(1).max(1000).default(20),
    /** How long the Distributed Map should take: with the last run's pace, it sets the Map's concurrency. */
    mapWindowMinutes: z.number().int().min(1).max(360).default(15),
    /** Accounts scanned at once inside one batch. */
    accountConcurrency: z.number().int().min(1).max(64).default(10),
    /** Batches that may fail before the whole run fails (a failed batch's accounts are reported FAILED). */
    toleratedFailurePercentage: z.number().min(0).max(100).default(10),
    reportPrefix: z
      .string()
      .regex(/^[\w!\-.*'()/]*$/, "must be an S3 key prefix of letters, digits and !-_.*'()/")
      .default("orgmfa"),
    /**
     * Days each scan's auditor files (`scans/…`, the manifest included) stay locked: Publish writes them
     * with S3 Object Lock retention in GOVERNANCE mode until this many days after the scan. Object Lock is
     * always on for the report bucket; this retention is set per object (not as the bucket's default,
     * which would lock the run state, `latest/` and the configuration too).
     */
    evidenceRetentionDays: z.number().int().min(1).max(36500).default(365),
    /**
     * Object Lock default retention for the whole bucket, on top of `evidenceRetentionDays`: every new
     * object version (run state, `latest/`, the configuration too) is then locked; omit to leave it off.
     */
    objectLock: z
      .strictObject({ mode: z.enum(["GOVERNANCE", "COMPLIANCE"]), days: z.number().int().min(1).max(36500) })
      .optional(),
    /** Days before report objects move to cheaper storage, and before old versions expire. */
    transitionToInfrequentAccessDays: z.number().int().min(30).default(90),
    /** An e-mail address subscribed to the digest topic (it must confirm the subscription). */
    digestEmail: z.email("must be an e-mail address").optional(),
    securityHub: z.boolean().default(true),
    snsPerAccountMessages: z.boolean().default(false),
    auditRoleName: roleName.default(DEFAULT_AUDIT_ROLE_NAME),
    /** The ScanBatch function's role: the one the member audit roles trust (by this name). */
    scannerRoleName: roleName.default(DEFAULT_SCANNER_ROLE_NAME),
    /** The Discover function's role: trusted by the management account's audit role only. */
    discoverRoleName: roleName.default(DEFAULT_DISCOVER_ROLE_NAME),
    /**
     * The role people assume in this (the scanning) account to run `orgmfa doctor` and `orgmfa scan`:
     * an IAM role, or an IAM Identity Center permission set's role named by its role name
     * (AWSReservedSSO_<permission set>_<suffix>). The member audit roles trust it (OperatorRoleName; the
     * management account's also for discovery), and OrgMfaCentral deploys the managed policy
     * `OrgMfaOperatorPolicy` to attach to it. Omitted: no person can assume the audit roles.
     */
    operatorRoleName: roleName.optional(),
    /**
     * Deploy the quarantine: the member side (EnableQuarantine) and, here, the central event bus and
     * the Enforce function. Who is quarantined, where (mode by OU), is `scan.quarantine`.
     */
    quarantine: z.boolean().default(false),
    /**
     * Concurrency reserved for Enforce (with `quarantine`): the other functions (the scan's Map) cannot
     * take it from Enforce, and Enforce cannot take more. A burst of IAM events beyond it is throttled,
     * which EventBridge retries (the rule's retry policy) before the dead-letter queue. Reserving takes
     * it from the account's unreserved pool, which Lambda keeps at 100 at least.
     */
    enforceReservedConcurrency: z.number().int().min(1).max(100).default(5),
    /** The Enforce function's role: the one the member enforcer roles trust (CentralEnforcerRoleName). */
    enforcerRoleName: roleName.default(DEFAULT_CENTRAL_ENFORCER_ROLE_NAME),
    /** A role people run `orgmfa enforce` as, also trusted by the member enforcer roles (optional). */
    enforcerOperatorRoleName: roleName.optional(),
    /** The scan configuration (checks, severities, exemptions, owner tag, filters) of `--config`. */
    scan: configSchema.default({}),
    /** The MFA guardrail SCP (off unless present with `enabled: true`). */
    scp: scpSchema.optional(),
  })
  .refine(
    (c) => c.operatorRoleName === undefined || ![c.scannerRoleName, c.discoverRoleName].includes(c.operatorRoleName),
    {
      path: ["operatorRoleName"],
      message:
        "must differ from scannerRoleName and discoverRoleName (those are the deployed functions' roles; a person's role is another)",
    },
  )
  .refine((c) => c.discoverRoleName !== c.scannerRoleName, {
    path: ["discoverRoleName"],
    message: "must differ from scannerRoleName (Discover and ScanBatch have roles of their own)",
  })
  // Derived from the per-account time limit: a batch runs in waves of accountConcurrency accounts,
  // each wave up to ACCOUNT_LIMIT_MINUTES when its slowest account runs into the limit. Even then the
  // batch must end within half of ScanBatch's timeout (headroom for its writes and Lambda's start).
  .refine((c) => Math.ceil(c.batchSize / c.accountConcurrency) * ACCOUNT_LIMIT_MINUTES <= LAMBDA_LIMIT_MINUTES / 2, {
    path: ["batchSize"],
    message: `is too large for accountConcurrency: a batch runs in waves of accountConcurrency accounts, each wave up to ${ACCOUNT_LIMIT_MINUTES} minutes (one account's limit), and must end within half of ScanBatch's ${LAMBDA_LIMIT_MINUTES} minutes; keep batchSize ≤ accountConcurrency`,
  })
  // Organizations refuses an SCP over its size quota only at deploy time: refused here, at synth, with
  // every entry counted (an exemption that has expired still is: remove it from the configuration).
  .superRefine((c, ctx) => {
    if (!c.scp) return;
    const everyEntry = guardrailScp(
      {
        ...c.scp,
        exemptions: c.scp.exemptions.map((e) => ({ ...e, expires: "9999-12-31" })),
        partition: partitionOf(c.region),
      },
      new Date(0),
    );
    const size = scpSize(everyEntry);
    if (size <= SCP_MAX_SIZE) return;
    ctx.addIssue({
      code: "custom",
      path: ["scp", c.scp.exemptions.length ? "exemptions" : "breakGlassPrincipalArns"],
      message: `the service control policy would be ${size} characters minified, over the ${SCP_MAX_SIZE} Organizations allows: scp.breakGlassPrincipalArns (${c.scp.breakGlassPrincipalArns.length} patterns) and scp.exemptions (${c.scp.exemptions.length}, expired ones included) are each written into every statement; remove expired exemptions, or cover several users with one pattern (a name prefix or a path)`,
    });
  });

export type DeploymentConfig = z.infer<typeof deploymentSchema>;

/** Validates a deployment configuration; the error names every bad field. */
export function parseDeploymentConfig(doc: unknown, source: string): DeploymentConfig {
  return parseWith(deploymentSchema, doc, source);
}

/**
 * Reads the configuration file named by the `orgmfa:configFile` context value (cdk.json or
 * `-c orgmfa:configFile=…`), relative to the repository root.
 */
export function loadDeploymentConfig(file: string, root: string): DeploymentConfig {
  const full = path.resolve(root, file);
  let text: string;
  try {
    text = readFileSync(full, "utf8");
  } catch (e) {
    throw new ConfigError(
      `orgmfa:configFile: cannot read ${full} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Copy apps/infra/orgmfa.config.example.json and point -c orgmfa:configFile=… at it.`,
    );
  }
  return parseJsonWith(deploymentSchema, text, full);
}
