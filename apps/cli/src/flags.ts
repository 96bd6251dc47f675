import { ACCOUNT_ID_PATTERN, CHECK_IDS, type CheckId, type FailOn, ROLE_NAME_PATTERN, SEVERITIES } from "@orgmfa/core";
import { UsageError } from "./errors";
import { LOG_LEVELS, type LogLevel } from "./io";

// The one place flags are validated. Each parser below is the `argParser` of its option in main.ts:
// commander hands it the text the user typed and gets back the typed value, or a UsageError that
// names the flag and shows the bad value (printed as `orgmfa: …`, exit 2). What no single flag can
// decide (--s3-prefix without --s3-bucket, --checks against --exclude-checks) is checkCombinations,
// which main.ts runs before any command's action. So a command receives its flags checked and typed,
// before anything reads a file or calls AWS, and never checks them again. (Whether --format suits
// --output's file name is outputs.ts's resolveFormat: it decides the format, with the output paths.)
//
// This module is loaded at start (main.ts imports it): nothing here may pull in the AWS SDK.

/** --profile, --region, --org-role-arn: the scanning identity. */
export interface IdentityFlags {
  profile?: string;
  region?: string;
  orgRoleArn?: string;
}

/** --accounts, --exclude-accounts, --ou, --exclude-ou: which accounts are in scope. */
export interface ScopeFlags {
  accounts?: string[];
  excludeAccounts?: string[];
  ou?: string[];
  excludeOu?: string[];
}

/** The flags of every command that reads the organization's accounts (main.ts's withIdentityAndScope). */
export interface IdentityAndScopeFlags extends IdentityFlags, ScopeFlags {
  /** The audit role assumed in every member account. */
  roleName: string;
  externalId?: string;
  config?: string;
  concurrency: number;
}

/** An OU reference: anything but an empty or blank name (Organizations allows 1–128 characters). */
const OU_REF = /^(?=.*\S).{1,260}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const S3_PREFIX = /^[\w!\-.*'()/=+@$:;,&?]*$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** A comma-separated list, blanks dropped: `--accounts ""` and `--accounts ,` are empty lists. */
const list = (v: string): string[] =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** A list of ids, each matching `re`; an empty one is refused, never read as "all". */
function ids(flag: string, re: RegExp, what: string): (v: string) => string[] {
  return (v) => {
    const items = list(v);
    if (items.length === 0)
      throw new UsageError(`${flag}: the list is empty; give ${what} (comma-separated), or leave out ${flag}.`);
    for (const id of items) if (!re.test(id)) throw new UsageError(`${flag}: "${id}" is not ${what}`);
    return items;
  };
}

/** `--accounts`, `--exclude-accounts`: 12-digit account ids. */
export const accountIds = (flag: string) => ids(flag, ACCOUNT_ID_PATTERN, "a 12-digit account id");

/** `--ou`, `--exclude-ou`: ids, paths or names (discovery resolves them against the organization). */
export const ouRefs = (flag: string, what: string) => ids(flag, OU_REF, what);

/** A whole number from `min` to `max`; `why` follows the range in the message. */
export const wholeNumber =
  (flag: string, min: number, max: number, why = "") =>
  (v: string): number => {
    if (!/^\d+$/.test(v.trim())) throw new UsageError(`${flag} takes a whole number, not "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`${flag}: "${n}" must be a whole number from ${min} to ${max}${why}`);
    return n;
  };

/** `5m`, `300s`, `1h`, `1500ms` or a bare number of seconds, as milliseconds. */
export const duration = (flag: string) => (v: string) => {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new UsageError(`${flag}: "${v}" is not a duration such as 5m, 300s or 0`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
};

export const FAIL_ON = [...SEVERITIES, "none"] as const;

/** `--fail-on`: any severity or none, in any case. */
export function failOn(v: string): FailOn {
  const up = v.trim().toUpperCase();
  if (up === "NONE") return "none";
  if ((SEVERITIES as readonly string[]).includes(up)) return up as FailOn;
  throw new UsageError(`--fail-on: "${v}" must be one of ${FAIL_ON.join(", ")} (any case)`);
}

/** `--format`: one of `allowed`, in any case. */
export const format =
  <F extends string>(allowed: readonly F[]) =>
  (v: string): F => {
    const f = v.trim().toLowerCase();
    if (!(allowed as readonly string[]).includes(f))
      throw new UsageError(`--format: "${v}" must be one of ${allowed.join(", ")}`);
    return f as F;
  };

/** `--log-level`: error, warn, info or debug, in any case. */
export function logLevel(v: string): LogLevel {
  const l = v.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(l))
    throw new UsageError(`--log-level: "${v}" must be one of ${LOG_LEVELS.join(", ")}`);
  return l as LogLevel;
}

/** The log level the flags ask for: --log-level, else --debug / --verbose / --quiet, else warn. */
export function levelOf(o: { logLevel?: LogLevel; debug?: boolean; verbose?: boolean; quiet?: boolean }): LogLevel {
  return o.logLevel ?? (o.debug ? "debug" : o.verbose ? "info" : o.quiet ? "error" : "warn");
}

/** A value that must match `re`, else `message(v)`. */
const matching =
  (re: RegExp, message: (v: string) => string) =>
  (v: string): string => {
    if (!re.test(v)) throw new UsageError(message(v));
    return v;
  };

export const roleName = matching(ROLE_NAME_PATTERN, (v) => `--role-name: "${v}" is not an IAM role name`);
export const externalId = matching(
  EXTERNAL_ID,
  () => "--external-id: must be 2–1224 characters of letters, digits and +=,.@:/-",
);
export const orgRoleArn = matching(
  ROLE_ARN,
  (v) => `--org-role-arn: "${v}" is not an IAM role ARN (arn:aws:iam::<management account>:role/OrgMfaAuditRole)`,
);
export const s3Bucket = matching(
  BUCKET,
  (v) => `--s3-bucket: "${v}" is not an S3 bucket name (3–63 lowercase letters, digits, dots, hyphens)`,
);
export const s3Prefix = (v: string): string => {
  if (v.length > 512 || !S3_PREFIX.test(v)) throw new UsageError(`--s3-prefix: "${v}" is not a usable S3 key prefix`);
  return v;
};
export const snsTopicArn = matching(
  TOPIC_ARN,
  (v) => `--sns-topic-arn: "${v}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`,
);
export const region = matching(REGION, (v) => `--region: "${v}" is not an AWS region name (e.g. us-east-1)`);
export const scanningAccount = matching(
  ACCOUNT_ID_PATTERN,
  (v) => `--scanning-account: "${v}" is not a 12-digit account id`,
);
export function profile(v: string): string {
  if (v.trim() === "") throw new UsageError("--profile: the profile name is empty");
  return v;
}

/**
 * Parses check ids (case-insensitive) as `--checks` / `--exclude-checks` give them.
 * @throws UsageError naming the flag and the unknown id.
 */
export function parseCheckIds(flag: string, ids: readonly string[]): CheckId[] {
  return ids.map((raw) => {
    const id = raw.toUpperCase();
    if (!(CHECK_IDS as readonly string[]).includes(id))
      throw new UsageError(`${flag}: "${raw}" is not a check. Checks: ${CHECK_IDS.join(", ")} (see orgmfa checks).`);
    return id as CheckId;
  });
}

/** `--checks`, `--exclude-checks`: a non-empty list of check ids. */
export const checkIds = (flag: string) => (v: string) => {
  const checks = parseCheckIds(flag, list(v));
  if (checks.length === 0) throw new UsageError(`${flag}: the list is empty (see orgmfa checks)`);
  return checks;
};

/**
 * The rules between flags, once every flag has parsed (main.ts runs it before any command's action).
 * A command without these flags passes.
 */
export function checkCombinations(o: {
  s3Bucket?: string;
  s3Prefix?: string;
  checks?: CheckId[];
  excludeChecks?: CheckId[];
}): void {
  if (o.s3Prefix !== undefined && o.s3Bucket === undefined)
    throw new UsageError("--s3-prefix: needs --s3-bucket (the bucket the prefix is in)");
  const excluded = o.excludeChecks ?? [];
  if (o.checks?.every((c) => excluded.includes(c)))
    throw new UsageError("--checks and --exclude-checks together leave no check to run");
  if (!o.checks && excluded.length === CHECK_IDS.length)
    throw new UsageError("--exclude-checks: every check is excluded; nothing would be checked");
}
