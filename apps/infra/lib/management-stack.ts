import { Stack, type StackProps, Validations } from "aws-cdk-lib";
import { CfnInclude } from "aws-cdk-lib/cloudformation-include";
import type { Construct } from "constructs";
import type { DeploymentConfig } from "./config";
import { MEMBER_TEMPLATE, memberParameters } from "./paths";

export interface ManagementAccountStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/**
 * The member template as a normal stack in the management account (a service-managed StackSet
 * never deploys there), with `EnableOrganizationsRead=true`: the scanner assumes this role for
 * discovery, and scans the management account's own users through it.
 */
export class ManagementAccountStack extends Stack {
  readonly template: CfnInclude;

  constructor(scope: Construct, id: string, props: ManagementAccountStackProps) {
    super(scope, id, props);
    // The config's values replace the template's parameters: `cdk deploy` never applies a new
    // parameter default to an existing stack, so defaults would leave a changed config undeployed.
    // EnableOrganizationsRead stays a parameter, always "true" here (baked, its condition would be a
    // constant).
    const { EnableOrganizationsRead, ...fromConfig } = memberParameters(props.config, true);
    this.template = new CfnInclude(this, "MemberTemplate", { templateFile: MEMBER_TEMPLATE, parameters: fromConfig });
    this.template.getParameter("EnableOrganizationsRead").default = EnableOrganizationsRead;
    for (const resource of ["product/<AWS::AccountId>/default", "hub/default"]) {
      Validations.of(this.template.getResource("SecurityHubFindingsPolicy")).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:${resource}]`,
        reason:
          "This account's own default product and hub in any region (the scan's region need not be this stack's); the account is not a wildcard.",
      });
    }
    for (const logicalId of ["IamReadPolicy", "OrganizationsReadPolicy"]) {
      Validations.of(this.template.getResource(logicalId)).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "Read-only IAM/Organizations list calls that have no resource-level scoping (or are scoped to this account by being an identity policy in it); the member template documents each action.",
      });
    }
  }
}
