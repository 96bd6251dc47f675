import type { CheckId } from "./types";

/** What every check means to a person: a description, the fix, and its place in ASFF's taxonomy. */
export interface CheckInfo {
  /** One sentence: what is wrong. */
  description: string;
  /** What to do about it (Security Hub `Remediation.Recommendation.Text`, ≤ 512 characters). */
  remediation: string;
  remediationUrl: string;
  /** ASFF `Types` entry (namespace/category/classifier). */
  asffType: string;
  /** What the check needs to run: the facts it reads, and any setting that turns it on. */
  needs: string;
}

const IAM_MFA_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable.html";
const ROOT_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-mfa-for-root.html";

export const CHECK_INFO: Record<CheckId, CheckInfo> = {
  ROOT_NO_MFA: {
    description: "The root user has credentials (password, access key or signing certificate) and no MFA device.",
    remediation:
      "Enable a hardware or FIDO2 MFA device for the root user, or remove the root credentials (centralized root access in AWS Organizations).",
    remediationUrl: ROOT_DOC,
    asffType: "Software and Configuration Checks/AWS Security Best Practices/Root MFA",
    needs: "iam:GetAccountSummary (root credentials and MFA), the credential report's root row as fallback",
  },
  ROOT_VIRTUAL_MFA: {
    description: "The root user has credentials and uses a virtual MFA device.",
    remediation:
      "Replace the root user's virtual MFA device with a hardware or FIDO2 security key, or remove the root credentials.",
    remediationUrl: ROOT_DOC,
    asffType: "Software and Configuration Checks/AWS Security Best Practices/Root Hardware MFA",
    needs: "iam:GetAccountSummary and iam:ListVirtualMFADevices (root's assigned virtual device)",
  },
  USER_CONSOLE_NO_MFA: {
    description: "An IAM user with a console password has no enabled MFA device.",
    remediation:
      "Have the user enrol an MFA device (a FIDO2 security key is best), or delete the login profile if the user does not need the console.",
    remediationUrl: IAM_MFA_DOC,
    asffType: "Software and Configuration Checks/AWS Security Best Practices/IAM User MFA",
    needs:
      "the credential report, iam:ListUsers, iam:ListVirtualMFADevices; iam:ListMFADevices and iam:GetLoginProfile to confirm live",
  },
  USER_API_NO_MFA: {
    description: "An IAM user with active access keys and no console password has no MFA device.",
    remediation:
      "Enrol an MFA device and require it for sensitive calls (aws:MultiFactorAuthPresent), or replace the access keys with roles.",
    remediationUrl: IAM_MFA_DOC,
    asffType: "Software and Configuration Checks/AWS Security Best Practices/IAM User MFA",
    needs: "the credential report, iam:ListUsers; iam:ListAccessKeys and iam:ListMFADevices to confirm live",
  },
  USER_MFA_NOT_PHISHING_RESISTANT: {
    description: "An IAM user's only MFA devices are not phishing-resistant (virtual or SMS).",
    remediation: "Register a FIDO2 security key or passkey for the user and remove the weaker devices.",
    remediationUrl: IAM_MFA_DOC,
    asffType: "Software and Configuration Checks/AWS Security Best Practices/Phishing-Resistant MFA",
    needs: `config "requirePhishingResistantMfa": true (off by default); then iam:ListMFADevices for every user`,
  },
  ACCOUNT_NOT_AUDITED: {
    description: "orgmfa could not audit this account, so its users' MFA state is unknown.",
    remediation:
      "Deploy the orgmfa member template (StackSet) to the account, or fix the error named in the finding, then scan again.",
    remediationUrl:
      "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html",
    asffType: "Software and Configuration Checks/Coverage/Account Not Audited",
    needs: "sts:AssumeRole of the audit role (--role-name) in every in-scope account",
  },
};
