import type { FailureReason } from "@orgmfa/core";

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
const DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "InvalidClientTokenId",
  "ExpiredToken",
  "RegionDisabledException",
  "UnrecognizedClientException",
]);

/** A failure of one account's job, with its coverage-ledger reason. The SDK error is kept as `cause`. */
export class AccountJobError extends Error {
  constructor(
    readonly reason: FailureReason,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AccountJobError";
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
  if (phase === "assume" && (DENIED.has(code) || code === "AccessDenied"))
    return { reason: "ASSUME_ROLE_DENIED", code, message };
  return { reason: "ERROR", code, message };
}
