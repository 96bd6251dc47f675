/**
 * Centralized root access (IAM "Root access management", AWS Organizations): the organization's two
 * features, and member root credentials that remain while it is on (docs/checks.md).
 */
import type { AccountOutcome, RootFacts } from "../facts";
import { rootOf } from "../root";
import { defineRule, type FindingDraft, label, type RuleContext } from "./rule";

export const CENTRAL_ROOT_DOC =
  "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management";

const partitionOf = (outcome: AccountOutcome): string =>
  outcome.kind === "facts" ? outcome.partition : (/^arn:([^:]+):/.exec(outcome.root?.arn ?? "")?.[1] ?? "aws");

/** How to delete one member account's root credentials from the management account (or IAM's delegated administrator). */
export function centralDeletion(
  accountId: string,
  root: Pick<RootFacts, "password" | "activeAccessKeys" | "activeSigningCertificates">,
  partition = "aws",
): string[] {
  const session = `aws sts assume-root --region <region> --target-principal ${accountId} --task-policy-arn arn=arn:${partition}:iam::aws:policy/root-task/IAMDeleteRootUserCredentials`;
  const steps = [`${session}   # then, with the returned credentials:`];
  if (root.password !== false) steps.push("aws iam delete-login-profile");
  if (root.activeAccessKeys !== false)
    steps.push("aws iam list-access-keys; aws iam delete-access-key --access-key-id <id>   # each key");
  if (root.activeSigningCertificates !== false)
    steps.push(
      "aws iam list-signing-certificates; aws iam delete-signing-certificate --certificate-id <id>   # each certificate",
    );
  steps.push("aws iam list-mfa-devices; aws iam deactivate-mfa-device --serial-number <serial>   # each device");
  return steps;
}

/** An organization-level finding, raised on the management account's entry when `feature` is known to be off. */
function featureOff(
  ctx: RuleContext,
  checkId: "ORG_ROOT_CREDENTIALS_MANAGEMENT_OFF" | "ORG_ROOT_SESSIONS_OFF",
  feature: "RootCredentialsManagement" | "RootSessions",
  title: string,
): FindingDraft<typeof checkId>[] {
  const { outcome, target, policy } = ctx;
  const org = policy.organization;
  if (!org || target.accountId !== org.managementAccountId) return [];
  const on = feature === "RootCredentialsManagement" ? policy.rootCredentialsManagement : policy.rootSessions;
  if (on !== false) return []; // on, or not known: never guessed
  return [
    {
      checkId,
      // About the organization, raised on its management account's entry (principal: the account).
      principalArn: null,
      userName: null,
      title: `${title} in organization ${org.id}`,
      evidence: {
        organizationId: org.id,
        organizationArn: `arn:${partitionOf(outcome)}:organizations::${org.managementAccountId}:organization/${org.id}`,
        feature,
        rootCredentialsManagement: policy.rootCredentialsManagement,
        rootSessions: policy.rootSessions,
        source: "iam:ListOrganizationsFeatures",
      },
    },
  ];
}

const ENABLE =
  "In the management account: IAM console, Root access management, Enable (after `aws organizations enable-aws-service-access --service-principal iam.amazonaws.com`)";

/**
 * ORG_ROOT_CREDENTIALS_MANAGEMENT_OFF: centralized root credentials management is off (CIS AWS
 * Foundations v7.0 2.1.1; Prowler's iam_root_credentials_management_enabled passes on exactly this feature).
 */
export const orgRootCredentialsManagementOff = defineRule({
  checkId: "ORG_ROOT_CREDENTIALS_MANAGEMENT_OFF",
  severity: "MEDIUM",
  enabledByDefault: true,
  controls: ["CIS v7.0 2.1.1"],
  principals: ["account"],
  headline: "rootAccess",

  description:
    "Centralized root credentials management is off for the organization: every member account may keep (and recover) root credentials.",
  remediation: `${ENABLE}, or \`aws iam enable-organizations-root-credentials-management\`. Then delete the member accounts' root credentials centrally; enabling it deletes none.`,
  remediationUrl: CENTRAL_ROOT_DOC,
  asffType: "Software and Configuration Checks/AWS Security Best Practices/Centralized Root Access",
  needs:
    "iam:ListOrganizationsFeatures by the discovery identity (the management account or IAM's delegated administrator); raised on the management account's entry",
  evaluate: (ctx) =>
    featureOff(
      ctx,
      "ORG_ROOT_CREDENTIALS_MANAGEMENT_OFF",
      "RootCredentialsManagement",
      "Centralized root credentials management is off",
    ),
});

/**
 * ORG_ROOT_SESSIONS_OFF: privileged root actions in member accounts (root sessions, sts:AssumeRoot)
 * are off: no short root session can audit or repair a member account's root user centrally.
 */
export const orgRootSessionsOff = defineRule({
  checkId: "ORG_ROOT_SESSIONS_OFF",
  severity: "LOW",
  enabledByDefault: true,
  controls: [],
  principals: ["account"],
  headline: "rootAccess",

  description:
    "Privileged root actions in member accounts (root sessions) are off: root users cannot be audited or repaired centrally through short sts:AssumeRoot sessions.",
  remediation: `${ENABLE}, or \`aws iam enable-organizations-root-sessions\`. orgmfa then audits every member account's root through a 900-second sts:AssumeRoot session (--assume-root).`,
  remediationUrl: CENTRAL_ROOT_DOC,
  asffType: "Software and Configuration Checks/AWS Security Best Practices/Centralized Root Access",
  needs: "iam:ListOrganizationsFeatures by the discovery identity; raised on the management account's entry",
  evaluate: (ctx) =>
    featureOff(ctx, "ORG_ROOT_SESSIONS_OFF", "RootSessions", "Privileged root actions (root sessions) are off"),
});

/** ROOT_CREDENTIALS_REMAIN: a member account's root still has credentials though centralized root credentials management is on. */
export const rootCredentialsRemain = defineRule({
  checkId: "ROOT_CREDENTIALS_REMAIN",
  severity: "MEDIUM",
  enabledByDefault: true,
  // Not CIS 2.1.1's failure: enabling the feature deletes nothing, and the control asks only that it be on.
  controls: [],
  principals: ["root"],
  headline: "rootAccess",

  description:
    "A member account's root user still has credentials (password, access keys or signing certificates) though the organization manages root credentials centrally; enabling the feature deletes none of them.",
  remediation:
    "Delete the root credentials centrally: IAM console of the management account, Root access management, select the account, Delete root user credentials; or sts:AssumeRoot with the task policy IAMDeleteRootUserCredentials, then delete the login profile, access keys, signing certificates and MFA devices.",
  remediationUrl: CENTRAL_ROOT_DOC,
  asffType: "Software and Configuration Checks/AWS Security Best Practices/Root Credentials",
  needs:
    "RootCredentialsManagement enabled (iam:ListOrganizationsFeatures); root's credentials (GetAccountSummary, or an sts:AssumeRoot session)",
  evaluate({ outcome, target, policy }) {
    if (policy.rootCredentialsManagement !== true) return [];
    if (policy.organization?.managementAccountId === target.accountId) return []; // not centrally managed
    const root = rootOf(outcome);
    if (root?.credentials !== "PRESENT") return [];
    const remaining = [
      root.password ? "password" : "",
      root.activeAccessKeys ? "access keys" : "",
      root.activeSigningCertificates ? "signing certificates" : "",
    ].filter(Boolean);
    const partition = partitionOf(outcome);
    return [
      {
        checkId: "ROOT_CREDENTIALS_REMAIN",
        principalArn: root.arn,
        userName: null,
        title: `Root user of ${label(target)} still has ${remaining.join(", ") || "credentials"} under centralized root access`,
        evidence: {
          remaining,
          password: root.password,
          activeAccessKeys: root.activeAccessKeys,
          activeSigningCertificates: root.activeSigningCertificates,
          mfaEnabled: root.mfaEnabled,
          via: root.via ?? "MEMBER_ROLE",
          deleteCentrally: centralDeletion(target.accountId, root, partition),
        },
      },
    ];
  },
});
