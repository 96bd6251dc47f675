import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { HttpRequest, HttpResponse } from "@smithy/types";

/**
 * What the simulated services of `simulated-aws.ts` share: the request each of them is handed (already
 * routed, its body collected and decoded), the answer each returns, the interface each implements, the
 * error that becomes a service's own error document (the query protocol's, which IAM, STS and SNS
 * share, here), the token buckets that stand for AWS's request-rate quotas, and the conversions from
 * and to the SDK's and Node's HTTP requests.
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
  /** The Region the request was signed for (the endpoint it reached). */
  region: string;
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

/**
 * A simulated service: names the operation of a request (counted, and throttled by the composition,
 * before it is answered), answers it, and renders an error in its own protocol.
 */
export interface SimService {
  serve(req: SimRequest): { op: string; answer: () => SimAnswer };
  error(e: SimError, requestId: string): SimAnswer;
}

/** A query-protocol answer (IAM, STS, SNS): `<{op}Response><{op}Result>…` with the request id. */
export function queryAnswer(op: string, ns: string, result: string, requestId: string): SimAnswer {
  return {
    status: 200,
    headers: { "content-type": "text/xml" },
    body: `<${op}Response xmlns="${ns}"><${op}Result>${result}</${op}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${op}Response>`,
  };
}

/** A query-protocol error document (`ns`: the namespace SNS puts on it; IAM and STS none here). */
export function queryError(e: SimError, requestId: string, ns?: string): SimAnswer {
  return {
    status: e.status,
    headers: { "content-type": "text/xml" },
    body: `<ErrorResponse${ns ? ` xmlns="${ns}"` : ""}><Error><Type>${e.type}</Type><Code>${e.code}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

/** The signed request's form (query protocol), and its `Action`. */
export function queryForm(req: SimRequest): { op: string; form: URLSearchParams } {
  const form = new URLSearchParams(req.body.toString("utf8"));
  return { op: form.get("Action") ?? "", form };
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

/** A request as it arrived over HTTP (`sim-server.ts`). */
export interface RawHttpRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request as it arrived, before the composition has routed it and named its caller. */
export type ArrivedRequest = Omit<SimRequest, "service" | "region" | "caller" | "now" | "requestId">;

/** A request the SDK handed to the simulation in process (as its `requestHandler`). */
export async function fromSdkRequest(request: HttpRequest): Promise<ArrivedRequest> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = String(v);
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(request.query ?? {}))
    for (const x of Array.isArray(v) ? v : [v]) query.append(k, x ?? "");
  return {
    method: request.method,
    path: request.path,
    hostname: request.hostname,
    query,
    headers,
    body: await bodyBytes(request.body),
  };
}

/** An answer as the SDK's HTTP handler returns it. */
export function toSdkResponse(answer: SimAnswer): HttpResponse {
  const body = typeof answer.body === "string" ? Buffer.from(answer.body, "utf8") : answer.body;
  return {
    statusCode: answer.status,
    reason: undefined,
    headers: { "content-length": String(body.length), ...answer.headers },
    body: answer.streaming ? Readable.from([body]) : new Uint8Array(body.buffer, body.byteOffset, body.length),
  };
}

/** A request that arrived over HTTP. */
export function fromRawRequest(raw: RawHttpRequest): ArrivedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.headers))
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(",") : v;
  const q = raw.url.indexOf("?");
  return {
    method: raw.method,
    path: q < 0 ? raw.url : raw.url.slice(0, q),
    hostname: (headers.host ?? "").replace(/:\d+$/, ""),
    query: new URLSearchParams(q < 0 ? "" : raw.url.slice(q + 1)),
    headers,
    body: raw.body,
  };
}

/** A request body as bytes, whatever form the SDK left it in (string, bytes, or a Node stream). */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Uint8Array | string>)
      chunks.push(typeof c === "string" ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    return Buffer.concat(chunks);
  }
  throw new Error(`the simulation cannot read a request body of type ${Object.prototype.toString.call(body)}`);
}
