/**
 * The report (`report.json`, `--format json`) written once, as zod schemas, with its TypeScript types
 * (`ScanReport`, `ReportAccount`, …) inferred from them. The published JSON Schema,
 * packages/core/schema/report.schema.json, is emitted from them by `npm run schema:report`
 * (report-model.test.ts fails when the checked-in file differs from what these schemas emit).
 *
 * Its parts come from the layers below: the facts (facts.ts: users, devices, root, reasons) and the
 * check ids, derived from the rules (checks/index.ts).
 *
 * What a type cannot say — an AUDITED account has no reason, an EXEMPTED finding has its exemption — is
 * a table of rules ({@link Rule}): zod checks them and the JSON Schema carries them as `if`/`then`, both
 * from the same table.
 */
import { z } from "zod";
import { CHECK_IDS } from "./checks";
import {
  collectionSchema,
  FAILURE_REASONS,
  mfaDeviceSchema,
  reportUserSchema,
  rootCredentialsSchema,
  rootMfaSchema,
  rootViaSchema,
  SKIP_REASONS,
} from "./facts";
import { count, isoTime, meta, reportRegistry } from "./report-registry";
import { SEVERITIES } from "./severity";

export const REPORT_SCHEMA_ID = "https://orgmfa.dev/schema/report-1.json";

// ── Cross-field rules ────────────────────────────────────────────────────────────────────────────

/** A field that must be present and not null (every field a rule asks this of is an object or null). */
const OBJECT = "object";
/** What a rule allows in a field: one of these values, or {@link OBJECT}. */
type Allowed = readonly (string | null)[] | typeof OBJECT;
/** When `field` is `is`, the fields of `require` must hold what it allows (else those of `otherwise`). */
interface Rule<K extends string> {
  field: K;
  is: string;
  require: Partial<Record<K, Allowed>>;
  otherwise?: Partial<Record<K, Allowed>>;
}

const allows = (a: Allowed, v: unknown): boolean =>
  a === OBJECT ? typeof v === "object" && v !== null : a.includes(v as string | null);

const jsonOf = (fields: Partial<Record<string, Allowed>>) => ({
  properties: Object.fromEntries(
    Object.entries(fields).map(([k, a]) => [
      k,
      a === OBJECT ? { type: "object" } : a?.length === 1 ? { const: a[0] } : { enum: a },
    ]),
  ),
});

/**
 * `shape` with `rules`: checked by zod (even when other fields are wrong, as the JSON Schema's `allOf`
 * is), and emitted as `if`/`then`/`else` under `definitions/<id>`.
 */
function withRules<S extends z.ZodObject>(id: string, shape: S, rules: Rule<keyof S["shape"] & string>[]): S {
  const checked = shape.superRefine(
    (value, ctx) => {
      const v = value as Record<string, unknown>;
      for (const r of rules) {
        const fields = v[r.field] === r.is ? r.require : r.otherwise;
        for (const [k, a] of Object.entries(fields ?? {}) as [string, Allowed][]) {
          if (allows(a, v[k])) continue;
          const what = a === OBJECT ? "an object" : a.map((x) => JSON.stringify(x)).join(" or ");
          const why = v[r.field] === r.is ? `is ${r.is}` : `is not ${r.is}`;
          ctx.addIssue({ code: "custom", path: [k], input: v[k], message: `must be ${what} when ${r.field} ${why}` });
        }
      }
    },
    { when: (p) => typeof p.value === "object" && p.value !== null && !Array.isArray(p.value) },
  );
  const allOf = rules.map((r) => ({
    if: { properties: { [r.field]: { const: r.is } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's keyword, in a schema (never awaited).
    then: jsonOf(r.require),
    ...(r.otherwise ? { else: jsonOf(r.otherwise) } : {}),
  }));
  return meta(checked, { id, allOf });
}

// ── Parts ────────────────────────────────────────────────────────────────────────────────────────

const accountId = meta(z.string().regex(/^\d{12}$/), { id: "accountId" });
export const severitySchema = meta(z.enum(SEVERITIES), { id: "severity" });
export const checkIdSchema = meta(z.enum(CHECK_IDS), { id: "checkId" });
const accountError = meta(z.strictObject({ code: z.string(), message: z.string() }), { id: "error" });

export const reportAccountSchema = withRules(
  "account",
  z.strictObject({
    accountId,
    accountName: z.string(),
    ouPath: z.string().regex(/^Root(\/.*)?$/),
    owner: z.string().nullable(),
    status: z.enum(["AUDITED", "FAILED", "SKIPPED"]),
    reason: z.enum([...SKIP_REASONS, ...FAILURE_REASONS]).nullable(),
    error: accountError.nullable(),
    credentialReportGeneratedAt: isoTime.nullable(),
    root: z
      .strictObject({
        credentials: rootCredentialsSchema,
        mfa: rootMfaSchema,
        /** Whether `mfa` was judged from every device root has. Absent in reports written before it existed. */
        devicesComplete: meta(z.boolean(), {
          description:
            "Whether mfa was judged from every device root has: false through a member role, which sees root's virtual devices only (HARDWARE then means 'MFA on, no virtual device listed').",
        }).optional(),
        /** How root was read (added in 0.3). */
        via: meta(rootViaSchema, {
          description: "How root was read: MEMBER_ROLE (the audit role) or ASSUME_ROOT (an sts:AssumeRoot session).",
        }).optional(),
        /** Which credentials root has, where known (added in 0.3). */
        password: z.boolean().nullable().optional(),
        activeAccessKeys: z.boolean().nullable().optional(),
        activeSigningCertificates: z.boolean().nullable().optional(),
        /** Root's devices: every one through ASSUME_ROOT, the virtual ones through MEMBER_ROLE (added in 0.3). */
        devices: z.array(mfaDeviceSchema).max(8).optional(),
      })
      .nullable(),
    /**
     * Which parts of the account were audited, and how (added in 0.3): its IAM users through the member
     * audit role, its root through that role or an sts:AssumeRoot session. A FAILED account may still
     * have its root audited (through AssumeRoot).
     */
    audited: meta(
      z.strictObject({
        users: z.enum(["MEMBER_ROLE"]).nullable(),
        root: rootViaSchema.nullable(),
      }),
      { description: "Which parts of the account were audited and how: users and root (null: not audited)." },
    ).optional(),
    users: z.array(reportUserSchema),
    /** How the users were collected (audited accounts). */
    collection: collectionSchema.nullable().optional(),
    /** Notes such as the fully-live fallback, and why (audited accounts). */
    notes: z.array(z.string()).optional(),
  }),
  [
    { field: "status", is: "AUDITED", require: { reason: [null], error: [null], root: OBJECT } },
    { field: "status", is: "SKIPPED", require: { reason: SKIP_REASONS } },
    { field: "status", is: "FAILED", require: { reason: FAILURE_REASONS, error: OBJECT } },
  ],
);

export const findingStatusSchema = z.enum(["OPEN", "EXEMPTED"]);

export const findingSchema = withRules(
  "finding",
  z.strictObject({
    id: z.string().min(1).max(512),
    checkId: checkIdSchema,
    severity: severitySchema,
    accountId,
    accountName: z.string(),
    principalArn: z.string().nullable(),
    userName: z.string().nullable(),
    title: z.string().min(1),
    status: findingStatusSchema,
    exemption: z.strictObject({ reason: z.string().min(1), expires: z.string() }).nullable(),
    evidence: z.record(z.string(), z.unknown()),
    /** When a scan first found this gap (carried from scan to scan; added in 0.3). */
    firstSeenAt: meta(isoTime, {
      description: "When a scan first found this gap (carried from scan to scan).",
    }).optional(),
    /**
     * A console user's enrolment deadline where the quarantine has one (first found + its days): the
     * sweep quarantines only after it (added in 0.3).
     */
    enrolBy: meta(isoTime, {
      description: "The enrolment deadline: the sweep quarantines the user only after it (quarantine.deadlineDays).",
    }).optional(),
  }),
  [
    { field: "checkId", is: "ACCOUNT_NOT_AUDITED", require: { principalArn: [null], userName: [null] } },
    { field: "status", is: "EXEMPTED", require: { exemption: OBJECT }, otherwise: { exemption: [null] } },
  ],
);

export const exemptionSchema = z.strictObject({
  account: z.string(),
  principal: z.string(),
  checks: z.union([z.literal("*"), z.array(checkIdSchema)]),
  reason: z.string().min(1),
  /** ISO date or date-time. The exemption applies up to and including this instant. */
  expires: z.string(),
});

/** Who ran the scan, where, with what scope and config: what an auditor needs to sign it off. */
export const reportRunSchema = meta(
  z.strictObject({
    /** The scanning identity (GetCallerIdentity ARN); null when not known. */
    callerArn: z.string().nullable(),
    region: z.string().nullable(),
    /** The account and OU filters in force (empty lists: none). */
    filters: z.strictObject({
      accounts: z.array(z.string()),
      excludeAccounts: z.array(z.string()),
      ous: z.array(z.string()),
      excludeOus: z.array(z.string()),
    }),
    /** SHA-256 of the config the scan ran with (the file's bytes, or the workflow input's JSON). */
    configSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable(),
    /** Whether every user's devices were listed (`--complete-inventory`). */
    completeInventory: z.boolean(),
  }),
  { description: "Who ran the scan, where, with which filters and config." },
);

const bySeverity = z.strictObject(
  Object.fromEntries(SEVERITIES.map((s) => [s, count])) as Record<(typeof SEVERITIES)[number], typeof count>,
);

export const scanReportSchema = meta(
  z.strictObject({
    schemaVersion: z.literal("1"),
    tool: z.strictObject({ name: z.literal("orgmfa"), version: z.string() }),
    scanId: z.string().min(1),
    startedAt: isoTime,
    finishedAt: isoTime,
    organizationId: z
      .string()
      .regex(/^o-[a-z0-9]{10,32}$/)
      .nullable(),
    partition: z.string().min(1),
    summary: z.strictObject({
      accounts: z.strictObject({ listed: count, inScope: count, audited: count, failed: count, skipped: count }),
      coverage: z.number().min(0).max(1),
      /** `withoutMfa`: IAM and root users without MFA, exempted included (see `headline`). */
      users: meta(z.strictObject({ total: count, console: count, withoutMfa: count }), {
        description:
          "withoutMfa: IAM and root users with a credential and no MFA device (a ROOT_NO_MFA, USER_CONSOLE_NO_MFA or USER_API_NO_MFA finding), exempted ones included.",
      }),
      findings: z.strictObject({ open: count, exempted: count, bySeverity }),
    }),
    accounts: z.array(reportAccountSchema),
    findings: z.array(findingSchema),
    /** Who, where, scope and config (added in 0.2). */
    run: reportRunSchema.optional(),
    /** Every check with its switch, severity and related controls, as this scan ran them. */
    checks: meta(
      z.array(
        z.strictObject({
          id: checkIdSchema,
          enabled: z.boolean(),
          severity: severitySchema,
          controls: z.array(z.string()),
        }),
      ),
      { description: "Every check as this scan ran it." },
    ).optional(),
    /** The configured exemptions, with whether each was in force when the scan finished. */
    exemptions: meta(z.array(exemptionSchema.extend({ status: z.enum(["ACTIVE", "EXPIRED"]) })), {
      description: "The configured exemptions, and whether each was in force when the scan finished.",
    }).optional(),
    /** Suspicious but valid settings the scan ran with (printed on stderr too). */
    warnings: meta(z.array(z.strictObject({ field: z.string().min(1), message: z.string().min(1) })), {
      description:
        "Suspicious but valid settings this scan ran with (e.g. an expired exemption), as printed on stderr. Optional: reports before it lack it.",
    }).optional(),
    changes: z
      .strictObject({ previousScanId: z.string(), new: z.array(z.string()), resolved: z.array(z.string()) })
      .nullable(),
  }),
  { title: "orgmfa scan report, schema version 1" },
);

// The report and its parts, as TypeScript: inferred from the schemas above, their one source.
export type FindingStatus = z.output<typeof findingStatusSchema>;
export type Finding = z.output<typeof findingSchema>;
export type Exemption = z.output<typeof exemptionSchema>;
export type ReportAccount = z.output<typeof reportAccountSchema>;
/** Who ran the scan, where, with what scope and config: what an auditor needs to sign it off. */
export type ReportRun = z.output<typeof reportRunSchema>;
export type ScanReport = z.output<typeof scanReportSchema>;

/** The published JSON Schema (draft-07) of the report, emitted from {@link scanReportSchema}. */
export function reportJsonSchema(): Record<string, unknown> {
  const { $schema, title, ...rest } = z.toJSONSchema(scanReportSchema, {
    target: "draft-07",
    metadata: reportRegistry,
    override: ({ jsonSchema }) => nullableEnumAsEnum(jsonSchema),
  });
  return { $schema, $id: REPORT_SCHEMA_ID, title, ...rest };
}

/**
 * A nullable enum as one `enum` with null in it, as the schema was published (`"reason": { "enum": [null,
 * "SUSPENDED", …] }`), not zod's `anyOf` of the enum and null: the same values, and one problem per bad
 * value instead of three.
 */
function nullableEnumAsEnum(s: z.core.JSONSchema.BaseSchema): void {
  const [values, nul, ...more] = s.anyOf ?? [];
  if (typeof values !== "object" || typeof nul !== "object" || more.length > 0) return;
  if (nul.type !== "null" || !values.enum || Object.keys(values).some((k) => k !== "type" && k !== "enum")) return;
  delete s.anyOf;
  s.enum = [null, ...values.enum];
}

/** The text of packages/core/schema/report.schema.json: what fits in 120 columns on one line, as it was written by hand. */
export const reportJsonSchemaText = (): string => `${formatJson(reportJsonSchema(), "", 0)}\n`;

const flat = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(flat).join(", ")}]`
    : typeof v === "object" && v !== null
      ? Object.keys(v).length === 0
        ? "{}"
        : `{ ${Object.entries(v)
            .map(([k, x]) => `${JSON.stringify(k)}: ${flat(x)}`)
            .join(", ")} }`
      : JSON.stringify(v);

function formatJson(v: unknown, indent: string, used: number): string {
  const one = flat(v);
  if (typeof v !== "object" || v === null || used + one.length <= 120) return one;
  const inner = `${indent}  `;
  const items = Array.isArray(v)
    ? v.map((x) => inner + formatJson(x, inner, inner.length))
    : Object.entries(v).map(([k, x]) => {
        const key = `${inner}${JSON.stringify(k)}: `;
        return key + formatJson(x, inner, key.length);
      });
  const [open, close] = Array.isArray(v) ? ["[", "]"] : ["{", "}"];
  return `${open}\n${items.join(",\n")}\n${indent}${close}`;
}
