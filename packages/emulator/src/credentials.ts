import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { IAMClient } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import { ADMIN, REGION } from "./org-spec";

/** The seed's clients of the emulator, as the emulator's administrator unless `credentials` say otherwise. */
export function clients(endpoint: string, credentials: AwsCredentialIdentity = ADMIN) {
  const common = { endpoint, region: REGION, credentials, maxAttempts: 2 };
  return {
    orgs: new OrganizationsClient(common),
    cfn: new CloudFormationClient(common),
    iam: new IAMClient(common),
    sts: new STSClient(common),
  };
}

/** Temporary credentials of a role, assumed with the emulator's default (management) identity. */
async function assume(endpoint: string, roleArn: string, sessionName: string): Promise<AwsCredentialIdentity> {
  const { sts } = clients(endpoint);
  const r = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
  const c = r.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`seed: AssumeRole of ${roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** Administrator credentials inside a member account, through the role Organizations creates there. */
export function accountAdminCredentials(endpoint: string, accountId: string): Promise<AwsCredentialIdentity> {
  return assume(endpoint, `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`, "orgmfa-seed");
}

/** IAM inside a member account, through the role Organizations creates there. */
export async function actAs(endpoint: string, accountId: string): Promise<IAMClient> {
  return clients(endpoint, await accountAdminCredentials(endpoint, accountId)).iam;
}

/** Credentials of the scanner role (what a scheduled scan or an engineer's session would hold). */
export function scannerCredentials(endpoint: string, scannerRoleArn: string): Promise<AwsCredentialIdentity> {
  return assume(endpoint, scannerRoleArn, "orgmfa-scanner");
}

/** Credentials of any role the seed created (e.g. one of `SeededDelivery.roles`), as a function would hold them. */
export function roleCredentials(
  endpoint: string,
  roleArn: string,
  sessionName = "orgmfa",
): Promise<AwsCredentialIdentity> {
  return assume(endpoint, roleArn, sessionName);
}
