import { createHash } from "node:crypto";

/**
 * What the simulated services of `simulated-aws.ts` share: the request each of them is handed (already
 * routed, its body collected and decoded), the answer each returns, the error that becomes a service's
 * own error document, and the token buckets that stand for AWS's request-rate quotas.
 */

/** An AWS error as the service would answer it; each service renders it in its own protocol. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Query-protocol `<Type>`: the caller's fault (Sender) or the service's (Receiver). */
    readonly type: "Sender" | "Receiver" = "Sender",
  ) {
    super(message);
    this.name = "SimError";
  }
}

/** One request as a simulated service sees it. */
export interface SimRequest {
  /** The signing name (`s3`, `securityhub`, `sns`, …). */
  service: string;
  method: string;
  /** The path, still percent-encoded, without the query. */
  path: string;
  /** The host the request was addressed to (S3's virtual-hosted buckets). */
  hostname: string;
  query: URLSearchParams;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  /** The account the signing credentials act in; null when they are none the simulation issued. */
  caller: string | null;
  /** Epoch ms when the request arrived. */
  now: number;
  requestId: string;
}

/** A service's answer: status, headers (lower-case names) and body. */
export interface SimAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
  /** A streaming payload (S3 GetObject): handed to an in-process SDK as a Node stream. */
  streaming?: boolean;
}

export const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export const isoSeconds = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

export const md5Hex = (b: Buffer): string => createHash("md5").update(b).digest("hex");

export interface Rate {
  perSecond: number;
  burst: number;
}

/** Token buckets refilled continuously, one per key (an account, an account's operation, an organization). */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  throttled = 0;

  constructor(private readonly rate: Rate | null) {}

  /** Whether a request may pass now; a refused one is counted. */
  take(key: string, now: number): boolean {
    const rate = this.rate;
    if (!rate) return true;
    const b = this.buckets.get(key) ?? { tokens: rate.burst, at: now };
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.at) / 1000) * rate.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) {
      this.throttled++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }
}

/**
 * The payload of an `aws-chunked` body (SigV4 streaming: `<hex size>[;chunk-signature=…]\r\n<data>\r\n`
 * chunks, a zero-size chunk, then trailers such as the checksum), and its trailers.
 */
export function decodeAwsChunked(body: Buffer): { payload: Buffer; trailers: Record<string, string> } {
  const parts: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    if (eol < 0) throw new SimError(400, "IncompleteBody", "aws-chunked body ends inside a chunk header");
    const size = Number.parseInt(body.subarray(at, eol).toString("latin1").split(";")[0] ?? "", 16);
    if (!Number.isFinite(size)) throw new SimError(400, "InvalidChunkSizeError", "bad aws-chunked chunk size");
    at = eol + 2;
    if (size === 0) break;
    parts.push(body.subarray(at, at + size));
    at += size + 2;
  }
  for (const line of body.subarray(at).toString("latin1").split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) trailers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { payload: Buffer.concat(parts), trailers };
}
