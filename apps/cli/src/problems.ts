import {
  type DiscoveryError,
  EmptyScopeError,
  emptyScopeMessage,
  errorCode,
  errorMessage,
  isCallerCredentialsError,
  profileExists,
  profileFiles,
  type ScannerCredentialsError,
} from "@orgmfa/aws";
import type { IdentityFlags, ScopeFlags } from "./flags";

// What an AWS failure at the level of the whole command means, in the words of the flags the user
// gave, and what to do next: context.ts turns each into a UsageError (exit 2; docs/usage.md, "Exit
// codes"). Failures of one account are not here: they are in the report.

const NETWORK = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|socket hang up|TimeoutError/;

/**
 * A message naming the cause and the next step for a failed first call (GetCallerIdentity), or null
 * when the cause is not one of these (the error is then shown as it is, exit 1).
 */
export async function identityProblem(
  e: unknown,
  f: Pick<IdentityFlags, "profile">,
  region: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | null> {
  const code = errorCode(e);
  const message = errorMessage(e);
  const profile = f.profile ?? env.AWS_PROFILE;
  const endpoint = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
  if (code === "CredentialsProviderError" || /Could not load credentials|credentials/i.test(message)) {
    if (profile && !(await profileExists(profile).catch(() => true))) {
      const where = f.profile !== undefined ? "--profile" : "AWS_PROFILE";
      return `${where}: profile "${profile}" does not exist. Profiles are read from ${profileFiles()}; list them with \`aws configure list-profiles\`, or create it with \`aws configure --profile ${profile}\` (or \`aws configure sso\`).`;
    }
    if (profile)
      return `Profile "${profile}" has no usable credentials (${message}). For SSO run \`aws sso login --profile ${profile}\`; otherwise check the profile in ${profileFiles()}.`;
    return "No AWS credentials were found. Set AWS_PROFILE (or pass --profile), run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.";
  }
  if (["InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch"].includes(code))
    return `The AWS credentials were refused (${code}). Refresh them (for SSO: aws sso login) and try again.`;
  if (NETWORK.test(`${code} ${message}`)) {
    if (endpoint)
      return `Cannot reach the AWS endpoint ${endpoint} (${code}: ${message}). Check AWS_ENDPOINT_URL, and that the service behind it is running (for the emulator: orgmfa demo --keep-running).`;
    return `Cannot reach AWS STS in ${region} (${code}: ${message}). Check the network or proxy (HTTPS_PROXY) and --region.`;
  }
  return null;
}

/** What a discovery failure (the organization could not be read, or the scope is empty) means. */
export function discoveryProblem(
  e: DiscoveryError,
  f: ScopeFlags & Pick<IdentityFlags, "orgRoleArn">,
  caller: string,
): string {
  if (e instanceof EmptyScopeError) {
    // The filters in force, named as the user set them: a flag, else the config file's field.
    const flagOf = {
      accounts: f.accounts ? "--accounts" : "config accounts",
      excludeAccounts: f.excludeAccounts ? "--exclude-accounts" : "config excludeAccounts",
      ous: f.ou ? "--ou" : "config ous",
      excludeOus: f.excludeOu ? "--exclude-ou" : "config excludeOus",
    };
    return emptyScopeMessage(e.scope, (k) => flagOf[k]);
  }
  if (e.problem === "usage") return e.message;
  const cause = e.cause ? `${errorCode(e.cause)}: ${errorMessage(e.cause)}` : e.message;
  if (e.cause && isCallerCredentialsError(e.cause))
    return `Cannot read the organization: STS refused the credentials orgmfa runs as (${caller}) with ${cause}. They expired or are no longer valid; refresh them (e.g. aws sso login, or new temporary credentials) and run the scan again.`;
  if (f.orgRoleArn)
    return `Cannot read the organization through --org-role-arn ${f.orgRoleArn} (${cause}). Check that the role exists in the management account (the OrgMfaManagement stack, with EnableOrganizationsRead=true), and that it trusts ${caller}.`;
  return `Cannot read the organization as ${caller} (${cause}). Run orgmfa from the management account or a delegated administrator, or pass --org-role-arn with the management account's audit role.`;
}

/**
 * The command's own credentials expired or were refused part-way through the scan: one message, and
 * no report — a ledger of "every account ASSUME_ROLE_DENIED" would send people to the member
 * template. `alreadyDone` says what had landed by then (a sentence, or "").
 */
export function credentialsProblem(e: ScannerCredentialsError, caller: string, alreadyDone = ""): string {
  return `${e.message}. These are the credentials orgmfa runs as (${caller}), not the audit role's: they expired or are no longer valid. Refresh them (e.g. aws sso login, or new temporary credentials) and run the scan again. The scan stopped; no report was written and nothing else was delivered.${alreadyDone ? ` ${alreadyDone}` : ""}`;
}
