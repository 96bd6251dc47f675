import http from "node:http";
import type { AddressInfo } from "node:net";
import { buffer } from "node:stream/consumers";

/** One request as the proxy saw it: when it arrived, when its answer was sent, what and for whom. */
export interface ProxiedCall {
  operation: string;
  /** The account the call acts in (by the signing access key; AssumeRole by its RoleArn), or null. */
  account: string | null;
  /**
   * The role session the call belongs to: the signing access key, or for AssumeRole the key it
   * handed out (so a session's calls start with the AssumeRole that opened it).
   */
  session: string | null;
  startMs: number;
  endMs: number;
  /** HTTP status answered; 0 when the connection was reset instead. */
  status: number;
  /** The fault injected instead of (or, for a reset, after) forwarding, if any. */
  fault?: FaultKind;
}

export type FaultKind = "throttle" | "fail" | "reset";

export interface FaultOptions {
  /** Share of requests that get a fault, 0–1. */
  rate: number;
  /** Seed of the deterministic choice of requests. @default 1 */
  seed?: number;
}

/** A small deterministic PRNG (mulberry32): the same faults on the same sequence of requests. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The error AWS would answer, in the request's protocol: the query protocols (IAM, STS) answer XML
 * with `Throttling` / `InternalFailure`; the JSON protocols (Organizations) `TooManyRequestsException`
 * / `ServiceException`. The SDK's retry strategy classifies them as AWS's own answers.
 */
function faultAnswer(kind: "throttle" | "fail", json: boolean): { status: number; type: string; body: string } {
  const status = kind === "throttle" ? 400 : 500;
  if (json)
    return {
      status,
      type: "application/x-amz-json-1.1",
      body: JSON.stringify({
        __type: kind === "throttle" ? "TooManyRequestsException" : "ServiceException",
        Message: kind === "throttle" ? "Rate exceeded" : "Internal failure (injected by the benchmark)",
      }),
    };
  const code = kind === "throttle" ? "Throttling" : "InternalFailure";
  const message = kind === "throttle" ? "Rate exceeded" : "Internal failure (injected by the benchmark)";
  return {
    status,
    type: "text/xml",
    body: `<ErrorResponse><Error><Type>${kind === "throttle" ? "Sender" : "Receiver"}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>`,
  };
}

export interface LatencyProxy {
  url: string;
  /** Calls seen since the last `reset()`. */
  calls(): readonly ProxiedCall[];
  reset(): void;
  /** Most requests in flight at once since the last `reset()`. */
  peakInFlight(): number;
  /** Inject faults into a share of the requests from now on (`null`: none). */
  setFaults(faults: FaultOptions | null): void;
  close(): Promise<void>;
}

const accessKeyOf = (req: http.IncomingMessage) =>
  /Credential=([A-Z0-9]+)\//.exec(req.headers.authorization ?? "")?.[1] ?? null;

/**
 * A loopback proxy in front of `target` that holds every request `latencyMs` before forwarding it,
 * unchanged (same method, path, headers — so SigV4 signatures, which cover the Host header, still
 * verify — and body), and answers with the upstream answer unchanged. It names each call by the
 * query protocols' `Action=` form field or the JSON protocols' `X-Amz-Target` header, and learns
 * which account an access key acts in from the AssumeRole answers that pass through it.
 */
export async function startLatencyProxy(target: string, latencyMs: number): Promise<LatencyProxy> {
  let faults: { rate: number; next: () => number; n: number } | null = null;
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const keyAccount = new Map<string, string>();
  let log: ProxiedCall[] = [];
  let inFlight = 0;
  let peak = 0;
  const t0 = performance.now();

  const server = http.createServer(async (req, res) => {
    const startMs = performance.now() - t0;
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      const body = await buffer(req);
      const form = (req.headers["content-type"] ?? "").includes("x-www-form-urlencoded")
        ? new URLSearchParams(body.toString("utf8"))
        : null;
      const amzTarget = req.headers["x-amz-target"];
      const operation =
        form?.get("Action") ??
        (typeof amzTarget === "string" ? (amzTarget.split(".").pop() ?? amzTarget) : `${req.method} ?`);
      const roleArn = operation === "AssumeRole" ? (form?.get("RoleArn") ?? "") : "";
      const account =
        operation === "AssumeRole"
          ? (/:iam::(\d{12}):role\//.exec(roleArn)?.[1] ?? null)
          : (keyAccount.get(accessKeyOf(req) ?? "") ?? null);
      await new Promise((r) => setTimeout(r, latencyMs));
      // Faults: a throttling or server error instead of forwarding, or a reset after forwarding
      // (the worst case: the work was done, the answer lost). The kinds take turns.
      const fault: FaultKind | undefined =
        faults && faults.next() < faults.rate ? (["throttle", "fail", "reset"] as const)[faults.n++ % 3] : undefined;
      if (fault === "throttle" || fault === "fail") {
        const a = faultAnswer(fault, typeof amzTarget === "string");
        res
          .writeHead(a.status, { "content-type": a.type, "content-length": String(Buffer.byteLength(a.body)) })
          .end(a.body);
        log.push({
          operation,
          account,
          session: accessKeyOf(req),
          startMs,
          endMs: performance.now() - t0,
          status: a.status,
          fault,
        });
        return;
      }
      const answer = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
        (resolve, reject) => {
          const up = http.request(
            {
              host: upstream.hostname,
              port: upstream.port,
              method: req.method,
              path: req.url,
              headers: req.headers,
              agent,
            },
            (r) => buffer(r).then((b) => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: b }), reject),
          );
          up.on("error", reject);
          up.end(body);
        },
      );
      let session = accessKeyOf(req);
      if ((operation === "AssumeRole" || operation === "AssumeRoot") && answer.status === 200) {
        const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(answer.body.toString("utf8"))?.[1] ?? null;
        if (key && account) keyAccount.set(key, account);
        session = key;
      }
      if (fault === "reset") {
        req.socket.destroy();
        log.push({ operation, account, session, startMs, endMs: performance.now() - t0, status: 0, fault });
        return;
      }
      const { connection: _c, "transfer-encoding": _te, "keep-alive": _ka, ...headers } = answer.headers;
      res.writeHead(answer.status, { ...headers, "content-length": String(answer.body.length) }).end(answer.body);
      log.push({ operation, account, session, startMs, endMs: performance.now() - t0, status: answer.status });
    } catch (e) {
      res.writeHead(502, { "content-type": "text/plain" }).end(`latency proxy: ${(e as Error).message}`);
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => log,
    reset: () => {
      log = [];
      peak = inFlight;
    },
    peakInFlight: () => peak,
    setFaults: (f) => {
      faults = f ? { rate: f.rate, next: prng(f.seed ?? 1), n: 0 } : null;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}

/** Calls per operation, most frequent first. */
export function callsByOperation(calls: readonly ProxiedCall[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(c.operation, (counts.get(c.operation) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/**
 * Round trips in sequence within one role session (one account's scan, from its AssumeRole on): the
 * most calls of that session that follow one
 * another without overlapping in time (the longest chain of non-overlapping intervals, found
 * greedily by earliest end). Calls that overlap count once, calls queued behind a concurrency bound
 * count as the sequence they really were.
 */
export function sequentialRoundTrips(calls: readonly ProxiedCall[], session: string): number {
  const mine = calls.filter((c) => c.session === session).sort((a, b) => a.endMs - b.endMs);
  let n = 0;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const c of mine) {
    if (c.startMs >= lastEnd) {
      n++;
      lastEnd = c.endMs;
    }
  }
  return n;
}
