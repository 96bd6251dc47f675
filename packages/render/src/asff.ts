import { createHash } from "node:crypto";
import {
  CHECK_DEFAULTS,
  CHECK_IDS,
  CHECK_INFO,
  type CheckId,
  type Finding,
  type Policy,
  parseFindingId,
  type ScanReport,
  SEVERITIES,
  type Severity,
} from "@orgmfa/core";
import { accountOf, userOf } from "./report-index";

/**
 * ASFF fields that belong to Security Hub's customer: a finding provider never sends them ("Using
 * FindingProviderFields" and the BatchImportFindings API reference). `toAsff` and `archivedAsff` never
 * write them; the tests check every finding against this list.
 */
export const CUSTOMER_OWNED_ASFF_FIELDS = [
  "Severity",
  "Types",
  "Confidence",
  "Criticality",
  "RelatedFindings",
  "Workflow",
  "WorkflowState",
  "Note",
  "UserDefinedFields",
  "VerificationState",
] as const;

/**
 * The ASFF fields orgmfa writes, as a finding provider. Security Hub's customer owns `Workflow`,
 * `Note`, `UserDefinedFields` and `VerificationState`, and the top-level `Severity`, `Types`,
 * `Confidence`, `Criticality` and `RelatedFindings` (analysts change them with BatchUpdateFindings),
 * so orgmfa never sends them: severity and types go in `FindingProviderFields` only, which Security
 * Hub copies to the top level of a new finding, and of an existing one only where no
 * BatchUpdateFindings has changed them ("Using FindingProviderFields", Security Hub User Guide).
 */
export interface AsffFinding {
  SchemaVersion: "2018-10-08";
  Id: string;
  ProductArn: string;
  GeneratorId: string;
  AwsAccountId: string;
  CreatedAt: string;
  UpdatedAt: string;
  LastObservedAt?: string;
  FindingProviderFields: { Severity: { Label: Severity; Original: string }; Types: string[] };
  Title: string;
  Description: string;
  Remediation?: { Recommendation: { Text: string; Url: string } };
  ProductName?: string;
  CompanyName?: string;
  ProductFields?: Record<string, string>;
  Resources: Array<{
    Type: string;
    Id: string;
    Partition?: string;
    Region?: string;
    Details?: { AwsIamUser?: { UserName: string; CreateDate?: string } };
  }>;
  Compliance: { Status: "PASSED" | "FAILED"; RelatedRequirements?: string[] };
  RecordState: "ACTIVE" | "ARCHIVED";
}

/**
 * An orgmfa finding as GetFindings returns it: what orgmfa sent (FindingProviderFields possibly
 * absent on a finding imported before orgmfa used them), plus the customer's top-level fields,
 * which orgmfa reads never and sends back never.
 */
export type StoredAsffFinding = Omit<AsffFinding, "FindingProviderFields"> & {
  FindingProviderFields?: { Severity?: { Label?: string; Original?: string }; Types?: string[] };
  Severity?: { Label?: string; Original?: string; Normalized?: number };
  Types?: string[];
};

export interface AsffContext {
  /** Region of the Security Hub the findings go to. */
  region: string;
  /** The account orgmfa runs in: ACCOUNT_NOT_AUDITED findings are imported there. */
  scanningAccountId: string;
}

export const GENERATOR_PREFIX = "orgmfa/";

/** `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`. */
export function defaultProductArn(partition: string, region: string, accountId: string): string {
  return `arn:${partition}:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** The account a finding is imported in: its own, or the scanning account for coverage findings. */
export function importAccount(f: Pick<Finding, "checkId" | "accountId">, ctx: AsffContext): string {
  return f.checkId === "ACCOUNT_NOT_AUDITED" ? ctx.scanningAccountId : f.accountId;
}

function resourceOf(f: Finding, report: ScanReport, region: string): AsffFinding["Resources"][number] {
  if (f.userName !== null && f.principalArn) {
    const user = userOf(report, f.accountId, f.userName);
    return {
      Type: "AwsIamUser",
      Id: f.principalArn,
      Partition: report.partition,
      Region: region,
      Details: { AwsIamUser: { UserName: f.userName, ...(user ? { CreateDate: user.createdAt } : {}) } },
    };
  }
  return { Type: "AwsAccount", Id: `AWS::::Account:${f.accountId}`, Partition: report.partition, Region: region };
}

/** One finding of the report as Security Hub receives it. */
export function toAsff(f: Finding, report: ScanReport, ctx: AsffContext): AsffFinding {
  const info = CHECK_INFO[f.checkId];
  const account = accountOf(report, f.accountId);
  const at = importAccount(f, ctx);
  const fields: Record<string, string> = {
    ProviderName: "orgmfa",
    ProviderVersion: report.tool.version,
    "orgmfa/CheckId": f.checkId,
    "orgmfa/ScanId": report.scanId,
    "orgmfa/AccountId": f.accountId,
    "orgmfa/AccountName": clip(f.accountName, 2048),
    "orgmfa/OuPath": clip(account?.ouPath ?? "", 2048),
  };
  if (f.exemption) {
    fields["orgmfa/ExemptionReason"] = clip(f.exemption.reason, 2048);
    fields["orgmfa/ExemptionExpires"] = f.exemption.expires;
  }
  const type = info.asffType;
  const finding: AsffFinding = {
    SchemaVersion: "2018-10-08",
    Id: f.id,
    ProductArn: defaultProductArn(report.partition, ctx.region, at),
    GeneratorId: `${GENERATOR_PREFIX}${f.checkId}`,
    AwsAccountId: at,
    CreatedAt: report.finishedAt,
    UpdatedAt: report.finishedAt,
    LastObservedAt: report.finishedAt,
    FindingProviderFields: { Severity: { Label: f.severity, Original: f.severity }, Types: [type] },
    Title: clip(f.title, 256),
    Description: clip(
      `${info.description} ${f.status === "EXEMPTED" ? "Exempted by configuration." : ""}`.trim(),
      1024,
    ),
    Remediation: { Recommendation: { Text: clip(info.remediation, 512), Url: info.remediationUrl } },
    ProductName: "orgmfa",
    CompanyName: "orgmfa",
    ProductFields: fields,
    Resources: [resourceOf(f, report, ctx.region)],
    Compliance: {
      Status: "FAILED",
      ...(CHECK_DEFAULTS[f.checkId].controls.length ? { RelatedRequirements: CHECK_DEFAULTS[f.checkId].controls } : {}),
    },
    // An exempted gap is known and accepted: recorded, but not active in Security Hub.
    RecordState: f.status === "OPEN" ? "ACTIVE" : "ARCHIVED",
  };
  fields[CONTENT_HASH_FIELD] = asffContentHash(finding);
  return finding;
}

/** ProductFields key holding {@link asffContentHash}: what a later scan compares to skip re-importing. */
export const CONTENT_HASH_FIELD = "orgmfa/ContentHash";

/**
 * A hash of what a finding says — everything but the scan it came from and the times — so that a
 * finding that has not changed since the last import need not be imported again (each import is a
 * billed ingestion event).
 */
export function asffContentHash(f: AsffFinding): string {
  const volatile = new Set([CONTENT_HASH_FIELD, "orgmfa/ScanId", "ProviderVersion"]);
  const fields = Object.entries(f.ProductFields ?? {}).filter(([k]) => !volatile.has(k));
  const stable = {
    Id: f.Id,
    ProductArn: f.ProductArn,
    GeneratorId: f.GeneratorId,
    FindingProviderFields: f.FindingProviderFields,
    Title: f.Title,
    Description: f.Description,
    Remediation: f.Remediation,
    ProductFields: Object.fromEntries(fields.sort(([a], [b]) => a.localeCompare(b))),
    Resources: f.Resources,
    Compliance: f.Compliance,
    RecordState: f.RecordState,
  };
  return createHash("sha256").update(JSON.stringify(stable)).digest("hex");
}

/** Every finding of the report as ASFF (what `--security-hub` imports, before archiving resolved ones). */
export function asffFindings(report: ScanReport, ctx: AsffContext): AsffFinding[] {
  return report.findings.map((f) => toAsff(f, report, ctx));
}

/**
 * Which findings already in one account's Security Hub this scan resolves, following docs/delivery.md:
 * only active findings whose `GeneratorId` starts with `orgmfa/`, absent from this scan, for a check
 * that ran, about an account AUDITED in this scan. Anything else (another product's finding, a
 * failed or skipped account's finding, a disabled check's) is left exactly as it is.
 */
export function findingsToArchive<T extends Pick<AsffFinding, "Id" | "GeneratorId" | "RecordState">>(
  existing: readonly T[],
  report: ScanReport,
  policy: Pick<Policy, "checks">,
): T[] {
  const current = new Set(report.findings.map((f) => f.id));
  const audited = new Set(report.accounts.filter((a) => a.status === "AUDITED").map((a) => a.accountId));
  return existing.filter((e) => {
    if (e.RecordState !== "ACTIVE" || !e.GeneratorId?.startsWith(GENERATOR_PREFIX) || current.has(e.Id)) return false;
    const subject = parseFindingId(e.Id);
    if (!subject || e.GeneratorId !== `${GENERATOR_PREFIX}${subject.checkId}`) return false;
    return policy.checks[subject.checkId].enabled && audited.has(subject.accountId);
  });
}

/** The check of an orgmfa `GeneratorId` (`orgmfa/<checkId>`), or null. */
function checkOfGenerator(generatorId: string | undefined): CheckId | null {
  const id = generatorId?.startsWith(GENERATOR_PREFIX) ? generatorId.slice(GENERATOR_PREFIX.length) : "";
  return (CHECK_IDS as readonly string[]).includes(id) ? (id as CheckId) : null;
}

const isSeverity = (s: unknown): s is Severity => (SEVERITIES as readonly unknown[]).includes(s);

/**
 * The provider's own severity and types of a stored finding: its FindingProviderFields (never the
 * top-level ones, which an analyst may have changed), or, on a finding stored without them, the
 * check's defaults.
 */
function providerFieldsOf(existing: StoredAsffFinding): AsffFinding["FindingProviderFields"] {
  const stored = existing.FindingProviderFields;
  const checkId = checkOfGenerator(existing.GeneratorId);
  const label = isSeverity(stored?.Severity?.Label)
    ? stored.Severity.Label
    : checkId
      ? CHECK_DEFAULTS[checkId].severity
      : null;
  const types = stored?.Types?.length ? stored.Types : checkId ? [CHECK_INFO[checkId].asffType] : null;
  if (label === null || types === null)
    throw new Error(`${existing.Id}: not an orgmfa finding (GeneratorId ${existing.GeneratorId}), nothing to archive`);
  return { Severity: { Label: label, Original: stored?.Severity?.Original || label }, Types: types };
}

/**
 * The re-import that archives a resolved finding: same identity, PASSED, ARCHIVED, a newer
 * UpdatedAt, and only provider fields (the analyst's top-level severity and types stay theirs).
 */
export function archivedAsff(existing: StoredAsffFinding, now: Date): AsffFinding {
  const previous = Date.parse(existing.UpdatedAt);
  const updatedAt = new Date(Math.max(now.getTime(), Number.isNaN(previous) ? 0 : previous + 1)).toISOString();
  return {
    SchemaVersion: "2018-10-08",
    Id: existing.Id,
    ProductArn: existing.ProductArn,
    GeneratorId: existing.GeneratorId,
    AwsAccountId: existing.AwsAccountId,
    CreatedAt: existing.CreatedAt,
    UpdatedAt: updatedAt,
    FindingProviderFields: providerFieldsOf(existing),
    Title: existing.Title,
    Description: existing.Description,
    Resources: existing.Resources,
    Compliance: {
      Status: "PASSED",
      ...(existing.Compliance?.RelatedRequirements?.length
        ? { RelatedRequirements: existing.Compliance.RelatedRequirements }
        : {}),
    },
    RecordState: "ARCHIVED",
  };
}
