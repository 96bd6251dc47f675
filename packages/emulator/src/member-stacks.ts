import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type CloudFormationClient,
  CreateStackCommand,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
} from "@aws-sdk/client-cloudformation";
import { IAM_EVENT_BUS_NAME, type OrgSpec, REGION, SCANNER_ROLE_NAME } from "./org-spec";

/** The member template: the single source of the member-side policy (read, never copied). */
export const MEMBER_TEMPLATE_PATH = fileURLToPath(
  new URL("../../../stacksets/member-audit-role.yaml", import.meta.url),
);

/**
 * Deploys the member template as AWS would be asked to: a real SERVICE_MANAGED StackSet to the OUs of
 * `spec.stackSetOus` (in {@link REGION}), and a normal stack in the management account
 * (EnableOrganizationsRead=true), with the parameters the spec asks for (quarantine, event forwarding,
 * operator role).
 */
export async function deployMemberStacks(
  cfn: CloudFormationClient,
  spec: OrgSpec,
  where: { scannerAccountId: string; organizationId: string; ous: Record<string, string> },
): Promise<void> {
  const { scannerAccountId, organizationId, ous } = where;
  const template = readFileSync(MEMBER_TEMPLATE_PATH, "utf8");
  const quarantineParams: Record<string, string> = {
    ...(spec.quarantine ? { EnableQuarantine: "true", EnforcerOperatorRoleName: SCANNER_ROLE_NAME } : {}),
    ...(spec.operatorRoleName ? { OperatorRoleName: spec.operatorRoleName } : {}),
  };
  const params = (extra: Record<string, string> = {}) =>
    Object.entries({ ScannerAccountId: scannerAccountId, OrganizationId: organizationId, ...extra }).map(
      ([ParameterKey, ParameterValue]) => ({
        ParameterKey,
        ParameterValue,
      }),
    );
  await cfn.send(
    new CreateStackSetCommand({
      StackSetName: "orgmfa-member",
      TemplateBody: template,
      PermissionModel: "SERVICE_MANAGED",
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      Parameters: params({
        ...quarantineParams,
        ...(spec.quarantine && spec.forwardIamEvents
          ? { CentralEventBusArn: `arn:aws:events:${REGION}:${scannerAccountId}:event-bus/${IAM_EVENT_BUS_NAME}` }
          : {}),
      }),
    }),
  );
  await cfn.send(
    new CreateStackInstancesCommand({
      StackSetName: "orgmfa-member",
      DeploymentTargets: { OrganizationalUnitIds: spec.stackSetOus.map((p) => ous[p] ?? "") },
      Regions: [REGION],
    }),
  );
  await cfn.send(
    new CreateStackCommand({
      StackName: "orgmfa-management",
      TemplateBody: template,
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      Parameters: params({
        EnableOrganizationsRead: "true",
        ...(spec.rootAudit ? { EnableRootAudit: "true" } : {}),
        ...quarantineParams,
      }),
    }),
  );
}
