import { expiryInstant } from "@orgmfa/core";

/**
 * The MFA guardrail: one service control policy that denies IAM users whose session was signed in
 * without MFA everything but enrolling MFA on their own user. Written once, here: the CDK app deploys
 * `guardrailScp(config, <synth time>)` (apps/infra/lib/constructs/mfa-guardrail.ts), and whatever
 * rewrites the deployed policy when an exemption expires writes `guardrailScp(config, now)`. Each fact
 * it relies on is in docs/scp-guardrail.md with its source.
 */

/**
 * The largest SCP Organizations accepts: 5,120 characters, counted on the document exactly as sent
 * (the console strips white space, the API does not: "Quotas for AWS Organizations"). CloudFormation
 * sends a `Content` given as a JSON object minified (Jackson's `writeValueAsString`), as
 * {@link minifiedScp} is; {@link scpSize} counts its UTF-8 bytes, which is never fewer.
 */
export const SCP_MAX_SIZE = 5120;

/** SCPs attached directly to one root, OU or account at most (inherited ones do not count). */
export const SCP_MAX_PER_TARGET = 5;

/**
 * What a person signed in without MFA may still do, and nothing else: the actions of AWS's "manage
 * their own MFA device" example policies (a virtual device created under any name, then enabled,
 * resynced, listed and read on their own user — `EnableMFADevice` also registers passkeys and security
 * keys), reading their own user, changing their own password with the account's password policy (a
 * password that must be reset at sign-in would otherwise lock them out), and `sts:GetSessionToken` (an
 * MFA session from the CLI). Not `DeactivateMFADevice` or `DeleteVirtualMFADevice` (AWS: users not
 * authenticated with MFA "should never be allowed to delete their MFA device"), not `ListUsers` (every
 * user's name), not `CreateAccessKey` (a way out).
 */
export const MFA_ENROLMENT_ACTIONS = [
  "iam:CreateVirtualMFADevice",
  "iam:EnableMFADevice",
  "iam:ResyncMFADevice",
  "iam:ListMFADevices",
  "iam:GetMFADevice",
  "iam:ListVirtualMFADevices",
  "iam:GetUser",
  "iam:ChangePassword",
  "iam:GetAccountPasswordPolicy",
  "sts:GetSessionToken",
] as const;

/**
 * The enrolment actions that act on a user: allowed only on the caller's own user. The others have
 * no user to scope to (`CreateVirtualMFADevice` is on `mfa/<name>`, the rest on `*`).
 */
export const OWN_USER_ACTIONS = [
  "iam:EnableMFADevice",
  "iam:ResyncMFADevice",
  "iam:ListMFADevices",
  "iam:GetMFADevice",
  "iam:GetUser",
  "iam:ChangePassword",
] as const;

/** The statements' ids, as the deployed policy names them. */
export const GUARDRAIL_SIDS = {
  denyWithoutMfa: "DenyIamUserSessionsWithoutMfa",
  ownUserOnly: "EnrolmentOnlyOnOwnUser",
} as const;

/** IAM users, and nothing else (a role's `aws:PrincipalArn` is the role; a root user's ends in `:root`). */
export const IAM_USER_ARN_PATTERN = "arn:*:iam::*:user/*";

/**
 * The caller's own user, without and with a path (user names are unique in an account).
 * `${aws:username}` is resolved by AWS from the request, not by this code or CloudFormation.
 */
export const OWN_USER_ARN_PATTERNS = [
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template.
  "arn:*:iam::*:user/${aws:username}",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template.
  "arn:*:iam::*:user/*/${aws:username}",
] as const;

/**
 * Partitions where SCPs take `NotResource` (the "full IAM language" of September 2025, announced for
 * the commercial and GovCloud (US) Regions). Elsewhere (aws-cn, the isolated partitions) the policy has
 * the first statement only.
 */
export const FULL_IAM_LANGUAGE_PARTITIONS: readonly string[] = ["aws", "aws-us-gov"];

/** An exemption that stops applying after `expires` (a date covers that whole UTC day, as in the scan's exemptions). */
export interface GuardrailExemption {
  /** An `aws:PrincipalArn` pattern (ArnNotLike: `*` and `?` match), e.g. `arn:aws:iam::*:user/contractor-*`. */
  readonly principalArnPattern: string;
  /** Why the gap is accepted (kept in the configuration; the policy has no room for it). */
  readonly reason: string;
  /** `2026-12-31` (through that UTC day) or an RFC 3339 date-time. */
  readonly expires: string;
}

/** What the guardrail is made from: the deployment configuration's `scp` section and the partition. */
export interface GuardrailScpInput {
  /** IAM users never denied, by `aws:PrincipalArn` pattern (break-glass users). @default [] */
  readonly breakGlassPrincipalArns?: readonly string[];
  /** Users not denied until a date. @default [] */
  readonly exemptions?: readonly GuardrailExemption[];
  /** The partition the organization is in (`aws`, `aws-us-gov`, `aws-cn`, …). @default "aws" */
  readonly partition?: string;
}

type ScpCondition = Record<string, Record<string, string | string[]>>;
/** One statement of the guardrail (both are Deny). */
export interface ScpStatement {
  Sid: string;
  Effect: "Deny";
  Action?: string[];
  NotAction?: string[];
  Resource?: string;
  NotResource?: string[];
  Condition: ScpCondition;
}
export interface ScpDocument {
  Version: "2012-10-17";
  Statement: ScpStatement[];
}

/** The exemptions of `input` still in force at `now`. */
export function exemptionsInForce(input: GuardrailScpInput, now: Date): GuardrailExemption[] {
  return (input.exemptions ?? []).filter((e) => expiryInstant(e.expires).getTime() >= now.getTime());
}

/** The principal patterns the policy leaves alone at `now`: break-glass users, then exemptions in force, each once. */
export function exemptPrincipalArns(input: GuardrailScpInput, now: Date): string[] {
  return [
    ...new Set([
      ...(input.breakGlassPrincipalArns ?? []),
      ...exemptionsInForce(input, now).map((e) => e.principalArnPattern),
    ]),
  ];
}

/** Whether the partition's SCPs take the second statement (`NotResource`). */
export const ownUserScopingSupported = (partition = "aws") => FULL_IAM_LANGUAGE_PARTITIONS.includes(partition);

/**
 * The guardrail as of `now`: a pure function of the configuration and the date, so the same input
 * always gives the same document, and the deployed policy can be rewritten to it when an exemption
 * expires.
 *
 * Each statement applies only to requests with `aws:MultiFactorAuthPresent` present and false (console
 * sessions signed in without MFA, and `GetSessionToken` sessions without MFA; long-term access keys
 * carry no such key and are never denied), not made by a service on the user's behalf
 * (`aws:ViaAWSService` false), by an IAM user (`aws:PrincipalArn` like `arn:*:iam::*:user/*`) whose ARN
 * is not exempt (`ArnNotLike`, only when some user is).
 *
 * @example
 * ```ts
 * const doc = guardrailScp({ breakGlassPrincipalArns: ["arn:aws:iam::*:user/break-glass-*"] }, new Date());
 * organizations.updatePolicy({ PolicyId, Content: minifiedScp(doc) });
 * ```
 */
export function guardrailScp(input: GuardrailScpInput, now: Date): ScpDocument {
  const exempt = exemptPrincipalArns(input, now);
  const condition = (): ScpCondition => ({
    Bool: { "aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "false" },
    ArnLike: { "aws:PrincipalArn": IAM_USER_ARN_PATTERN },
    ...(exempt.length ? { ArnNotLike: { "aws:PrincipalArn": exempt } } : {}),
  });
  const statements: ScpStatement[] = [
    {
      Sid: GUARDRAIL_SIDS.denyWithoutMfa,
      Effect: "Deny",
      NotAction: [...MFA_ENROLMENT_ACTIONS],
      Resource: "*",
      Condition: condition(),
    },
  ];
  if (ownUserScopingSupported(input.partition))
    statements.push({
      Sid: GUARDRAIL_SIDS.ownUserOnly,
      Effect: "Deny",
      Action: [...OWN_USER_ACTIONS],
      NotResource: [...OWN_USER_ARN_PATTERNS],
      Condition: condition(),
    });
  return { Version: "2012-10-17", Statement: statements };
}

/** The document as it is sent to Organizations: JSON without white space. */
export const minifiedScp = (doc: ScpDocument): string => JSON.stringify(doc);

/** The size Organizations' quota is checked against (UTF-8 bytes of the minified document; ≥ its characters). */
export const scpSize = (doc: ScpDocument): number => new TextEncoder().encode(minifiedScp(doc)).length;
