import { type CheckId, RULES } from "./checks";

/** What every check means to a person: a description, the fix, and its place in ASFF's taxonomy. */
export interface CheckInfo {
  /** One sentence: what is wrong. */
  description: string;
  /** What to do about it (Security Hub `Remediation.Recommendation.Text`, ≤ 512 characters). */
  remediation: string;
  remediationUrl: string;
  /** ASFF `Types` entry (namespace/category/classifier). */
  asffType: string;
  /** What the check needs to run: the facts it reads, and any setting that turns it on. */
  needs: string;
}

/** A view of each check's own definition (`checks/*.ts`), by id. */
export const CHECK_INFO: Record<CheckId, CheckInfo> = Object.fromEntries(
  RULES.map((r) => [
    r.checkId,
    {
      description: r.description,
      remediation: r.remediation,
      remediationUrl: r.remediationUrl,
      asffType: r.asffType,
      needs: r.needs,
    },
  ]),
) as Record<CheckId, CheckInfo>;
