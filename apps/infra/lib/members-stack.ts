import { readFileSync } from "node:fs";
import { CfnStackSet, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { DeploymentConfig } from "./config";
import { IAM_EVENTS_REGION, MEMBER_TEMPLATE, memberParameters } from "./paths";

export interface MembersStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/**
 * The member StackSet — the audit role (and, with `quarantine`, the quarantine group, the enforcer role,
 * and in us-east-1 the forwarding of IAM's events) in every account of the target OUs — in a stack of its own, in
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
      // For 10,000 accounts × 2 regions (AWS::CloudFormation::StackSet OperationPreferences; API reference
      // StackSetOperationPreferences): both regions at once (RegionConcurrencyType PARALLEL); a quarter of
      // the accounts at once (MaxConcurrentPercentage, 0–100); stop in a region once more than 10 % fail
      // there (FailureTolerancePercentage, 0–100). The default ConcurrencyMode, STRICT_FAILURE_TOLERANCE,
      // starts at "the lower of MaxConcurrentCount or FailureToleranceCount + 1" and lowers it with each
      // failure; SOFT_FAILURE_TOLERANCE "decouples FailureToleranceCount from the actual concurrency", so
      // the rollout keeps its 25 % however many fail (still stopping at the tolerance). These apply to
      // operations on the StackSet (a deploy of this stack), not to AutoDeployment into new accounts.
      operationPreferences: {
        regionConcurrencyType: "PARALLEL",
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
        concurrencyMode: "SOFT_FAILURE_TOLERANCE",
      },
      // IAM's events arrive in us-east-1 only: with the quarantine, an instance there forwards them;
      // the roles, policies and group (global) are created by the instance in c.region alone.
      parameters: Object.entries({ ...memberParameters(c, false), PrimaryRegion: c.region }).map(
        ([parameterKey, parameterValue]) => ({ parameterKey, parameterValue }),
      ),
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: c.stackSetTargetOus },
          regions: [...new Set([c.region, ...(c.quarantine ? [IAM_EVENTS_REGION] : [])])],
        },
      ],
      templateBody: readFileSync(MEMBER_TEMPLATE, "utf8"),
    });
  }
}
