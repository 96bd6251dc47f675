/**
 * One Lambda execution environment, for `pipeline.bench.ts`: a process of its own that imports one
 * bundled handler (the init phase), then runs invocations one at a time as the parent sends them over
 * IPC, each with a Lambda-like context (`getRemainingTimeInMillis` counts down from the function's
 * timeout). Like a warm Lambda container, it keeps its module state between invocations, and its peak
 * RSS is the memory the function's limit applies to.
 *
 * It is bundled to plain JavaScript and started with plain `node` (the Lambda runtime's V8 flags), so
 * nothing but the handler — no TypeScript loader, no simulator — lives in its memory.
 *
 * Environment: ORGMFA_BENCH_HANDLER (the bundle's path), ORGMFA_BENCH_TIMEOUT_MS, and the function's
 * own environment.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

interface Invoke {
  type: "invoke";
  id: number;
  event: unknown;
}

export interface ContainerReady {
  type: "ready";
  initMs: number;
  rssMb: number;
}

export interface InvocationReport {
  type: "result";
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string };
  ms: number;
  cpuMs: number;
  /** Highest RSS sampled during this invocation (every 20 ms). */
  sampledPeakRssMb: number;
  /**
   * The process's RSS high-water mark so far, the kernel's (`VmHWM`), so no peak between samples is
   * missed. Not `process.resourceUsage().maxRSS`: Linux keeps getrusage's maximum across fork and
   * exec, so a child reports at least the RSS its parent had when it was spawned.
   */
  maxRssMb: number;
  heapUsedMb: number;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const send = (m: ContainerReady | InvocationReport) =>
  new Promise<void>((resolve) => (process.send as NonNullable<typeof process.send>)(m, () => resolve()));
const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const highWaterMb = (): number => {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kb) return Math.round((Number(kb) / 1024) * 10) / 10;
  } catch {
    // Not Linux: the sampled peak below stands in.
  }
  return Number.NaN;
};

const timeoutMs = Number(process.env.ORGMFA_BENCH_TIMEOUT_MS ?? 900_000);
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "orgmfa";
const t0 = performance.now();
const mod = (await import(pathToFileURL(process.env.ORGMFA_BENCH_HANDLER ?? "").href)) as { handler: Handler };
await send({ type: "ready", initMs: Math.round(performance.now() - t0), rssMb: mb(process.memoryUsage.rss()) });

let queue = Promise.resolve();
process.on("message", (m: Invoke) => {
  if (m?.type !== "invoke") return;
  queue = queue.then(() => invoke(m));
});

async function invoke(m: Invoke): Promise<void> {
  let sampled = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 20);
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "bench",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  const cpu = process.cpuUsage();
  const t = performance.now();
  let report: Pick<InvocationReport, "ok" | "value" | "error">;
  try {
    report = { ok: true, value: await mod.handler(m.event, context) };
  } catch (e) {
    const err = e as Error;
    report = { ok: false, error: { name: err?.name ?? "Error", message: err?.message ?? String(e) } };
  }
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  sampled = Math.max(sampled, process.memoryUsage.rss());
  await send({
    type: "result",
    id: m.id,
    ...report,
    ms: Math.round(ms),
    cpuMs: Math.round((used.user + used.system) / 1000),
    sampledPeakRssMb: mb(sampled),
    maxRssMb: highWaterMb() || mb(sampled),
    heapUsedMb: mb(process.memoryUsage().heapUsed),
  });
}
