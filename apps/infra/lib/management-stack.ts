import { Stack, type StackProps, Validations } from "aws-cdk-lib";
import type { CfnInclude } from "aws-cdk-lib/cloudformation-include";
import type { Construct } from "constructs";
import type { DeploymentConfig } from "./config";
import { includeMemberTemplate, memberParameters } from "./paths";

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
    this.template = includeMemberTemplate(this, "MemberTemplate", { parameters: fromConfig });
    this.template.getParameter("EnableOrganizationsRead").default = EnableOrganizationsRead;
    for (const resource of ["product/<AWS::AccountId>/default", "hub/default"]) {
      Validations.of(this.template.getResource("SecurityHubFindingsPolicy")).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:${resource}]`,
        reason:
          "This account's own default product and hub in any region (the scan's region need not be this stack's); the account is not a wildcard.",
      });
    }
    // The quarantine (EnableQuarantine), each wildcard with why it cannot be narrower.
    const quarantine: Array<[string, string, string]> = [
      [
        "QuarantinePolicy",
        "*",
        "Account-level reads with no resource type (password policy, summary, aliases, virtual devices) and the deny of everything else but enrolment.",
      ],
      [
        "QuarantinePolicy",
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*/<!aws:username>",
        "The user's own ARN when it has a path: user names are unique in an account, so this matches only the caller.",
      ],
      [
        "QuarantinePolicy",
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:mfa/*",
        "A virtual device is named by its user when created; it becomes theirs only when enabled, which is scoped to their own user.",
      ],
      [
        "EnforcerPolicy",
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*",
        "Any user of this account may have to be quarantined or released: attach and detach are conditioned on the quarantine policy's ARN, the rest are reads.",
      ],
    ];
    for (const [logicalId, resource, reason] of quarantine)
      Validations.of(this.template.getResource(logicalId)).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason,
      });
    // This deployment's values are written into the template (see above), so the conditions they
    // drive are constants here: cfn-lint says so, and that is the point.
    for (const id of [
      "CloudFormation-Validate::W8003",
      "CloudFormation-Validate::W1028",
      "CloudFormation-Validate::W1020",
    ])
      Validations.of(this).acknowledge({
        id,
        reason:
          "The member template's conditions (and some Fn::Sub) are constants here: this deployment's values are written into it.",
      });
    Validations.of(this.template.getResource("ForwardIamEventsDeadLetters")).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: "This queue is itself the forwarding rule's dead-letter queue.",
    });
    Validations.of(this.template.getResource("RootAuditPolicy")).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "sts:AssumeRoot only with sts:TaskPolicyArn = the read-only IAMAuditRootUserCredentials task policy (AWS's own example uses *); STS limits the targets to this organization's member accounts.",
    });
    for (const logicalId of ["IamReadPolicy", "OrganizationsReadPolicy"]) {
      Validations.of(this.template.getResource(logicalId)).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "Read-only IAM/Organizations list calls that have no resource-level scoping (or are scoped to this account by being an identity policy in it); the member template documents each action.",
      });
    }
  }
}
