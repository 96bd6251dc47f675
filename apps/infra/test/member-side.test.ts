import { readFileSync } from "node:fs";
import { operatorStatements } from "@orgmfa/contract";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { MEMBER_TEMPLATE } from "../lib/paths";
import { CONFIGURATIONS, config, iamSub, type Statement, synthTemplates, text } from "./helpers";

// The member side: the StackSet (MembersStack), the management account's stack, and the operator's policy.

describe("CentralStack and ManagementAccountStack", () => {
  let central: Template;
  let members: Template;
  let management: Template;

  beforeAll(() => {
    ({ central, members, management } = synthTemplates(config(CONFIGURATIONS.objectLock)));
  });

  it("deploys the member template through a service-managed StackSet in a stack of its own, read from stacksets/", () => {
    // A StackSet failure beyond its tolerance rolls back only the members stack, never the scanner.
    expect(Object.keys(central.findResources("AWS::CloudFormation::StackSet"))).toEqual([]);
    members.hasResourceProperties("AWS::CloudFormation::StackSet", {
      PermissionModel: "SERVICE_MANAGED",
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: "DELEGATED_ADMIN",
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      OperationPreferences: Match.objectLike({ FailureTolerancePercentage: 10, MaxConcurrentPercentage: 25 }),
      StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: ["r-exam"] }, Regions: ["eu-west-1"] }],
      TemplateBody: readFileSync(MEMBER_TEMPLATE, "utf8"),
      Parameters: Match.arrayWith([
        { ParameterKey: "ScannerAccountId", ParameterValue: "222222222222" },
        { ParameterKey: "DiscoverRoleName", ParameterValue: "OrgMfaDiscover" },
        { ParameterKey: "EnableOrganizationsRead", ParameterValue: "false" },
      ]),
    });
  });

  it("rolls the StackSet out at organization scale: both regions at once, a quarter of the accounts, soft failure tolerance", () => {
    const [set] = Object.values(members.findResources("AWS::CloudFormation::StackSet"));
    expect(set?.Properties.OperationPreferences).toEqual({
      RegionConcurrencyType: "PARALLEL",
      MaxConcurrentPercentage: 25,
      FailureTolerancePercentage: 10,
      ConcurrencyMode: "SOFT_FAILURE_TOLERANCE",
    });
    // CreateStackInstances takes at most 50 OUs: synth refuses more, rather than a deploy that fails.
    const ous = (n: number) => Array.from({ length: n }, (_, i) => `ou-exam-${String(i).padStart(8, "0")}`);
    expect(() => config({ stackSetTargetOus: ous(50) })).not.toThrow();
    expect(() => config({ stackSetTargetOus: ous(51) })).toThrow(
      /stackSetTargetOus: must list at most 50 OUs \(CloudFormation's limit per CreateStackInstances operation\)/,
    );
  });

  it("puts the same template in the management account with Organizations read on, the config's values baked in", () => {
    // Values, not parameter defaults: `cdk deploy` applies a changed config to the existing stack.
    const params = management.toJSON().Parameters ?? {};
    for (const name of [
      "ScannerAccountId",
      "ScannerRoleName",
      "DiscoverRoleName",
      "OperatorRoleName",
      "OrganizationId",
      "AuditRoleName",
    ])
      expect(params[name], name).toBeUndefined();
    expect(params.EnableOrganizationsRead.Default).toBe("true");
    management.hasResourceProperties("AWS::IAM::Role", {
      RoleName: "OrgMfaAuditRole",
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [
          Match.objectLike({
            Principal: { AWS: iamSub("222222222222:root") },
            Condition: {
              StringEquals: { "aws:PrincipalOrgID": "o-exampleorg1" },
              ArnLike: {
                // The scanner (ScanBatch, or an Identity Center role of that name), here only Discover,
                // and the operator (operatorRoleName) in both forms: it discovers through this role too.
                "aws:PrincipalArn": [
                  iamSub("222222222222:role/OrgMfaScanner"),
                  iamSub("222222222222:role/aws-reserved/sso.amazonaws.com/*OrgMfaScanner"),
                  {
                    "Fn::If": [
                      "OrganizationsRead",
                      iamSub("222222222222:role/OrgMfaDiscover"),
                      { Ref: "AWS::NoValue" },
                    ],
                  },
                  {
                    "Fn::If": [
                      "Operator",
                      iamSub("222222222222:role/AWSReservedSSO_OrgMfaOperator_0123456789abcdef"),
                      { Ref: "AWS::NoValue" },
                    ],
                  },
                  {
                    "Fn::If": [
                      "Operator",
                      iamSub(
                        "222222222222:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_OrgMfaOperator_0123456789abcdef",
                      ),
                      { Ref: "AWS::NoValue" },
                    ],
                  },
                ],
              },
            },
          }),
        ],
      }),
    });
    management.hasResource("AWS::IAM::ManagedPolicy", { Condition: "OrganizationsRead" });
    // The operator's condition holds: its name is written in.
    expect(management.toJSON().Conditions.Operator).toEqual({
      "Fn::Not": [{ "Fn::Equals": ["AWSReservedSSO_OrgMfaOperator_0123456789abcdef", ""] }],
    });
  });

  it("passes operatorRoleName to the member StackSet as OperatorRoleName, and deploys the operator's policy from policies.ts", () => {
    const [set] = Object.values(members.findResources("AWS::CloudFormation::StackSet"));
    expect(set?.Properties.Parameters).toContainEqual({
      ParameterKey: "OperatorRoleName",
      ParameterValue: "AWSReservedSSO_OrgMfaOperator_0123456789abcdef",
    });
    // The customer managed policy an Identity Center permission set references by name (or an IAM role
    // attaches): exactly operatorStatements, attached to nothing here, and no role made for the operator.
    const policies = Object.entries(central.findResources("AWS::IAM::ManagedPolicy")).filter(
      ([, p]) => p.Properties.ManagedPolicyName === "OrgMfaOperatorPolicy",
    );
    expect(policies).toHaveLength(1);
    const [id, policy] = policies[0] as [string, { Properties: Record<string, unknown> }];
    expect(policy.Properties.Roles ?? policy.Properties.Users ?? policy.Properties.Groups).toBeUndefined();
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const expected = operatorStatements({
      partition: "aws",
      organizationId: "o-exampleorg1",
      auditRoleName: "OrgMfaAuditRole",
    });
    expect(statements.map((st) => [st.Sid, st.Action, st.Condition])).toEqual(
      expected.map((st) => [st.Sid, st.Action, st.Condition]),
    );
    expect(statements.map((st) => text(st.Resource))).toEqual([
      "arn:<AWS::Partition>:iam::*:role/OrgMfaAuditRole",
      "*",
    ]);
    expect(
      Object.values(central.findResources("AWS::IAM::Role")).filter((r) =>
        String(r.Properties.RoleName ?? "").includes("Operator"),
      ),
    ).toEqual([]);
    expect(central.toJSON().Outputs.OperatorPolicyArn.Value).toEqual({ Ref: id });
  });
});
