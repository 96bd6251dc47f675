import { z } from "zod";
import { CHECK_IDS, type CheckId, RULES } from "./checks";
import { OrgMfaError } from "./errors";
import { type ExemptionSubject, expiryInstant, isExpired } from "./exemptions";
import { ACCOUNT_ID_PATTERN, OU_OR_ROOT_ID_PATTERN } from "./names";
import { QUARANTINE_MODES, type QuarantineConfig, type QuarantineMode } from "./quarantine";
import type { Exemption } from "./report-model";
import { SEVERITIES, type Severity } from "./severity";

/** Default severity, switch and related controls of every check: a view of `checks/*.ts`. */
export const CHECK_DEFAULTS: Record<CheckId, { severity: Severity; enabledByDefault: boolean; controls: string[] }> =
  Object.fromEntries(
    RULES.map((r) => [
      r.checkId,
      { severity: r.severity, enabledByDefault: r.enabledByDefault, controls: [...r.controls] },
    ]),
  ) as Record<CheckId, { severity: Severity; enabledByDefault: boolean; controls: string[] }>;

/**
 * Which kinds of principal each check can raise findings for (from each check's definition), for
 * telling an exemption that can never match. ACCOUNT_NOT_AUDITED is about the account, which only
 * principal "*" reaches.
 */
export const CHECK_PRINCIPALS: Record<CheckId, readonly ExemptionSubject["principal"]["kind"][]> = Object.fromEntries(
  RULES.map((r) => [r.checkId, r.principals]),
) as Record<CheckId, readonly ExemptionSubject["principal"]["kind"][]>;

const show = (v: unknown) => (v === undefined ? "nothing" : JSON.stringify(v));

const DATE_FORMS =
  "a real calendar day, or a date-time with seconds and Z or an offset such as 2026-12-31T18:00:00+02:00";

/** A calendar date (`2026-12-31`) or an RFC 3339 date-time with Z or an offset: zod checks the calendar. */
const isoDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: (iss) =>
    iss.input === undefined
      ? `is required: an ISO-8601 date such as 2026-12-31 (${DATE_FORMS})`
      : `must be an ISO-8601 date such as 2026-12-31 (${DATE_FORMS}); got ${show(iss.input)}`,
});

const CHECKS_FORMS = `"*" or a list of check ids (${CHECK_IDS.join(", ")})`;

/**
 * A user-name glob or "root". An ARN or a path never equals a user name, so such an exemption
 * would silently match nothing: refuse it and say what to write instead.
 */
const principal = z
  .string({ error: 'is required: a user-name glob, "root" or "*"' })
  .min(1, 'must be a user-name glob, "root" or "*"')
  .superRefine((p, ctx) => {
    if (p.startsWith("arn:")) {
      const m = /^arn:[^:]*:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(p);
      const instead = m
        ? `give the user name ("${m[2]}") and put the account id (${m[1]}) in "account"`
        : 'give the user name and put the account id in "account"';
      ctx.addIssue({
        code: "custom",
        message: `is an ARN (${p}), but principal is a user-name glob or "root": ${instead}`,
      });
    } else if (p.includes("/")) {
      const name = p.slice(p.lastIndexOf("/") + 1);
      ctx.addIssue({
        code: "custom",
        message: `contains "/" (${p}), but principal matches the user name without its path: give the name only${name ? ` ("${name}")` : ""}`,
      });
    }
  });

const exemptionSchema = z
  .strictObject({
    account: z.string().regex(/^(\d{12}|\*)$/, 'must be a 12-digit account id or "*"'),
    principal,
    checks: z.union([z.literal("*"), z.array(z.enum(CHECK_IDS)).min(1, `must be ${CHECKS_FORMS}, not an empty list`)], {
      error: (iss) => (iss.input === undefined ? `is required: ${CHECKS_FORMS}` : `must be ${CHECKS_FORMS}`),
    }),
    reason: z
      .string({ error: "is required: say why this gap is accepted" })
      .trim()
      .min(1, "is required: say why this gap is accepted"),
    expires: isoDate,
  })
  .superRefine((e, ctx) => {
    if (e.account === "*" && e.principal === "*" && e.checks === "*") {
      ctx.addIssue({
        code: "custom",
        message: "exempts every finding in every account; name an account, a principal or checks",
      });
    }
  });

const KMS_KEY_ID =
  "(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})";
const KMS_ALIAS = "alias/[a-zA-Z0-9/_-]{1,250}";
const KMS_ARN = "arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:";
const kmsKeyIdError = (iss: { input?: unknown }) =>
  "must be a KMS key id (1234abcd-12ab-34cd-56ef-1234567890ab, or mrk-<32 hex> for a multi-Region key), " +
  "a key ARN (arn:aws:kms:<region>:<account>:key/<key id>), an alias name (alias/<name>) " +
  `or an alias ARN (arn:aws:kms:<region>:<account>:alias/<name>); got ${show(iss.input)}`;
/**
 * What S3 takes as `SSEKMSKeyId` (x-amz-server-side-encryption-aws-kms-key-id): a key id, a key ARN,
 * an alias name or an alias ARN; S3 hands it to KMS, which resolves an alias or a bare key id in the
 * account that writes the object.
 */
const kmsKeyId = z
  .string({ error: kmsKeyIdError })
  .regex(new RegExp(`^(?:${KMS_KEY_ID}|${KMS_ALIAS}|${KMS_ARN}(?:key/${KMS_KEY_ID}|${KMS_ALIAS}))$`), {
    error: kmsKeyIdError,
  });

const accountId = z.string().regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id");
const ouId = z.string().regex(OU_OR_ROOT_ID_PATTERN, "must be an OU id such as ou-ab12-cd34ef56");

const quarantineMode = z.enum(QUARANTINE_MODES as [QuarantineMode, ...QuarantineMode[]], {
  error: `must be one of ${QUARANTINE_MODES.map((m) => `"${m}"`).join(", ")}`,
});
const iamName = (max: number) =>
  z
    .string()
    .regex(new RegExp(`^[\\w+=,.@-]{1,${max}}$`), `must be an IAM name: 1–${max} of letters, digits and +=,.@_-`);

/** `quarantine`: who is put in the quarantine group, where, and with what grace (see quarantine.ts). */
/** A record whose keys must pass `key` (zod reports a bad key only as "Invalid key in record"). */
const keyedRecord = <V extends z.ZodType>(key: z.ZodString, value: V) =>
  z.record(z.string(), value).superRefine((r, ctx) => {
    for (const k of Object.keys(r)) {
      const checked = key.safeParse(k);
      if (!checked.success)
        ctx.addIssue({ code: "custom", path: [k], message: checked.error.issues[0]?.message ?? "is not valid" });
    }
  });

const quarantineSchema = z.strictObject({
  mode: quarantineMode.optional(),
  ous: keyedRecord(ouId, quarantineMode).optional(),
  accounts: keyedRecord(accountId, quarantineMode).optional(),
  graceHours: z
    .number()
    .int()
    .min(0)
    .max(24 * 90)
    .optional(),
  groupName: iamName(128).optional(),
  roleName: iamName(64).optional(),
  /** Days a console user first found without MFA has to enrol before quarantine (the deadline). */
  deadlineDays: z.number().int().min(1).max(365).optional(),
  /** By OU id: the deepest OU of an account's path named here wins over `deadlineDays` (0: none there). */
  deadlineDaysByOu: keyedRecord(ouId, z.number().int().min(0).max(365)).optional(),
});

/** The config file (`--config FILE`): JSON, every field optional. */
export const configSchema = z
  .strictObject({
    checks: z
      .partialRecord(
        z.enum(CHECK_IDS),
        z.strictObject({ enabled: z.boolean().optional(), severity: z.enum(SEVERITIES).optional() }),
      )
      .optional(),
    requirePhishingResistantMfa: z.boolean().optional(),
    exemptions: z.array(exemptionSchema).optional(),
    ownerTag: z.string().min(1).optional(),
    accounts: z.array(accountId).optional(),
    excludeAccounts: z.array(accountId).optional(),
    ous: z.array(ouId).optional(),
    excludeOus: z.array(ouId).optional(),
    /** KMS key (key id, key ARN, alias name or alias ARN) for SSE-KMS on the report objects in S3. */
    s3KmsKeyId: kmsKeyId.optional(),
    /** List every user's MFA devices (one ListMFADevices per user not otherwise confirmed live). */
    completeInventory: z.boolean().optional(),
    /**
     * Read member accounts' root users through sts:AssumeRoot sessions (task policy
     * IAMAuditRootUserCredentials) where the organization has root sessions enabled: every root
     * device, and a root verdict even where the audit role is missing (`--assume-root`). Read-only.
     */
    assumeRoot: z.boolean().optional(),
    /** Also publish one SNS message per account with open findings (attributes accountId, severity). */
    snsPerAccountMessages: z.boolean().optional(),
    /**
     * The digest for chat (docs/chat-digest.md): Amazon Q Developer custom notifications, published to
     * a chat topic of their own when one is given (`enabled` default true), in one thread for the
     * organization or, besides it, one per OU (`threadBy`, default "organization").
     */
    chatDigest: z
      .strictObject({
        enabled: z.boolean().optional(),
        threadBy: z.enum(["organization", "ou"], { error: 'must be "organization" or "ou"' }).optional(),
      })
      .optional(),
    /** Quarantine of console users without MFA (`orgmfa enforce`, and the deployed workflow). */
    quarantine: quarantineSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.requirePhishingResistantMfa === true && c.checks?.USER_MFA_NOT_PHISHING_RESISTANT?.enabled === false)
      ctx.addIssue({
        code: "custom",
        path: ["requirePhishingResistantMfa"],
        message:
          "is true but checks.USER_MFA_NOT_PHISHING_RESISTANT.enabled is false: they are one switch; keep one of them",
      });
  });

export type OrgMfaConfig = z.infer<typeof configSchema>;

export class ConfigError extends OrgMfaError {
  readonly kind = "input";
}

/**
 * Validates a parsed config document. Every problem is named by its path, e.g.
 * `exemptions[0].reason: is required: say why this gap is accepted`.
 *
 * @throws ConfigError listing every invalid field.
 */
export function parseConfig(doc: unknown, source = "config"): OrgMfaConfig {
  return parseWith(configSchema, doc, source);
}

/**
 * Validates `doc` with a zod schema; on failure throws a ConfigError that names every bad field by
 * its path (`a.b[2].c: message`). Shared by every configuration orgmfa reads.
 */
export function parseWith<T extends z.ZodType>(schema: T, doc: unknown, source: string): z.infer<T> {
  const r = schema.safeParse(doc);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = i.path.reduce<string>(
      (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
      "",
    );
    return `  ${path || "(top level)"}: ${i.message}`;
  });
  throw new ConfigError(`${source} is invalid:\n${lines.join("\n")}`);
}

/** Parses JSON text and validates it with `schema`. @throws ConfigError naming the source and the problem. */
export function parseJsonWith<T extends z.ZodType>(schema: T, text: string, source: string): z.infer<T> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  return parseWith(schema, doc, source);
}

/** Parses config text (JSON). @throws ConfigError naming the file and the problem. */
export function parseConfigText(text: string, source: string): OrgMfaConfig {
  return parseJsonWith(configSchema, text, source);
}

/** Policy for evaluation: which checks run, their severities, exemptions (built by {@link policyFromConfig}). */
export interface Policy {
  checks: Record<CheckId, { enabled: boolean; severity: Severity }>;
  requirePhishingResistantMfa: boolean;
  /** List every user's devices (config `completeInventory`, `--complete-inventory`). */
  completeInventory: boolean;
  exemptions: Exemption[];
  /** Organization feature `RootCredentialsManagement`: true/false when known, null when unknown. */
  rootCredentialsManagement: boolean | null;
  /** Organization feature `RootSessions`: true/false when known, null when unknown. */
  rootSessions: boolean | null;
  /** The organization's id and management account, when known. */
  organization: { id: string; managementAccountId: string } | null;
  /** The quarantine's settings (its deadlines set findings' `enrolBy`). */
  quarantine?: QuarantineConfig;
}

/**
 * What discovery established about the organization that the checks read: its id and management
 * account, and IAM's centralized root access features (ListOrganizationsFeatures; null: unknown).
 */
export interface OrganizationFacts {
  organizationId: string | null;
  managementAccountId: string | null;
  rootCredentialsManagement: boolean | null;
  rootSessions: boolean | null;
}

/** The evaluation policy a config implies (defaults for everything it does not say). */
export function policyFromConfig(config: OrgMfaConfig = {}, org: Partial<OrganizationFacts> = {}): Policy {
  const checks = {} as Policy["checks"];
  for (const id of CHECK_IDS) {
    const override = config.checks?.[id];
    checks[id] = {
      enabled: override?.enabled ?? CHECK_DEFAULTS[id].enabledByDefault,
      severity: override?.severity ?? CHECK_DEFAULTS[id].severity,
    };
  }
  // One switch: `requirePhishingResistantMfa: true` is another way of enabling the check.
  const phishing = checks.USER_MFA_NOT_PHISHING_RESISTANT;
  if (config.requirePhishingResistantMfa && config.checks?.USER_MFA_NOT_PHISHING_RESISTANT?.enabled === undefined)
    phishing.enabled = true;
  return {
    checks,
    requirePhishingResistantMfa: phishing.enabled,
    completeInventory: config.completeInventory ?? false,
    exemptions: (config.exemptions ?? []).map((e) => ({ ...e })),
    rootCredentialsManagement: org.rootCredentialsManagement ?? null,
    rootSessions: org.rootSessions ?? null,
    ...(config.quarantine ? { quarantine: config.quarantine } : {}),
    organization:
      org.organizationId && org.managementAccountId
        ? { id: org.organizationId, managementAccountId: org.managementAccountId }
        : null,
  };
}

/** A suspicious but valid setting: the scan runs, and the user is told. */
export interface ConfigWarning {
  /** Path of the setting, as in errors: `exemptions[2].expires`. */
  field: string;
  message: string;
}

const DAY_MS = 86_400_000;

/** Whole UTC calendar days from `from` to `to` (negative when `to` is earlier). */
const calendarDays = (from: Date, to: Date) =>
  Math.round(
    (Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate()) -
      Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate())) /
      DAY_MS,
  );

const listed = (ids: readonly string[]) => ids.join(", ");
const verb = (ids: readonly string[], one: string, many: string) => (ids.length === 1 ? one : many);

/** Why an exemption's listed checks cannot reach its principal (see `exemptionMatches`), or null. */
function deadChecksWarning(e: { principal: string; checks: readonly CheckId[] }): string | null {
  if (e.principal === "*") return null;
  const kind = e.principal === "root" ? "root" : "user";
  const dead = e.checks.filter((c) => !CHECK_PRINCIPALS[c].includes(kind));
  if (dead.length === 0) return null;
  const parts: string[] = [];
  const accountLevel = dead.filter((c) => CHECK_PRINCIPALS[c].includes("account"));
  if (accountLevel.length > 0) {
    parts.push(
      `${listed(accountLevel)} ${verb(accountLevel, "is an account-level finding", "are account-level findings")} with no user, so only principal "*" exempts ${verb(accountLevel, "it", "them")}`,
    );
  }
  const other = dead.filter((c) => !accountLevel.includes(c));
  if (other.length > 0) {
    parts.push(
      kind === "root"
        ? `${listed(other)} ${verb(other, "is", "are")} never raised for the root user (principal "root")`
        : `${listed(other)} ${verb(other, "is", "are")} raised only for the root user, never for an IAM user (principal "${e.principal}" is a user-name glob)`,
    );
  }
  const tail =
    dead.length === e.checks.length
      ? "this exemption matches nothing"
      : `remove ${verb(dead, "it", "them")} from checks`;
  return `${parts.join("; ")}: ${tail}`;
}

/**
 * Suspicious but valid settings in a parsed config: exemptions that have expired, that outlive a
 * year, that name an account outside the organization, or whose checks can never reach their
 * principal. Pure: `now` and the organization's account ids are passed in; without `accountIds`
 * the accounts are not checked.
 *
 * @example
 * for (const w of configWarnings(config, { now: new Date(), accountIds })) console.warn(`${w.field}: ${w.message}`);
 */
export function configWarnings(
  config: OrgMfaConfig,
  ctx: { now: Date; accountIds?: ReadonlySet<string> },
): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  (config.exemptions ?? []).forEach((e, i) => {
    const at = (field: string, message: string) => warnings.push({ field: `exemptions[${i}].${field}`, message });
    if (ctx.accountIds && e.account !== "*" && !ctx.accountIds.has(e.account)) {
      at("account", `account ${e.account} is not in the organization: this exemption matches nothing`);
    }
    if (e.checks !== "*") {
      const dead = deadChecksWarning({ principal: e.principal, checks: e.checks });
      if (dead) at("checks", dead);
    }
    if (isExpired(e, ctx.now)) {
      at("expires", `expired on ${e.expires}: it no longer applies; remove it or extend it`);
    } else {
      const days = calendarDays(ctx.now, expiryInstant(e.expires));
      const yearOn = new Date(ctx.now);
      yearOn.setUTCFullYear(yearOn.getUTCFullYear() + 1);
      if (days > calendarDays(ctx.now, yearOn)) {
        at(
          "expires",
          `expires in ${days} days (${e.expires}), more than a year away; exemptions are meant to be temporary: set a nearer date and renew it if the gap remains`,
        );
      }
    }
  });
  return warnings;
}
