import { CHECK_INFO } from "./catalog";
import { CHECK_DEFAULTS } from "./config";
import { accountOf } from "./report-index";
import type { Finding, ScanReport, Severity } from "./types";

/** OCSF schema version the events follow. */
export const OCSF_VERSION = "1.1.0";

const SEVERITY_ID: Record<Severity, number> = { INFORMATIONAL: 1, LOW: 2, MEDIUM: 3, HIGH: 4, CRITICAL: 5 };
const title = (s: string) => s.charAt(0) + s.slice(1).toLowerCase();

/**
 * One finding as an OCSF 1.1 Compliance Finding (class 2003, category 2 "Findings"). An exempted
 * finding has status Suppressed; an open one, New.
 */
export function toOcsf(f: Finding, report: ScanReport): Record<string, unknown> {
  const account = accountOf(report, f.accountId);
  const info = CHECK_INFO[f.checkId];
  const time = Date.parse(report.finishedAt);
  const resource =
    f.userName !== null
      ? { type: "AWS::IAM::User", uid: f.principalArn, name: f.userName }
      : f.principalArn
        ? { type: "AWS::IAM::RootUser", uid: f.principalArn, name: "root" }
        : { type: "AWS::::Account", uid: f.accountId, name: f.accountName };
  return {
    category_uid: 2,
    category_name: "Findings",
    class_uid: 2003,
    class_name: "Compliance Finding",
    activity_id: 1,
    activity_name: "Create",
    type_uid: 200301,
    type_name: "Compliance Finding: Create",
    time,
    severity_id: SEVERITY_ID[f.severity],
    severity: title(f.severity),
    status_id: f.status === "EXEMPTED" ? 3 : 1,
    status: f.status === "EXEMPTED" ? "Suppressed" : "New",
    message: f.title,
    metadata: {
      version: OCSF_VERSION,
      product: { name: "orgmfa", vendor_name: "orgmfa", version: report.tool.version },
      uid: f.id,
      correlation_uid: report.scanId,
    },
    finding_info: {
      uid: f.id,
      title: f.title,
      desc: info.description,
      types: [f.checkId],
      last_seen_time: time,
    },
    compliance: {
      control: f.checkId,
      requirements: CHECK_DEFAULTS[f.checkId].controls,
      status_id: 3,
      status: "Fail",
    },
    remediation: { desc: info.remediation, references: [info.remediationUrl] },
    resources: [resource],
    cloud: {
      provider: "AWS",
      account: { uid: f.accountId, name: f.accountName, type: "AWS Account", type_id: 10 },
      ...(report.organizationId ? { org: { uid: report.organizationId } } : {}),
    },
    unmapped: {
      ou_path: account?.ouPath ?? null,
      exemption: f.exemption,
      evidence: f.evidence,
    },
  };
}

/** `--format ocsf`: one OCSF event per line (JSON Lines). */
export function renderOcsf(report: ScanReport): string {
  return report.findings.map((f) => `${JSON.stringify(toOcsf(f, report))}\n`).join("");
}
