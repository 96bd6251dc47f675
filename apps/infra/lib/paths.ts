import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DEFAULT_ENFORCER_ROLE, DEFAULT_QUARANTINE_GROUP } from "@orgmfa/core";
import { Aws, Validations } from "aws-cdk-lib";
import { CfnInclude, type CfnIncludeProps } from "aws-cdk-lib/cloudformation-include";
import type { Construct } from "constructs";
import type { DeploymentConfig } from "./config";

/** The repository root (the CDK app bundles functions from it). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The member template: read, never copied (the single source of the member-side policy). */
export const MEMBER_TEMPLATE = fileURLToPath(new URL("../../../stacksets/member-audit-role.yaml", import.meta.url));

/**
 * The member template as a construct (the management account's stack, and the tests that read the
 * template as CloudFormation would). CDK's CloudFormation validation warns W1030 on the forwarding
 * rule's target, whose parameter defaults to "": acknowledged here once, with why.
 */
export function includeMemberTemplate(scope: Construct, id: string, props: Partial<CfnIncludeProps> = {}): CfnInclude {
  const template = new CfnInclude(scope, id, { templateFile: MEMBER_TEMPLATE, ...props });
  Validations.of(template.getResource("ForwardIamEventsRule")).acknowledge({
    id: "CloudFormation-Validate::W1030",
    reason:
      "The rule exists only when CentralEventBusArn is set (condition ForwardIamEvents): its empty default never reaches it.",
  });
  return template;
}

export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** Where IAM, a global service, delivers its CloudTrail events to EventBridge. */
export const IAM_EVENTS_REGION = "us-east-1";

/** The central event bus the member accounts forward their IAM changes to (a fixed name: its ARN is known to every stack). */
export const IAM_EVENT_BUS_NAME = "orgmfa-iam-events";
export const iamEventBusArn = (c: DeploymentConfig) =>
  `arn:${Aws.PARTITION}:events:${c.region}:${c.scannerAccountId}:event-bus/${IAM_EVENT_BUS_NAME}`;

/** The member template's parameters for this deployment. */
export function memberParameters(c: DeploymentConfig, organizationsRead: boolean): Record<string, string> {
  return {
    ScannerAccountId: c.scannerAccountId,
    ScannerRoleName: c.scannerRoleName,
    DiscoverRoleName: c.discoverRoleName,
    OrganizationId: c.organizationId,
    AuditRoleName: c.auditRoleName,
    EnableOrganizationsRead: String(organizationsRead),
    // Root sessions (sts:AssumeRoot, audit task policy only) from the management account's audit role,
    // which ScanBatch assumes, only where the scan configuration reads root that way.
    ...(organizationsRead && c.scan.assumeRoot === true ? { EnableRootAudit: "true" } : {}),
    EnableQuarantine: String(c.quarantine),
    // The names the scan configuration's quarantine uses (Enforce and the sweep look for these).
    QuarantineGroupName: c.scan.quarantine?.groupName ?? DEFAULT_QUARANTINE_GROUP,
    EnforcerRoleName: c.scan.quarantine?.roleName ?? DEFAULT_ENFORCER_ROLE,
    CentralEnforcerRoleName: c.enforcerRoleName,
    // Optional ones only when set: an empty value written into the template would reach properties
    // that need one (a condition keeps them from being created, but not from being checked).
    ...(c.operatorRoleName ? { OperatorRoleName: c.operatorRoleName } : {}),
    ...(c.enforcerOperatorRoleName ? { EnforcerOperatorRoleName: c.enforcerOperatorRoleName } : {}),
    ...(c.quarantine ? { CentralEventBusArn: iamEventBusArn(c) } : {}),
  };
}
