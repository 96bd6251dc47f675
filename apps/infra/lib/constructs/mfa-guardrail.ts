import {
  exemptionsInForce,
  type GuardrailExemption,
  guardrailScp,
  ownUserScopingSupported,
  SCP_MAX_SIZE,
  type ScpDocument,
  scpSize,
} from "@orgmfa/contract";
import { expiryInstant } from "@orgmfa/core";
import { Annotations } from "aws-cdk-lib";
import { CfnPolicy } from "aws-cdk-lib/aws-organizations";
import { Construct } from "constructs";

/** The guardrail's name in Organizations (unique among the organization's SCPs). */
export const MFA_GUARDRAIL_POLICY_NAME = "OrgMfaRequireMfaForIamUsers";

export interface MfaGuardrailProps {
  /** The OUs (ou-…) or the root (r-…) the policy is attached to. */
  readonly targetIds: readonly string[];
  /** IAM users never denied, by `aws:PrincipalArn` pattern. @default [] */
  readonly breakGlassPrincipalArns?: readonly string[];
  /** IAM users not denied until a date. @default [] */
  readonly exemptions?: readonly GuardrailExemption[];
  /** The organization's partition: outside `aws` and `aws-us-gov` the policy has no own-user statement. */
  readonly partition: string;
  /** The date the policy is written as of: exemptions that expired before it are left out. */
  readonly asOf: Date;
}

/**
 * The MFA guardrail (docs/scp-guardrail.md): one service control policy, `guardrailScp` of
 * @orgmfa/contract as of `asOf`, attached to the configured OUs. Organizations accepts it only from
 * the management account (or a delegated administrator for policies), so it lives in that account's
 * stack. Written as a JSON object (CloudFormation can then detect drift), within the size quota.
 */
export class MfaGuardrail extends Construct {
  readonly policy: CfnPolicy;
  readonly document: ScpDocument;

  constructor(scope: Construct, id: string, props: MfaGuardrailProps) {
    super(scope, id);
    if (props.targetIds.length === 0) throw new Error("MfaGuardrail: targetIds must name at least one OU or the root");
    const input = {
      breakGlassPrincipalArns: props.breakGlassPrincipalArns ?? [],
      exemptions: props.exemptions ?? [],
      partition: props.partition,
    };
    this.document = guardrailScp(input, props.asOf);
    const size = scpSize(this.document);
    if (size > SCP_MAX_SIZE)
      throw new Error(
        `scp: the service control policy is ${size} characters minified, over the ${SCP_MAX_SIZE} Organizations allows: shorten scp.breakGlassPrincipalArns or scp.exemptions`,
      );
    this.policy = new CfnPolicy(this, "Policy", {
      name: MFA_GUARDRAIL_POLICY_NAME,
      type: "SERVICE_CONTROL_POLICY",
      description:
        "orgmfa: IAM users signed in without MFA may only enrol MFA on their own user (docs/scp-guardrail.md). Access keys, roles and exempt users are not denied.",
      content: this.document,
      targetIds: [...props.targetIds],
    });
    // Nothing left out silently: what the policy omits, the synth says.
    const inForce = new Set(exemptionsInForce(input, props.asOf));
    for (const e of input.exemptions)
      if (!inForce.has(e))
        Annotations.of(this).addWarningV2(
          "orgmfa:scp-exemption-expired",
          `scp.exemptions: ${e.principalArnPattern} expired on ${e.expires} (${expiryInstant(e.expires).toISOString()}): it is not in the policy; remove it from the configuration`,
        );
    if (!ownUserScopingSupported(props.partition))
      Annotations.of(this).addWarningV2(
        "orgmfa:scp-no-own-user-statement",
        `scp: SCPs in ${props.partition} do not take NotResource (the September 2025 "full IAM language" is announced for aws and aws-us-gov only), so the policy cannot limit enrolment to the user's own user: it has its first statement only; the users' identity policies must do that`,
      );
  }
}
