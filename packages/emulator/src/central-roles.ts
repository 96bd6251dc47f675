import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  type IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { OPERATOR_POLICY_NAME, operatorStatements, scannerAssumeStatement } from "@orgmfa/contract";
import {
  AUDIT_ROLE_NAME,
  IDENTITY_CENTER_ROLE_PATH,
  MEMBER_ENFORCER_ROLE_NAME,
  type OrgSpec,
  SCANNER_ASSUME_POLICY_NAME,
  SCANNER_ROLE_NAME,
} from "./org-spec";

// The central roles in the security-tooling account: the scanner role (the deployed workflow's
// identity) and, when the spec names one, a person's operator role as IAM Identity Center creates it.

/** The scanner role in the security-tooling account: it may assume the audit roles, nothing else. */
export async function createScannerRole(
  scannerIam: IAMClient,
  spec: Pick<OrgSpec, "quarantine">,
  scannerAccountId: string,
  organizationId: string,
): Promise<void> {
  await scannerIam.send(
    new CreateRoleCommand({
      RoleName: SCANNER_ROLE_NAME,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${scannerAccountId}:root` }, Action: "sts:AssumeRole" },
        ],
      }),
    }),
  );
  const policy = await scannerIam.send(
    new CreatePolicyCommand({
      PolicyName: SCANNER_ASSUME_POLICY_NAME,
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        // The deployed scanner role's statement (one source with the CDK app).
        Statement: [scannerAssumeStatement({ partition: "aws", organizationId, auditRoleName: AUDIT_ROLE_NAME })],
      }),
    }),
  );
  await scannerIam.send(new AttachRolePolicyCommand({ RoleName: SCANNER_ROLE_NAME, PolicyArn: policy.Policy?.Arn }));
  if (spec.quarantine) {
    // The CLI sweeps as one identity: the scanner role, which the member enforcer roles trust here as
    // their operator (EnforcerOperatorRoleName), may also assume them.
    await scannerIam.send(
      new PutRolePolicyCommand({
        RoleName: SCANNER_ROLE_NAME,
        PolicyName: "assume-member-enforcer-roles",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "sts:AssumeRole", Resource: `arn:aws:iam::*:role/${MEMBER_ENFORCER_ROLE_NAME}` },
          ],
        }),
      }),
    );
  }
}

/**
 * The operator role `roleName` (OrgSpec.operatorRoleName) holding exactly `operatorStatements`; its ARN.
 * As IAM Identity Center provisions a permission set's role: under its reserved path, trusting the
 * account's Identity Center SAML provider (a person signs in through the access portal; here the
 * tests take its credentials with the emulator's administrator, as the portal hands them out).
 */
export async function createOperatorRole(
  scannerIam: IAMClient,
  roleName: string,
  scannerAccountId: string,
  organizationId: string,
): Promise<string> {
  const role = await scannerIam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      Path: IDENTITY_CENTER_ROLE_PATH,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: {
              Federated: `arn:aws:iam::${scannerAccountId}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE`,
            },
            Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
          },
        ],
      }),
    }),
  );
  // The operator policy, by the name and with the statements the CDK app deploys it with.
  const operatorPolicy = await scannerIam.send(
    new CreatePolicyCommand({
      PolicyName: OPERATOR_POLICY_NAME,
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: operatorStatements({ partition: "aws", organizationId, auditRoleName: AUDIT_ROLE_NAME }),
      }),
    }),
  );
  await scannerIam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: operatorPolicy.Policy?.Arn }));
  return role.Role?.Arn ?? "";
}
