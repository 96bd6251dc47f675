import { type FailureReason, OrgMfaError } from "@orgmfa/core";

/** The SDK error names that mean "slow down", after the SDK's own retries gave up. */
const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
]);
const TIMEOUTS = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "AbortError"]);
const DENIED = new Set(["AccessDenied", "AccessDeniedException"]);
/**
 * STS refusing the *caller's own* credentials (the scanner's, not the member role's): expired or
 * unknown keys, a bad signature, or no credentials at all. Every account would fail the same way, so
 * this is a scan-level problem ({@link ScannerCredentialsError}), never one ASSUME_ROLE_DENIED per account.
 * (STS API reference, "Common Errors": ExpiredToken / InvalidClientTokenId / SignatureDoesNotMatch.)
 */
const CALLER_CREDENTIALS = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "CredentialsProviderError",
]);

/** A failure of one account's job, with its coverage-ledger reason. The SDK error is kept as `cause`. */
export class AccountJobError extends OrgMfaError {
  readonly kind = "account";
  constructor(
    readonly reason: FailureReason,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function errorCode(e: unknown): string {
  if (e && typeof e === "object") {
    const o = e as { name?: unknown; code?: unknown; Code?: unknown };
    for (const c of [o.name, o.code, o.Code]) if (typeof c === "string" && c !== "Error") return c;
  }
  return "Error";
}

export function errorMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 500 ? `${m.slice(0, 500)}…` : m;
}

/**
 * The scan's own credentials were refused while assuming a member role: a scan-level problem (exit 2),
 * said once, instead of one ASSUME_ROLE_DENIED per account.
 */
export class ScannerCredentialsError extends OrgMfaError {
  readonly kind = "environment";
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether an error of AssumeRole is about the caller's own credentials (see CALLER_CREDENTIALS). */
export const isCallerCredentialsError = (e: unknown): boolean => CALLER_CREDENTIALS.has(errorCode(e));

/**
 * IAM's `LimitExceeded` (SDK: LimitExceededException): a quota — 10 groups per user, 8 MFA devices,
 * no capacity for another credential report — not throttling. The SDK's retry layer counts it among
 * throttling errors (@smithy/core retry, THROTTLING_ERROR_CODES); for IAM it must not be retried.
 */
export const isIamQuotaError = (e: unknown): boolean => /^LimitExceeded(Exception)?$/.test(errorCode(e));

/** IAM's "no such user, login profile, group or policy" (NoSuchEntity, or NoSuchEntityException). */
export const isNoSuchEntity = (e: unknown): boolean => /^NoSuchEntity/.test(errorCode(e));

export function isThrottling(e: unknown): boolean {
  return THROTTLING.has(errorCode(e));
}

/**
 * The coverage-ledger reason for an error raised while scanning one account.
 * `phase` tells whether the error came from assuming the audit role.
 */
export function classifyFailure(
  e: unknown,
  phase: "assume" | "collect",
): { reason: FailureReason; code: string; message: string } {
  if (e instanceof AccountJobError) return { reason: e.reason, code: e.code, message: e.message };
  const code = errorCode(e);
  const message = errorMessage(e);
  if (THROTTLING.has(code)) return { reason: "THROTTLED", code, message };
  if (TIMEOUTS.has(code) || /ETIMEDOUT|socket hang up|timed out/i.test(message))
    return { reason: "TIMEOUT", code, message };
  if (phase === "assume" && code === "RegionDisabledException") return { reason: "STS_REGION_DISABLED", code, message };
  if (phase === "assume" && DENIED.has(code)) return { reason: "ASSUME_ROLE_DENIED", code, message };
  return { reason: "ERROR", code, message };
}
