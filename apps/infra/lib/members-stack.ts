import { readFileSync } from "node:fs";
import { CfnStackSet, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { DeploymentConfig } from "./config";
import { MEMBER_TEMPLATE, memberParameters } from "./paths";

export interface MembersStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/**
 * The member StackSet — the audit role in every account of the target OUs — in a stack of its own, in
 * the delegated-administrator account: a StackSet operation that fails in more accounts than it
 * tolerates then rolls back only this stack, never the scanner, its bucket or its workflow.
 */
export class MembersStack extends Stack {
  readonly stackSet: CfnStackSet;

  constructor(scope: Construct, id: string, props: MembersStackProps) {
    super(scope, id, props);
    const c = props.config;
    this.stackSet = new CfnStackSet(this, "MemberStackSet", {
      stackSetName: "orgmfa-member-audit-role",
      description: "orgmfa member audit role (read-only IAM, own Security Hub findings)",
      permissionModel: "SERVICE_MANAGED",
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: c.callAs,
      capabilities: ["CAPABILITY_NAMED_IAM"],
      managedExecution: { Active: true },
      operationPreferences: {
        regionConcurrencyType: "PARALLEL",
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
      },
      parameters: Object.entries(memberParameters(c, false)).map(([parameterKey, parameterValue]) => ({
        parameterKey,
        parameterValue,
      })),
      stackInstancesGroup: [{ deploymentTargets: { organizationalUnitIds: c.stackSetTargetOus }, regions: [c.region] }],
      templateBody: readFileSync(MEMBER_TEMPLATE, "utf8"),
    });
  }
}
