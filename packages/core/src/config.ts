import { z } from "zod";
import { CHECK_IDS, type CheckId, type Policy, SEVERITIES, type Severity } from "./types";

/** Default severity and related controls of every check (CHECKS.md). */
export const CHECK_DEFAULTS: Record<CheckId, { severity: Severity; enabledByDefault: boolean; controls: string[] }> = {
  ROOT_NO_MFA: { severity: "CRITICAL", enabledByDefault: true, controls: ["IAM.9", "CIS 1.5"] },
  ROOT_VIRTUAL_MFA: { severity: "CRITICAL", enabledByDefault: true, controls: ["IAM.6", "CIS 1.6"] },
  USER_CONSOLE_NO_MFA: { severity: "HIGH", enabledByDefault: true, controls: ["IAM.5", "CIS 1.10"] },
  USER_API_NO_MFA: { severity: "MEDIUM", enabledByDefault: true, controls: ["IAM.19"] },
  USER_MFA_NOT_PHISHING_RESISTANT: { severity: "MEDIUM", enabledByDefault: true, controls: [] },
  ACCOUNT_NOT_AUDITED: { severity: "HIGH", enabledByDefault: true, controls: [] },
};

const isoDate = z
  .string({ error: "is required: an ISO-8601 date such as 2026-12-31" })
  .refine((s) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: "must be an ISO-8601 date such as 2026-12-31",
  });

const exemptionSchema = z.strictObject({
  account: z.string().regex(/^(\d{12}|\*)$/, 'must be a 12-digit account id or "*"'),
  principal: z.string().min(1, 'must be a user-name glob or "root"'),
  checks: z.union([z.literal("*"), z.array(z.enum(CHECK_IDS)).min(1)], {
    error: `must be "*" or a list of check ids (${CHECK_IDS.join(", ")})`,
  }),
  reason: z
    .string({ error: "is required: say why this gap is accepted" })
    .trim()
    .min(1, "is required: say why this gap is accepted"),
  expires: isoDate,
});

const accountId = z.string().regex(/^\d{12}$/, "must be a 12-digit account id");
const ouId = z
  .string()
  .regex(/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/, "must be an OU id such as ou-ab12-cd34ef56");

/** The config file (`--config FILE`): JSON, every field optional. */
export const configSchema = z.strictObject({
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
  /** KMS key (id, ARN or alias) for SSE-KMS on the report objects in S3. */
  s3KmsKeyId: z.string().min(1).optional(),
  /** Also publish one SNS message per account with open findings (attributes accountId, severity). */
  snsPerAccountMessages: z.boolean().optional(),
});

export type OrgMfaConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
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

/** The evaluation policy a config implies (defaults for everything it does not say). */
export function policyFromConfig(config: OrgMfaConfig = {}, rootCredentialsManagement: boolean | null = null): Policy {
  const checks = {} as Policy["checks"];
  for (const id of CHECK_IDS) {
    const override = config.checks?.[id];
    checks[id] = {
      enabled: override?.enabled ?? CHECK_DEFAULTS[id].enabledByDefault,
      severity: override?.severity ?? CHECK_DEFAULTS[id].severity,
    };
  }
  return {
    checks,
    requirePhishingResistantMfa: config.requirePhishingResistantMfa ?? false,
    exemptions: (config.exemptions ?? []).map((e) => ({ ...e })),
    rootCredentialsManagement,
  };
}
