import { ConfigError } from "@orgmfa/core";
import { CfnOutput, Stack, type StackProps, Validations } from "aws-cdk-lib";
import type { CfnInclude } from "aws-cdk-lib/cloudformation-include";
import type { Construct } from "constructs";
import { type DeploymentConfig, partitionOf } from "./config";
import { MfaGuardrail } from "./constructs/mfa-guardrail";
import { includeMemberTemplate, memberParameters } from "./paths";

/**
 * The context value that sets the date the MFA guardrail is written as of (`-c orgmfa:scpAsOf=2026-07-01`:
 * which exemptions it holds then); the synth's own time without it.
 */
export const SCP_AS_OF_CONTEXT = "orgmfa:scpAsOf";

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
  /** The MFA guardrail SCP, when the configuration's `scp` is enabled. */
  readonly guardrail?: MfaGuardrail;

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
    // The MFA guardrail (scp): an SCP can be created only from the management account (or a delegated
    // administrator for policies), and this is orgmfa's one stack there.
    if (props.config.scp?.enabled) {
      const { targetIds, breakGlassPrincipalArns, exemptions } = props.config.scp;
      this.guardrail = new MfaGuardrail(this, "MfaGuardrail", {
        targetIds,
        breakGlassPrincipalArns,
        exemptions,
        partition: partitionOf(props.config.region),
        asOf: scpAsOf(this.node.tryGetContext(SCP_AS_OF_CONTEXT)),
      });
      new CfnOutput(this, "MfaGuardrailPolicyId", {
        value: this.guardrail.policy.attrId,
        description:
          "The MFA guardrail SCP (p-…): what organizations update-policy rewrites when an exemption expires (docs/scp-guardrail.md).",
      });
    }
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

/** The date of `-c orgmfa:scpAsOf=…` (an ISO-8601 date or date-time), or now. */
function scpAsOf(value: unknown): Date {
  if (value === undefined) return new Date();
  const at = typeof value === "string" ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime()))
    throw new ConfigError(
      `${SCP_AS_OF_CONTEXT}: must be an ISO-8601 date such as 2026-07-01; got ${JSON.stringify(value)}`,
    );
  return at;
}
