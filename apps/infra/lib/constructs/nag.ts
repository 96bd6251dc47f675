import { runFilePattern, type ScannerPolicyInput, TOP_FOLDERS } from "@orgmfa/contract";
import { type CfnResource, Stack } from "aws-cdk-lib";
import type * as s3 from "aws-cdk-lib/aws-s3";

/** `text` in a regular expression, taken literally. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
/** A key pattern of the layout as the end of a resource cdk-nag prints (`…/<pattern>`). */
const endsWith = (pattern: string) => new RegExp(`/${literal(pattern)}$`);

/**
 * Why a statement of a function's role names many resources, by the resource (as cdk-nag prints it).
 * A wildcard without a reason here fails synth: none is granted unexplained. The report bucket's
 * folders and key patterns are the layout's (packages/contract/src/layout.ts).
 */
const WILDCARD_REASONS: Array<[RegExp, string]> = [
  [
    /:iam::\*:role\//,
    "The member template's role (the audit role, or the quarantine enforcer role) exists in every member account; the account is the wildcard, and aws:ResourceOrgID limits it to this organization.",
  ],
  [
    endsWith(runFilePattern("results")),
    "One result object per account of a run, under runs/<scanId>/results/: the scan id is made at run time, the accounts are the organization's.",
  ],
  [
    new RegExp(`/${literal(`${TOP_FOLDERS.runs}*/`)}[\\w.-]+\\.json$`),
    "This one file of each run's state (runs/<scanId>/, expired after 7 days): the scan id is made at run time.",
  ],
  [
    endsWith(`${TOP_FOLDERS.quarantine}*`),
    "One record per change an IAM event led to, under quarantine/<yyyy>/<mm>/<dd>/, named at run time.",
  ],
  [
    endsWith(`${TOP_FOLDERS.scans}*`),
    "Each scan's auditor files go to scans/<yyyy>/<mm>/<dd>/<scanId>/, named at run time.",
  ],
  [
    new RegExp(`/${literal(TOP_FOLDERS.history)}[a-z]+/dt=\\*/\\*\\.jsonl\\.gz$`),
    "Each scan's file of one history table, history/<table>/dt=<yyyy-mm-dd>/<scanId>.jsonl.gz: the day and the scan id are made at run time.",
  ],
  [
    endsWith(`${TOP_FOLDERS.latest}*`),
    "The latest/ copies of the auditor files (report.json, the CSV files, report.html, manifest.json).",
  ],
];

/** The reason a wildcard resource is granted; throws for a wildcard no reason covers. */
export function wildcardReason(resource: string): string {
  const reason = WILDCARD_REASONS.find(([pattern]) => pattern.test(resource))?.[1];
  if (!reason) throw new Error(`central stack: no reason recorded for the wildcard resource ${resource}`);
  return reason;
}

/**
 * The policy input as cdk-nag prints the statements made from it (`<AWS::Partition>`, the bucket as
 * `<ReportsXXXXXXXX.Arn>`), to acknowledge each wildcard resource by its printed form.
 */
export function nagView(input: ScannerPolicyInput, bucket: s3.IBucket): ScannerPolicyInput {
  const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnResource);
  return {
    ...input,
    partition: "<AWS::Partition>",
    accountId: "<AWS::AccountId>",
    region: "<AWS::Region>",
    bucketArn: `<${bucketId}.Arn>`,
  };
}
