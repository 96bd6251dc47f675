/**
 * Benchmark: the deployed workflow at scale — Discover → Parallel(Distributed Map of ScanBatch, Owners)
 * → Publish → QuarantineSweep (Enforce) — with
 * the REAL handlers, bundled as the CDK app bundles them, each phase in Lambda-like processes of its
 * own, against the simulated AWS (`lib/simulated-aws.ts`) behind a loopback HTTP server in this
 * process. Measures each phase against its Lambda limits (timeout, memory) and checks every user's
 * verdict in the report the run wrote against the simulation's truth.
 *
 *   npm run bench -- --pipeline                   # 10,000 accounts, heavy-tailed (lib/org-spec.ts), two daily runs
 *   npx tsx bench/pipeline.bench.ts --org uniform --users 20 --accounts 2000   # every account alike
 *   npx tsx bench/pipeline.bench.ts --accounts 200 --runs 1
 *   npx tsx bench/pipeline.bench.ts --accounts 2000 --profile publish   # --cpu-prof of that phase
 *
 * How the workflow is reproduced (apps/infra/lib/central-stack.ts, apps/infra/lib/config.ts):
 * - The handlers (apps/functions/src/{discover,owners,scan-batch,publish,enforce}.ts) are bundled with esbuild with
 *   NodejsFunction's options: ESM, target node22, minified, source maps, mainFields module/main, the
 *   createRequire banner. They build their clients from the function's environment (runtime.ts) —
 *   the same variables the CDK app sets — with AWS_ENDPOINT_URL pointing at the simulator.
 * - Each Lambda execution environment is a child process (`lib/lambda-container.ts`) started with the
 *   V8 flags of Lambda's Node.js bootstrap for 1024 MB (semi-space 51 MB, old space 922 MB) and
 *   NODE_OPTIONS=--enable-source-maps, running one invocation at a time and kept warm between them,
 *   as Lambda does. Its peak RSS is the kernel's high-water mark of that process alone (VmHWM).
 * - Discover runs once with the schedule's input ({ config }, with ownerTag "owner"), with a context
 *   whose remaining time counts down from its timeout. Every function's timeout and memory are
 *   CentralStack's, synthesized (lib/deployed-limits.ts). Owners (512 MB, 15 minutes a round) runs
 *   beside the Map, as the Parallel state's other branch, with the owner-tag cache the runs before
 *   left in the bucket. The states run as `runWorkflowLocally` (packages/aws/src/pipeline/workflow.ts,
 *   the description the CDK app builds the state machine from) runs them, each invoking its function in
 *   containers here: the Map reads the targets object, cuts it into batches of `batchSize` (ItemBatcher)
 *   with BatchInput { bucket, scanId, contextKey }, and runs as many at once as Discover's
 *   `mapConcurrency` says (MaxConcurrencyPath: the ceiling on the first run, then the fewest that end
 *   within the window at the last run's pace), on warm containers, a new one started only when none is
 *   free. Publish runs with Discover's output; then Enforce with { sweep: <Discover's output, Publish's
 *   at `published`> } (the QuarantineSweep state), under the scan config's `quarantine` (enforce, one
 *   top-level OU notify, one off). Who ends up quarantined, and which forwarding dead-letter queues the
 *   sweep read, are checked against the truth.
 * - The organization is heavy-tailed (`--org uniform` for every account alike): most accounts ~20
 *   users, ~1% with 300–800, some failing (assume-role denied, IAM throttled beyond retries; those must
 *   be reported FAILED, and only those), some without the quarantine deployed.
 * - The second run (`--runs 2`, the default) is the next day's, the steady state: the credential reports
 *   are a day old (IAM generates new ones), the previous report exists (Discover copies it, Publish
 *   streams it for the changes), every hub already holds the findings, and the owner tags read the
 *   day before are in the cache.
 *
 * Writes bench/results/pipeline.json and pipeline.md (at the default size, or with --write).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
for (const k of Object.keys(process.env)) if (k.startsWith("AWS_ENDPOINT_URL")) delete process.env[k];

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type PublishOutput, type RunRef, runWorkflowLocally, type WorkflowSteps } from "@orgmfa/aws";
import { keyUnder, latestKeyPrefix, runKeys, scanKeyPrefix, TOP_FOLDERS } from "@orgmfa/contract";
import {
  type AccountTarget,
  DEFAULT_ENFORCER_ROLE,
  DEFAULT_QUARANTINE_GROUP,
  parseReportJson,
  type QuarantineConfig,
  quarantineModeFor,
  type ScanReport,
} from "@orgmfa/core";
import type { SweepSummary } from "@orgmfa/functions/enforce";
import { buildChatDigest, importAccount, REPORT_FILE_NAMES, sha256Hex } from "@orgmfa/render";
import { build } from "esbuild";
import { num, str } from "./lib/args";
import {
  type Architecture,
  billedSeconds,
  type CostSummary,
  configBill,
  costSection,
  dailyTarget,
  evidenceDays,
  fixedMonthlyBill,
  type Invocation,
  indirectBill,
  type MonthlyQuantities,
  monthlyBill,
  type RunQuantities,
  runBill,
  type Stored,
  scaleRun,
} from "./lib/cost";
import { deployedLimits, WORKFLOW_FUNCTIONS } from "./lib/deployed-limits";
import { htmlOpenSeconds } from "./lib/html-open";
import type { ContainerReady, InvocationReport } from "./lib/lambda-container";
import { heavyTailedOrg, type OrgShape, uniformOrg } from "./lib/org-spec";
import { PRICES } from "./lib/prices";
import { startSimServer } from "./lib/sim-server";
import { checkAgainstSimulation, SimulatedAws, type SimulatedAwsStats } from "./lib/simulated-aws";

const argv = process.argv.slice(2);

// The deployment's defaults (apps/infra/lib/config.ts) and the functions' limits (central-stack.ts).
const DEFAULT_ACCOUNTS = 10_000;
const ACCOUNTS = num("--accounts", DEFAULT_ACCOUNTS);
const USERS = num("--users", 20);
const BATCH_SIZE = num("--batch-size", 10);
/** The Map's ceiling (the deployment's maxConcurrency) and window (mapWindowMinutes): Discover derives the concurrency. */
const MAP_MAX_CONCURRENCY = num("--map-concurrency", 20);
const MAP_WINDOW_MINUTES = num("--map-window-minutes", 15);
const ACCOUNT_CONCURRENCY = num("--account-concurrency", 10);
const RUNS = num("--runs", 2);
const LATENCY_MS = num("--latency-ms", 100);
const REPORT_READY_MS = num("--report-ready-ms", 2000);
const IAM_RATE = num("--iam-rate", 20);
const ORG_RATE = num("--org-rate", 10);
const OWNER_TAG = str("--owner-tag") ?? "owner";
const PROFILE = str("--profile"); // discover | owners | scan-batch | publish | enforce
/** The organization: heavy-tailed (the default: some accounts with hundreds of users, some failing) or uniform. */
const ORG = str("--org") ?? "heavy-tailed";
const PROFILE_DIR = path.join(os.tmpdir(), "orgmfa-profiles");
const WRITE = argv.includes("--write") || ACCOUNTS === DEFAULT_ACCOUNTS;
/** Each function's timeout and memory as the CDK app deploys them (CentralStack, synthesized: lib/deployed-limits.ts). */
const LIMITS = await deployedLimits();
const TIMEOUT_S = Object.fromEntries(WORKFLOW_FUNCTIONS.map((f) => [f, LIMITS[f].timeoutSeconds])) as Record<
  FunctionName,
  number
>;
const MEMORY_OF = Object.fromEntries(WORKFLOW_FUNCTIONS.map((f) => [f, LIMITS[f].memoryMb])) as Record<
  FunctionName,
  number
>;
/** ScanBatch's, Discover's and Publish's memory (the containers' V8 flags below are each function's own). */
const MEMORY_MB = MEMORY_OF["scan-batch"];
const ACCOUNT_TIMEOUT_MS = 5 * 60_000;
type FunctionName = (typeof WORKFLOW_FUNCTIONS)[number];
/** The share of its timeout and of its memory each phase must stay within (issue 21). */
const HEADROOM = 0.5;
/** What the bill depends on in the deployment (the architecture, the bucket key, the lifecycle, the alarms), synthesized. */
const BILLING = await deployedBilling();
/** The issue's target (26, "The bill"): a daily run of 10,000 accounts under this many dollars. */
const DAILY_RUN_TARGET_USD = 0.5;

/**
 * What the cost model (lib/cost.ts) needs that the run does not otherwise keep, in the current run:
 * each function's invocations (wall and CPU time), the execution environments it started (their
 * INIT), the bytes it logged, and the names of the metrics it sent (Powertools' EMF lines).
 */
interface Meter {
  invocations: Record<FunctionName, Invocation[]>;
  initMs: Record<FunctionName, number[]>;
  logBytes: Record<FunctionName, number>;
  metrics: Set<string>;
}
const newMeter = (): Meter => ({
  invocations: Object.fromEntries(WORKFLOW_FUNCTIONS.map((f) => [f, []])) as unknown as Meter["invocations"],
  initMs: Object.fromEntries(WORKFLOW_FUNCTIONS.map((f) => [f, []])) as unknown as Meter["initMs"],
  logBytes: Object.fromEntries(WORKFLOW_FUNCTIONS.map((f) => [f, 0])) as Meter["logBytes"],
  metrics: new Set(),
});
let meter = newMeter();
/** A line a function wrote: its bytes, and the metric names of an EMF line. */
function meterLine(fn: FunctionName, line: string): void {
  meter.logBytes[fn] += Buffer.byteLength(line) + 1;
  if (!line.includes('"CloudWatchMetrics"')) return;
  try {
    const emf = JSON.parse(line) as { _aws?: { CloudWatchMetrics?: Array<{ Metrics?: Array<{ Name?: string }> }> } };
    for (const d of emf._aws?.CloudWatchMetrics ?? [])
      for (const m of d.Metrics ?? []) if (m.Name) meter.metrics.add(m.Name);
  } catch {
    // Not an EMF document after all: its bytes are counted.
  }
}

const REGION = "us-east-1";
const BUCKET = "orgmfa-reports-simulated";
const PREFIX = "orgmfa";
const AUDIT_ROLE = "OrgMfaAuditRole";
const root = fileURLToPath(new URL("..", import.meta.url));
const log = (m: string) => process.stderr.write(`[pipeline] ${m}\n`);
const secs = (ms: number) => Math.round(ms / 10) / 100;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(s.length * p) - 1))] ?? 0;
};

// ---- the simulated organization, and its AWS on loopback ------------------------------------------
// Account 1 is the delegated-administrator (security tooling) account the workflow is deployed to;
// it reaches Organizations through the management account's audit role (ORG_ROLE_ARN), as deployed.
const SCANNER_INDEX = 1;
const scannerAccount = String(100_000_000_000 + SCANNER_INDEX);
const KMS_KEY = `arn:aws:kms:${REGION}:${scannerAccount}:key/00000000-0000-4000-8000-00000000beef`;
const TOPIC = `arn:aws:sns:${REGION}:${scannerAccount}:orgmfa-digest`;
const SHAPE: OrgShape =
  ORG === "uniform" ? uniformOrg(USERS) : heavyTailedOrg({ typical: USERS, neverFail: [0, SCANNER_INDEX] });
const sim = new SimulatedAws({
  accounts: ACCOUNTS,
  usersPerAccount: USERS,
  shape: SHAPE,
  enforcerRoleName: DEFAULT_ENFORCER_ROLE,
  quarantineGroupName: DEFAULT_QUARANTINE_GROUP,
  latencyMs: LATENCY_MS,
  reportReadyMs: REPORT_READY_MS,
  iamRate: IAM_RATE > 0 ? { perSecond: IAM_RATE, burst: IAM_RATE * 2 } : null,
  organizationsRate: ORG_RATE > 0 ? { perSecond: ORG_RATE, burst: ORG_RATE * 2 } : null,
  scannerAccountIndex: SCANNER_INDEX,
  auditRoleName: AUDIT_ROLE,
  buckets: [BUCKET],
  kmsKeyId: KMS_KEY,
  topics: [TOPIC],
  region: REGION,
});
const server = await startSimServer(sim);
/**
 * The scan configuration's quarantine: enforced everywhere but two of the ten top-level OUs (one in
 * `notify`, one `off`), so the sweep reads and changes users in most accounts.
 */
const QUARANTINE: QuarantineConfig = {
  mode: "enforce",
  ous: { [sim.parentOuId(0)]: "notify", [sim.parentOuId(1)]: "off" },
};
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

// ---- the handlers, bundled as NodejsFunction bundles them ------------------------------------------
const work = mkdtempSync(path.join(os.tmpdir(), "orgmfa-pipeline-"));
const tBundle = performance.now();
await build({
  entryPoints: Object.fromEntries(WORKFLOW_FUNCTIONS.map((n) => [n, path.join(root, "apps/functions/src", `${n}.ts`)])),
  outdir: work,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  minify: true,
  sourcemap: true,
  mainFields: ["module", "main"],
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: "warning",
});
await build({
  entryPoints: { "lambda-container": path.join(root, "bench/lib/lambda-container.ts") },
  outdir: work,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
});
log(`bundled the handlers into ${work} in ${secs(performance.now() - tBundle)} s`);

/** What the CDK app sets on every function (central-stack.ts), pointed at the simulation. */
const functionEnv: Record<string, string> = {
  REPORT_BUCKET: BUCKET,
  REPORT_PREFIX: PREFIX,
  AUDIT_ROLE_NAME: AUDIT_ROLE,
  ORG_ROLE_ARN: `arn:aws:iam::${sim.managementAccountId}:role/${AUDIT_ROLE}`,
  KMS_KEY_ID: KMS_KEY,
  DIGEST_TOPIC_ARN: TOPIC,
  SECURITY_HUB: "true",
  SNS_PER_ACCOUNT: "false",
  ACCOUNT_CONCURRENCY: String(ACCOUNT_CONCURRENCY),
  ACCOUNT_TIMEOUT_MS: String(ACCOUNT_TIMEOUT_MS),
  // Discover's (central-stack.ts): what it derives the Map's concurrency from.
  BATCH_SIZE: String(BATCH_SIZE),
  MAP_MAX_CONCURRENCY: String(MAP_MAX_CONCURRENCY),
  MAP_WINDOW_SECONDS: String(MAP_WINDOW_MINUTES * 60),
  ORGMFA_VERSION: "bench",
  POWERTOOLS_SERVICE_NAME: "orgmfa",
  POWERTOOLS_METRICS_NAMESPACE: "orgmfa",
  NODE_OPTIONS: "--enable-source-maps",
};
/** Lambda's Node.js bootstrap for a function of `mb`: new space a tenth, semi-space half of it, the rest old space. */
const lambdaNodeFlags = (mb: number) => [
  "--expose-gc",
  "--max-http-header-size=81920",
  `--max-semi-space-size=${Math.floor(mb / 10 / 2)}`,
  `--max-old-space-size=${mb - Math.floor(mb / 10)}`,
];
const LAMBDA_NODE_FLAGS = lambdaNodeFlags(MEMORY_MB);

interface LogCounts {
  warn: number;
  error: number;
  examples: string[];
}

/** One Lambda execution environment of a function (see lib/lambda-container.ts). */
class Container {
  readonly logs: LogCounts = { warn: 0, error: 0, examples: [] };
  private stderr = "";
  private serial = 0;
  private readonly pending = new Map<number, (r: InvocationReport) => void>();
  initMs = 0;
  exited: string | null = null;

  private constructor(
    readonly fn: FunctionName,
    private readonly child: ChildProcess,
  ) {}

  static async start(fn: FunctionName): Promise<Container> {
    const flags = lambdaNodeFlags(MEMORY_OF[fn]);
    if (PROFILE === fn) flags.push("--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`);
    const child = spawn(process.execPath, [...flags, path.join(work, "lambda-container.mjs")], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        TZ: "UTC",
        LANG: "en_US.UTF-8",
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        AWS_LAMBDA_FUNCTION_NAME: `orgmfa-${fn}`,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(MEMORY_OF[fn]),
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
        AWS_LAMBDA_LOG_FORMAT: "JSON",
        // The function role's credentials (the scanner's account) and the simulated endpoint.
        AWS_ACCESS_KEY_ID: "AKIASIMULATEDLAMBDA",
        AWS_SECRET_ACCESS_KEY: "simulated",
        AWS_SESSION_TOKEN: "simulated-lambda-session",
        AWS_ENDPOINT_URL: server.url,
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ORGMFA_BENCH_HANDLER: path.join(work, `${fn}.mjs`),
        ORGMFA_BENCH_TIMEOUT_MS: String(TIMEOUT_S[fn] * 1000),
        ...functionEnv,
        // Enforce's own (central-stack.ts): the member enforcer role it assumes.
        ...(fn === "enforce" ? { ENFORCER_ROLE_NAME: DEFAULT_ENFORCER_ROLE } : {}),
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const c = new Container(fn, child);
    // Powertools logs JSON lines on stdout: count warnings and errors, keep a few.
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      meterLine(fn, line);
      const level = /"level":"(WARN|ERROR|CRITICAL)"/.exec(line)?.[1];
      if (!level) return;
      if (level === "WARN") c.logs.warn++;
      else c.logs.error++;
      if (c.logs.examples.length < 5) c.logs.examples.push(line.slice(0, 400));
    });
    child.stderr?.on("data", (d: Buffer) => {
      meter.logBytes[fn] += d.length;
      c.stderr = (c.stderr + d.toString()).slice(-4000);
    });
    const ready = new Promise<ContainerReady>((resolve, reject) => {
      child.on("message", (m: ContainerReady | InvocationReport) => {
        if (m.type === "ready") resolve(m);
        else c.settle(m);
      });
      child.on("exit", (code, signal) => {
        c.exited = `exited ${code ?? signal}: ${c.stderr.slice(-1500)}`;
        reject(new Error(`the ${fn} container ${c.exited}`));
        for (const [id, done] of c.pending) done(c.failure(id, "Runtime.ExitError", c.exited));
        c.pending.clear();
      });
    });
    c.initMs = (await ready).initMs;
    meter.initMs[fn].push(c.initMs);
    return c;
  }

  private settle(m: InvocationReport): void {
    this.pending.get(m.id)?.(m);
    this.pending.delete(m.id);
  }

  private failure(id: number, name: string, message: string): InvocationReport {
    return {
      type: "result",
      id,
      ok: false,
      error: { name, message },
      ms: 0,
      cpuMs: 0,
      sampledPeakRssMb: 0,
      maxRssMb: 0,
      heapUsedMb: 0,
    };
  }

  /** One invocation; a container that outlives the function's timeout is killed, as Lambda does. */
  invoke(event: unknown): Promise<InvocationReport & { timedOut: boolean }> {
    const id = ++this.serial;
    const t0 = performance.now();
    const done = new Promise<InvocationReport & { timedOut: boolean }>((resolve) => {
      const timer = setTimeout(
        () => {
          this.pending.delete(id);
          this.child.kill("SIGKILL");
          resolve({
            ...this.failure(id, "Sandbox.Timedout", `Task timed out after ${TIMEOUT_S[this.fn]} seconds`),
            ms: Math.round(performance.now() - t0),
            timedOut: true,
          });
        },
        TIMEOUT_S[this.fn] * 1000 + 1000,
      );
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve({ ...r, timedOut: false });
      });
      this.child.send({ type: "invoke", id, event });
    });
    // Billed as it ran (a timed-out one for its time).
    return done.then((r) => {
      meter.invocations[this.fn].push({ ms: r.ms, cpuMs: r.cpuMs });
      return r;
    });
  }

  async stop(): Promise<void> {
    if (this.exited !== null) return;
    const gone = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await gone;
  }
}

// ---- one run of the workflow ----------------------------------------------------------------------
interface PhaseResult {
  seconds: number;
  timeoutSeconds: number;
  peakRssMb: number;
  /** The highest RSS sampled every 20 ms during the invocation (a cross-check of the high-water mark). */
  sampledPeakRssMb: number;
  memoryMb: number;
  initSeconds: number;
  cpuSeconds: number;
  ok: boolean;
  error: string | null;
  logs: LogCounts;
}

/** What Owners returns (apps/functions/src/owners.ts), each round. */
type OwnersSummary = import("@orgmfa/functions/owners").OwnersSummary;

const diffStats = (a: SimulatedAwsStats, b: SimulatedAwsStats) => ({
  calls: b.calls - a.calls,
  byOperation: Object.fromEntries(
    Object.entries(b.byOperation)
      .map(([op, n]) => [op, n - (a.byOperation[op] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((x, y) => y[1] - x[1]),
  ),
  throttledByService: Object.fromEntries(
    Object.entries(b.throttledByService).map(([s, n]) => [s, n - (a.throttledByService[s] ?? 0)]),
  ),
});

async function single(fn: FunctionName, event: unknown): Promise<{ phase: PhaseResult; value: unknown }> {
  const c = await Container.start(fn);
  const r = await c.invoke(event);
  await c.stop();
  return {
    phase: {
      seconds: secs(r.ms),
      timeoutSeconds: TIMEOUT_S[fn],
      peakRssMb: Math.round(r.maxRssMb),
      sampledPeakRssMb: Math.round(r.sampledPeakRssMb),
      memoryMb: MEMORY_OF[fn],
      initSeconds: secs(c.initMs),
      cpuSeconds: secs(r.cpuMs),
      ok: r.ok,
      error: r.ok ? null : `${r.error?.name}: ${r.error?.message}`,
      logs: c.logs,
    },
    value: r.value ?? null,
  };
}

async function runWorkflow(n: number) {
  log(`run ${n}: ${ACCOUNTS} accounts (${SHAPE.name}), batches of ${BATCH_SIZE}`);
  // A day has passed since the previous run: every credential report is a day old (IAM generates
  // new ones), the findings are in the hubs and the previous report in the bucket.
  if (n > 1) sim.ageCredentialReports(24 * 3600_000);
  sim.resetOperationTimes();
  meter = newMeter();
  const snsBefore = sim.sns.messages.length;
  const statsBefore = sim.stats();
  const hubBefore = sim.securityHub.stats();
  const cpuBefore = process.cpuUsage();
  loopDelay.reset();
  const tStart = performance.now();

  // The workflow as the state machine runs it (SCAN_WORKFLOW, run locally), each state's function in
  // containers of its own: Discover (the schedule's input), the Distributed Map of ScanBatch (ItemReader
  // on the targets object, ItemBatcher, the concurrency Discover derived) beside the rounds of Owners,
  // then Publish, then the quarantine sweep. Each step records what the tables below report.
  const callsBefore = sim.stats().calls;
  let discoverCalls = 0;
  type Invoked = { phase: PhaseResult; value: unknown };
  const rec: { discover?: Invoked; publish?: Invoked; sweep?: Invoked } = {};
  let tDiscover = 0;
  let tMap = 0;
  let tParallel = 0;
  let tagsBefore = 0;
  let tags: ReturnType<typeof sim.operationTimes>;
  let tagCalls = 0;
  let maxBatchEventBytes = 0;
  let batchCount = 0;
  /** Each target's position in the targets object: a batch's number is its first item's. */
  const itemIndex = new Map<AccountTarget, number>();
  const ownerRounds: Array<{ phase: PhaseResult; value: OwnersSummary | null }> = [];
  const invocations: Array<InvocationReport & { timedOut: boolean; batch: number; container: number }> = [];
  const containers: Container[] = [];
  const idle: Container[] = [];
  let beforeSweep = sim.stats();
  const steps: WorkflowSteps = {
    discover: async (event) => {
      const discover = await single("discover", event);
      rec.discover = discover;
      discoverCalls = sim.stats().calls - callsBefore;
      if (!discover.phase.ok) throw new Error(`Discover failed: ${discover.phase.error}`);
      tDiscover = performance.now();
      const ref = discover.value as RunRef;
      log(
        `run ${n}: Discover ${discover.phase.seconds} s, peak RSS ${discover.phase.peakRssMb} MB, ${ref.inScope} in scope, Map concurrency ${ref.mapConcurrency ?? MAP_MAX_CONCURRENCY}`,
      );
      // The Parallel state starts: Owners beside the Map.
      sim.resetOperationTimes();
      tagsBefore = sim.stats().byOperation.ListTagsForResource ?? 0;
      return ref;
    },
    items: async (ref) => {
      const items = JSON.parse(sim.s3.object(BUCKET, ref.targetsKey)?.body.toString("utf8") ?? "null") as unknown[];
      if (!Array.isArray(items)) throw new Error("the targets object is not a JSON array: the ItemReader would fail");
      batchCount = Math.ceil(items.length / BATCH_SIZE);
      const list = items as AccountTarget[];
      for (const [i, t] of list.entries()) itemIndex.set(t, i);
      return list;
    },
    scanBatch: async (event) => {
      maxBatchEventBytes = Math.max(maxBatchEventBytes, Buffer.byteLength(JSON.stringify(event)));
      const c = idle.pop() ?? (await Container.start("scan-batch"));
      if (!containers.includes(c)) containers.push(c);
      const r = await c.invoke(event);
      const first = event.Items[0];
      const batch = first ? Math.floor((itemIndex.get(first) ?? -BATCH_SIZE) / BATCH_SIZE) : -1;
      invocations.push({ ...r, batch, container: containers.indexOf(c) });
      tMap = performance.now();
      if (invocations.length % Math.max(1, Math.floor(batchCount / 10)) === 0)
        log(`run ${n}: ${invocations.length}/${batchCount} batches, ${secs(performance.now() - tDiscover)} s`);
      // A container whose invocation timed out (or that died) is not used again: Lambda starts another.
      if (!r.timedOut && !c.exited) idle.push(c);
      if (!r.ok) throw new Error(`${r.error?.name}: ${r.error?.message}`);
      return r.value;
    },
    owners: async (input) => {
      const o = await single("owners", input);
      const value = o.value as OwnersSummary | null;
      ownerRounds.push({ phase: o.phase, value });
      log(`run ${n}: Owners round ${ownerRounds.length} ${o.phase.seconds} s, ${JSON.stringify(value)}`);
      if (!o.phase.ok) throw new Error(`Owners failed: ${o.phase.error}`);
      return value;
    },
    publish: async (event) => {
      tParallel = performance.now();
      tags = sim.operationTimes("ListTagsForResource");
      tagCalls = (sim.stats().byOperation.ListTagsForResource ?? 0) - tagsBefore;
      await Promise.all(containers.map((c) => c.stop()));
      if (invocations.length)
        log(
          `run ${n}: Map ${secs(tMap - tDiscover)} s, batch max ${secs(Math.max(...invocations.map((i) => i.ms)))} s, ${invocations.filter((i) => !i.ok).length} batches failed`,
        );
      const p = await single("publish", event);
      rec.publish = p;
      log(
        `run ${n}: Publish ${p.phase.seconds} s, peak RSS ${p.phase.peakRssMb} MB${p.phase.ok ? "" : `, ${p.phase.error}`}`,
      );
      // Publish's failure is the execution's: the sweep does not run.
      if (!p.phase.ok) throw new Error(`Publish failed: ${p.phase.error}`);
      beforeSweep = sim.stats();
      sim.resetOperationTimes();
      return p.value as PublishOutput;
    },
    sweep: async (event) => {
      rec.sweep = await single("enforce", event);
      return rec.sweep.value;
    },
  };
  // The Map's tolerated failures: the deployment's default (apps/infra/lib/config.ts).
  const wf = await runWorkflowLocally(
    steps,
    { config: { ownerTag: OWNER_TAG || undefined, quarantine: QUARANTINE } },
    { batchSize: BATCH_SIZE, maxConcurrency: MAP_MAX_CONCURRENCY, toleratedFailurePercentage: 10 },
  ).catch((e: unknown) => {
    // A failed Discover goes to Publish (which then fails the run): the cause is Discover's.
    if (rec.discover && !rec.discover.phase.ok) throw new Error(`Discover failed: ${rec.discover.phase.error}`);
    throw e;
  });
  if (wf.discoveryError) throw new Error(`Discover failed: ${wf.discoveryError.Cause}`);
  const ref = wf.ref as RunRef;
  const mapConcurrency = ref.mapConcurrency ?? MAP_MAX_CONCURRENCY;
  const contextBytes = sim.s3.object(BUCKET, ref.contextKey)?.body.length ?? 0;
  const ledgerBytes = sim.s3.object(BUCKET, `${PREFIX}/runs/${ref.scanId}/ledger.json`)?.body.length ?? 0;
  // Owners answers null without an owner tag: nothing to report then, unless it failed.
  const owners = ownerRounds.some((r) => r.value !== null || !r.phase.ok)
    ? (() => {
        const slowest = ownerRounds.reduce((a, b) => (b.phase.seconds > a.phase.seconds ? b : a));
        const last = ownerRounds.at(-1)?.value ?? null;
        return {
          phase: {
            ...slowest.phase,
            ok: ownerRounds.every((r) => r.phase.ok),
            error: ownerRounds.find((r) => !r.phase.ok)?.phase.error ?? null,
          },
          value: last && {
            ...last,
            read: ownerRounds.reduce((sum, r) => sum + (r.value?.read ?? 0), 0),
            rounds: ownerRounds.length,
            totalSeconds: secs(ownerRounds.reduce((sum, r) => sum + r.phase.seconds * 1000, 0)),
          },
        };
      })()
    : null;
  const batchSeconds = invocations.map((i) => i.ms / 1000);
  const failedBatches = invocations.filter((i) => !i.ok);
  const mapLogs: LogCounts = { warn: 0, error: 0, examples: [] };
  for (const c of containers) {
    mapLogs.warn += c.logs.warn;
    mapLogs.error += c.logs.error;
    mapLogs.examples.push(...c.logs.examples.slice(0, 5 - mapLogs.examples.length));
  }
  const pace = JSON.parse(sim.s3.object(BUCKET, `${PREFIX}/state/pace.json`)?.body.toString("utf8") ?? "null") as {
    scanId: string;
    p90AccountSeconds: number;
  } | null;
  const scanBatch = {
    mapConcurrency,
    /** The pace Discover derived it from (the last run's), or null on the first run. */
    paceFrom: pace && pace.scanId !== ref.scanId ? pace : null,
    batches: batchCount,
    invocations: invocations.length,
    failed: failedBatches.length,
    failedExamples: failedBatches.slice(0, 3).map((i) => `batch ${i.batch}: ${i.error?.name}: ${i.error?.message}`),
    maxSeconds: secs(Math.max(...batchSeconds) * 1000),
    p99Seconds: secs(pct(batchSeconds, 0.99) * 1000),
    medianSeconds: secs(pct(batchSeconds, 0.5) * 1000),
    timeoutSeconds: TIMEOUT_S["scan-batch"],
    peakRssMb: Math.round(Math.max(...invocations.map((i) => i.maxRssMb))),
    sampledPeakRssMb: Math.round(Math.max(...invocations.map((i) => i.sampledPeakRssMb))),
    memoryMb: MEMORY_MB,
    containers: containers.length,
    initSeconds: secs(Math.max(...containers.map((c) => c.initMs))),
    cpuSecondsPerBatch: {
      median: secs(
        pct(
          invocations.map((i) => i.cpuMs),
          0.5,
        ),
      ),
      max: secs(Math.max(...invocations.map((i) => i.cpuMs))),
      total: secs(invocations.reduce((s, i) => s + i.cpuMs, 0)),
    },
    mapSeconds: secs(tMap - tDiscover),
    maxEventBytes: maxBatchEventBytes,
    accountsScanned: invocations.reduce((s, i) => s + ((i.value as { scanned?: number })?.scanned ?? 0), 0),
    accountsFailed: invocations.reduce((s, i) => s + ((i.value as { failed?: number })?.failed ?? 0), 0),
    /** The Map's failure (more failed batches than tolerated), caught as the state machine catches it. */
    mapError: wf.mapError ? String((wf.mapError as Error).message ?? wf.mapError) : null,
    logs: mapLogs,
  };
  log(
    `run ${n}: ScanBatch p99 ${scanBatch.p99Seconds} s, median ${scanBatch.medianSeconds} s, peak RSS ${scanBatch.peakRssMb} MB`,
  );

  const { discover, publish, sweep: sweepRun } = rec;
  if (!discover || !publish || !sweepRun) throw new Error("the workflow ended before Publish and the sweep");
  const sweepCalls = diffStats(beforeSweep, sim.stats());
  const tEnd = performance.now();
  const sweepPhase = sweepRun.phase;
  const sweepSummary = sweepRun.value as SweepSummary | null;
  log(
    `run ${n}: Sweep ${sweepPhase.seconds} s, peak RSS ${sweepPhase.peakRssMb} MB, ${sweepCalls.calls} calls, ${JSON.stringify(sweepSummary)}${sweepPhase.ok ? "" : `, ${sweepPhase.error}`}`,
  );
  const cpuSim = process.cpuUsage(cpuBefore);

  // What the run left behind, read back from the simulated AWS.
  const latest = latestKeyPrefix(PREFIX);
  const reportObject = sim.s3.object(BUCKET, `${latest}report.json`);
  const report: ScanReport = parseReportJson(reportObject?.body.toString("utf8") ?? "");
  if (report.scanId !== ref.scanId) throw new Error(`latest/report.json is scan ${report.scanId}, not ${ref.scanId}`);
  const check = checkAgainstSimulation(report, sim);
  const expectedUsers = sim.expectedUsers();
  const quarantine = checkQuarantine(report);
  // Every owner in the report is the account's tag (the simulation's: team-<index mod 97>), or unknown.
  const ownersInReport = { right: 0, wrong: 0, unknown: 0 };
  for (const a of report.accounts.filter((x) => x.status !== "SKIPPED")) {
    if (a.owner === null) ownersInReport.unknown++;
    else if (a.owner === `team-${sim.accountIndex(a.accountId) % 97}@example.com`) ownersInReport.right++;
    else ownersInReport.wrong++;
  }
  const manifest = JSON.parse(sim.s3.object(BUCKET, `${latest}manifest.json`)?.body.toString("utf8") ?? "{}") as {
    files?: Array<{ name: string; sha256: string; bytes?: number }>;
  };
  const files = (manifest.files ?? []).map((f) => {
    const o = sim.s3.object(BUCKET, `${latest}${f.name}`);
    return {
      name: f.name,
      mb: Math.round(((o?.body.length ?? 0) / 1048576) * 10) / 10,
      intact: !!o && sha256Hex(o.body) === f.sha256,
    };
  });
  // The history the run wrote for queries (docs/history.md): its partitions and bytes.
  const historyKeys = sim.s3.keys(BUCKET, `${PREFIX}/history/`).filter((k) => k.includes(ref.scanId));
  const history = {
    objects: historyKeys.length,
    partitions: [...new Set(historyKeys.map((k) => k.split("/").slice(0, -1).join("/")))],
    mb:
      Math.round((historyKeys.reduce((n, k) => n + (sim.s3.object(BUCKET, k)?.body.length ?? 0), 0) / 1048576) * 100) /
      100,
  };
  // The chat digest this report makes (docs/chat-digest.md), per organization and per OU.
  const chatBytes = (threadBy: "organization" | "ou") =>
    buildChatDigest(report, { reportLocation: `s3://${BUCKET}/${latest}report.html`, threadBy }).map((m) =>
      Buffer.byteLength(m.message),
    );
  const chat = { organization: chatBytes("organization"), ou: chatBytes("ou") };
  const htmlObject = sim.s3.object(BUCKET, `${latest}report.html`);
  const htmlOpen = htmlObject ? await htmlOpenSeconds(htmlObject.body) : { error: "no report.html" };
  const results = sim.s3.keys(BUCKET, `${PREFIX}/runs/${ref.scanId}/results/`).length;
  const open = report.findings.filter((f) => f.status === "OPEN");
  const hub = sim.securityHub.stats();
  const digest = sim.sns.messages.at(-1);
  const stats = diffStats(statsBefore, sim.stats());
  const loop = { p99Ms: Math.round(loopDelay.percentile(99) / 1e6), maxMs: Math.round(loopDelay.max / 1e6) };
  const endToEnd = secs(tEnd - tStart);
  const usage = runUsage({
    report,
    byOperation: stats.byOperation,
    snsMessageBytes: sim.sns.messages.slice(snsBefore).map((m) => Buffer.byteLength(m.message)),
    batches: batchCount,
    ownerRounds: ownerRounds.length,
    endToEndSeconds: endToEnd,
  });
  hubIngestion.set(n, hubIngestionOf(report));
  return {
    run: n,
    scanId: ref.scanId,
    endToEndSeconds: endToEnd,
    discover: {
      ...discover.phase,
      inScope: ref.inScope,
      calls: discoverCalls,
      outputBytes: Buffer.byteLength(JSON.stringify(ref)),
      /** The run context every batch reads, and the ledger of every account only Publish reads. */
      contextKb: Math.round((contextBytes / 1024) * 10) / 10,
      ledgerMb: Math.round((ledgerBytes / 1048576) * 100) / 100,
    },
    owners: owners
      ? {
          ...owners.phase,
          ...(owners.value as (OwnersSummary & { rounds: number; totalSeconds: number }) | null),
          /** ListTagsForResource requests (throttled ones included) and the time from the first to the last. */
          calls: tagCalls,
          callSeconds: tags && tagCalls > 0 ? secs(tags.last - tags.first) : 0,
          inReport: ownersInReport,
        }
      : null,
    parallelSeconds: secs(tParallel - tDiscover),
    scanBatch,
    publish: publish.phase,
    sweep: {
      ...sweepRun.phase,
      summary: sweepSummary,
      calls: sweepCalls.calls,
      byOperation: sweepCalls.byOperation,
      throttledIam: sweepCalls.throttledByService.iam ?? 0,
      quarantine,
    },
    verdicts: {
      users: check.users,
      expectedUsers,
      wrong: check.wrong,
      examples: check.examples,
      /** Accounts not audited that the simulation does not fail (none expected). */
      failedAccounts: check.failed.length,
      failedExamples: check.failed.slice(0, 5),
      /** Accounts the simulation fails (assume-role denied, throttled beyond retries), reported FAILED. */
      failedAsSimulated: check.failedAsSimulated,
      expectedFailed: sim.failingAccounts(),
      identical:
        check.wrong === 0 &&
        check.failed.length === 0 &&
        check.users === expectedUsers &&
        check.failedAsSimulated === sim.failingAccounts(),
    },
    report: {
      accounts: report.accounts.length,
      audited: report.summary.accounts.audited,
      findings: report.findings.length,
      openFindings: open.length,
      resultObjects: results,
      files,
      filesIntact: files.length === REPORT_FILE_NAMES.length && files.every((f) => f.intact),
      /** The history's objects of this scan, their partitions (one per table and day) and size. */
      history,
      /** The chat digest's messages, in bytes (SNS: 262,144), threaded by organization and by OU. */
      chat: {
        organizationBytes: chat.organization,
        ouMessages: chat.ou.length,
        largestOuBytes: Math.max(0, ...chat.ou),
      },
      /** report.html opened in headless Chromium: seconds to load and lay out, or why not. */
      htmlOpen,
      htmlMb: Math.round(((htmlObject?.body.length ?? 0) / 1048576) * 100) / 100,
      warnings: (report.warnings ?? []).map((w) => `${w.field}: ${w.message.slice(0, 160)}`),
      changes: report.changes ? { new: report.changes.new.length, resolved: report.changes.resolved.length } : null,
    },
    securityHub: {
      importCalls: hub.importCalls - hubBefore.importCalls,
      findingsImported: hub.findingsImported - hubBefore.findingsImported,
      findingsRefused: hub.findingsRefused - hubBefore.findingsRefused,
      refusedExamples: hub.refusedExamples,
      getFindingsCalls: hub.getFindingsCalls - hubBefore.getFindingsCalls,
      activeInHubs: hub.activeFindings,
      openInReport: open.length,
      hubsMatchReport: hub.activeFindings === open.length,
      throttled: {
        GetFindings: (hub.throttled.GetFindings ?? 0) - (hubBefore.throttled.GetFindings ?? 0),
        BatchImportFindings: (hub.throttled.BatchImportFindings ?? 0) - (hubBefore.throttled.BatchImportFindings ?? 0),
      },
    },
    sns: {
      messages: sim.sns.messages.length,
      refused: sim.sns.refused,
      refusedExamples: sim.sns.refusedExamples,
      digestSubject: digest?.subject ?? null,
      digestBytes: digest ? Buffer.byteLength(digest.message) : 0,
    },
    calls: stats,
    simulator: {
      cpuSeconds: secs((cpuSim.user + cpuSim.system) / 1000),
      eventLoopDelay: loop,
      serverFailures: server.failures(),
    },
    /** What the run used, as lib/cost.ts prices it. */
    usage,
  };
}

/**
 * Who is quarantined after the sweep against the truth: in every account the report audited, the
 * console users without MFA where the account's mode is `enforce` and the quarantine is deployed;
 * nobody elsewhere (`notify` reports, `off` lets out, not deployed cannot be changed). And the
 * forwarding dead-letter queues the sweep should have read: every audited account's where the mode is
 * not `off` — empty where the quarantine (and so the queue) is deployed, unreadable elsewhere.
 */
function checkQuarantine(report: ScanReport) {
  const forwarding = { read: 0, unread: 0 };
  let expected = 0;
  let quarantined = 0;
  let wrong = 0;
  const examples: string[] = [];
  const modes = { enforce: 0, notify: 0, off: 0 };
  let notDeployed = 0;
  for (const a of report.accounts) {
    const mode = quarantineModeFor(QUARANTINE, a.accountId, sim.ouPath(a.accountId));
    modes[mode]++;
    if (a.status === "AUDITED" && mode !== "off") {
      if (sim.quarantineDeployed(a.accountId) && sim.sqs.queueExists(a.accountId)) forwarding.read++;
      else forwarding.unread++;
    }
    if (!sim.quarantineDeployed(a.accountId)) notDeployed++;
    const want =
      a.status === "AUDITED" && mode === "enforce" && sim.quarantineDeployed(a.accountId)
        ? sim
            .users(a.accountId)
            .filter((u) => u.kind === "consoleNoMfa")
            .map((u) => u.name)
        : [];
    const got = sim.quarantinedUsers(a.accountId);
    expected += want.length;
    quarantined += got.length;
    if (want.join() !== got.join()) {
      wrong++;
      if (examples.length < 5)
        examples.push(`${a.accountId} (${mode}): ${got.length} quarantined, expected ${want.length}`);
    }
  }
  return { expected, quarantined, wrongAccounts: wrong, examples, accountsByMode: modes, notDeployed, forwarding };
}

// ---- what the bill is made of (lib/cost.ts) -------------------------------------------------------
/** S3 operations as S3 prices them: PUT, COPY, POST and LIST at one rate, GET and the rest at another. */
const S3_PUT_CLASS = new Set([
  "PutObject",
  "CopyObject",
  "CreateMultipartUpload",
  "UploadPart",
  "UploadPartCopy",
  "CompleteMultipartUpload",
  "ListObjectsV2",
  "ListObjects",
  "ListObjectVersions",
  "PutObjectRetention",
]);
const S3_GET_CLASS = new Set(["GetObject", "HeadObject", "GetObjectRetention"]);
const STS_OPS = new Set(["AssumeRole", "GetCallerIdentity"]);
const ORGANIZATIONS_OPS = new Set([
  "DescribeOrganization",
  "ListRoots",
  "ListOrganizationalUnitsForParent",
  "ListAccountsForParent",
  "ListAccounts",
  "ListParents",
  "ListTagsForResource",
  "ListOrganizationsFeatures",
  "DescribeAccount",
]);
const SECURITY_HUB_OPS = new Set(["GetFindings", "BatchImportFindings"]);
const SQS_OPS = new Set(["GetQueueAttributes", "GetQueueUrl"]);
const SNS_OPS = new Set(["Publish"]);

/** Each run's findings per hub in a month (for Security Hub's free tier per account), kept out of the JSON. */
const hubIngestion = new Map<number, number[]>();

/**
 * Finding ingestion events each hub has from orgmfa in a month, in the steady state: every finding of
 * the report is imported into its account's hub (ACCOUNT_NOT_AUDITED into the scanning account's) when
 * new and again when unchanged for 30 days — once a month — and again when it changes (none changed in
 * the steady-state run). One entry per in-scope account.
 */
function hubIngestionOf(report: ScanReport): number[] {
  const ctx = { region: REGION, scanningAccountId: scannerAccount };
  const byHub = new Map<string, number>(report.accounts.map((a) => [a.accountId, 0]));
  for (const f of report.findings) {
    const at = importAccount(f, ctx);
    byHub.set(at, (byHub.get(at) ?? 0) + 1);
  }
  return [...byHub.values()];
}

/** One run's quantities for lib/cost.ts: the functions as metered, S3 by operation and what the run left stored. */
function runUsage(o: {
  report: ScanReport;
  byOperation: Record<string, number>;
  snsMessageBytes: number[];
  batches: number;
  ownerRounds: number;
  endToEndSeconds: number;
}): RunQuantities {
  const ops = Object.entries(o.byOperation);
  const count = (set: Set<string>) => ops.filter(([op]) => set.has(op)).reduce((n, [, k]) => n + k, 0);
  const notIam = [S3_PUT_CLASS, S3_GET_CLASS, STS_OPS, ORGANIZATIONS_OPS, SECURITY_HUB_OPS, SQS_OPS, SNS_OPS];
  const under = (prefix: string) => {
    const keys = sim.s3.keys(BUCKET, prefix);
    return { bytes: keys.reduce((n, k) => n + (sim.s3.object(BUCKET, k)?.body.length ?? 0), 0), objects: keys.length };
  };
  const b = BILLING;
  const stored: Stored[] = [
    {
      what: "scans/ (the evidence, locked)",
      ...under(scanKeyPrefix(PREFIX, o.report)),
      objectPerAccount: false,
      ...evidenceDays(b.evidenceRetentionDays, b.transitionToIaDays),
    },
    // Replaced by the next day's copy, then kept as a past version.
    {
      what: "latest/ (its copy)",
      ...under(latestKeyPrefix(PREFIX)),
      objectPerAccount: false,
      standardDays: 1 + b.latestNoncurrentDays,
    },
    {
      what: "runs/ (the run's state)",
      ...under(runKeys(PREFIX, o.report.scanId).base),
      objectPerAccount: true,
      standardDays: b.runsExpirationDays + b.runsNoncurrentDays,
    },
    {
      what: "state/",
      ...under(keyUnder(PREFIX, TOP_FOLDERS.state)),
      objectPerAccount: false,
      standardDays: 1 + b.stateNoncurrentDays,
    },
  ];
  return {
    accounts: ACCOUNTS,
    basis: "measured",
    architecture: b.architecture,
    lambda: WORKFLOW_FUNCTIONS.map((fn) => ({
      fn,
      memoryMb: MEMORY_OF[fn],
      invocations: meter.invocations[fn].length,
      seconds: billedSeconds(meter.invocations[fn], MEMORY_OF[fn]),
      environments: meter.initMs[fn].length,
      initSeconds: meter.initMs[fn].reduce((x, y) => x + y, 0) / 1000,
      logBytes: meter.logBytes[fn],
    })),
    workflow: { batches: o.batches, ownerRounds: o.ownerRounds, ownerTag: !!OWNER_TAG, sweep: true, retries: 0 },
    s3: {
      putRequests: count(S3_PUT_CLASS),
      getRequests: count(S3_GET_CLASS) + 1, // + the Map's ItemReader, which the bench reads in process
      stored,
      accessLogDays: b.accessLogDays,
      bucketKey: b.bucketKey,
    },
    encryptedLogGroups: b.encryptedLogGroups,
    snsMessageBytes: o.snsMessageBytes,
    emailSubscribers: b.emailSubscriptions,
    sqsRequests: count(SQS_OPS),
    logRetentionDays: b.logRetentionDays,
    customMetrics: meter.metrics.size,
    // A run shorter than an hour can send metrics in two clock hours.
    metricHours: Math.ceil(o.endToEndSeconds / 3600) + 1,
    schedulerInvocations: 1,
    freeRequests: {
      sts: count(STS_OPS),
      iam: ops.filter(([op]) => !notIam.some((set) => set.has(op))).reduce((n, [, k]) => n + k, 0),
      organizations: count(ORGANIZATIONS_OPS),
      securityHubApi: count(SECURITY_HUB_OPS),
    },
  };
}

/** Calls CloudTrail logs as management events (S3 object operations and SNS Publish are data events). */
const managementEvents = (byOperation: Record<string, number>) =>
  Object.entries(byOperation)
    .filter(([op]) => !S3_PUT_CLASS.has(op) && !S3_GET_CLASS.has(op) && !SNS_OPS.has(op))
    .reduce((n, [, k]) => n + k, 0);

/**
 * What the bill depends on in the deployment, read off CentralStack synthesized as lib/deployed-limits.ts
 * synthesizes it (the example config, the quarantine on): never restated here.
 */
async function deployedBilling() {
  const infra = await import("@orgmfa/infra");
  const { Template } = await import("aws-cdk-lib/assertions");
  const example = JSON.parse(readFileSync(path.join(infra.REPO_ROOT, "apps/infra/orgmfa.config.example.json"), "utf8"));
  const config = infra.parseDeploymentConfig({ ...example, quarantine: true }, "the example config");
  const outdir = mkdtempSync(path.join(os.tmpdir(), "orgmfa-bench-cdk-"));
  try {
    const built = infra.buildApp(config, { outdir, context: { "aws:cdk:bundling-stacks": [] } });
    const t = Template.fromStack(built.central);
    type Props = Record<string, unknown> & { Properties?: Record<string, unknown> };
    const resources = (type: string) => Object.entries(t.findResources(type) as Record<string, Props>);
    const workflowFns = resources("AWS::Lambda::Function").filter(([id]) =>
      WORKFLOW_FUNCTIONS.some((f) => new RegExp(`^${f.replace(/-/g, "")}[A-F0-9]{8}$`).test(id)),
    );
    const architectures = new Set(
      workflowFns.map(
        ([, f]) => ((f.Properties?.Architectures as string[] | undefined)?.[0] ?? "x86_64") as Architecture,
      ),
    );
    if (architectures.size !== 1)
      throw new Error(`the workflow's functions run on ${[...architectures].join(" and ")}`);
    type Rule = {
      Id?: string;
      ExpirationInDays?: number;
      NoncurrentVersionExpiration?: { NoncurrentDays?: number };
      Transitions?: Array<{ StorageClass: string; TransitionInDays: number }>;
    };
    const buckets = resources("AWS::S3::Bucket").map(([, r]) => r.Properties ?? {});
    const reports = buckets.find((p) => p.ObjectLockEnabled === true);
    const rules = buckets.flatMap(
      (p) => ((p.LifecycleConfiguration as { Rules?: Rule[] } | undefined)?.Rules ?? []) as Rule[],
    );
    const rule = (id: string) => {
      const r = rules.find((x) => x.Id === id);
      if (!r) throw new Error(`CentralStack's buckets have no lifecycle rule ${id}`);
      return r;
    };
    const encryption = (
      reports?.BucketEncryption as { ServerSideEncryptionConfiguration?: Array<Record<string, unknown>> }
    )?.ServerSideEncryptionConfiguration?.[0];
    const alarms = resources("AWS::CloudWatch::Alarm").map(([, a]) => a.Properties ?? {});
    const logGroups = resources("AWS::Logs::LogGroup").map(([, l]) => l.Properties ?? {});
    const keys = resources("AWS::KMS::Key").map(([, k]) => k.Properties ?? {});
    const days = (n: number | undefined, what: string) => {
      if (n === undefined) throw new Error(`CentralStack has no ${what}`);
      return n;
    };
    return {
      architecture: [...architectures][0] as Architecture,
      bucketKey: encryption?.BucketKeyEnabled === true,
      evidenceRetentionDays: config.evidenceRetentionDays,
      transitionToIaDays: days(
        rule("reports-to-cheaper-storage").Transitions?.find((x) => x.StorageClass === "STANDARD_IA")?.TransitionInDays,
        "transition of scans/ to Standard-IA",
      ),
      latestNoncurrentDays: days(
        rule("expire-past-latest").NoncurrentVersionExpiration?.NoncurrentDays,
        "latest/ expiry",
      ),
      runsExpirationDays: days(rule("expire-run-state").ExpirationInDays, "runs/ expiry"),
      runsNoncurrentDays: days(rule("expire-run-state").NoncurrentVersionExpiration?.NoncurrentDays, "runs/ expiry"),
      stateNoncurrentDays: days(rule("expire-past-state").NoncurrentVersionExpiration?.NoncurrentDays, "state/ expiry"),
      accessLogDays: days(rule("expire-access-logs").ExpirationInDays, "access-log expiry"),
      // An alarm on a metric-math expression is billed for each metric in it.
      alarms: alarms.length,
      alarmMetrics: alarms.reduce(
        (n, a) =>
          n + (Array.isArray(a.Metrics) ? a.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).length : 1),
        0,
      ),
      logRetentionDays: Math.max(...logGroups.map((l) => Number(l.RetentionInDays ?? 0))),
      // The functions' and the state machine's (not the deploy-time config writer's).
      encryptedLogGroups: workflowFns.length + 1,
      // Each key-month, and with rotation the first two rotations' $1 each: the steady state from the third year.
      kmsKeyMonths: keys.reduce((n, k) => n + (k.EnableKeyRotation === true ? 3 : 1), 0),
      kmsKeys: keys.length,
      emailSubscriptions: resources("AWS::SNS::Subscription").filter(([, s]) => s.Properties?.Protocol === "email")
        .length,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

type Run = Awaited<ReturnType<typeof runWorkflow>>;
const runs: Run[] = [];
const tAll = performance.now();
try {
  for (let n = 1; n <= RUNS; n++) runs.push(await runWorkflow(n));
} finally {
  await server.close();
  if (PROFILE) log(`CPU profiles of ${PROFILE} in ${PROFILE_DIR}; the bundles (and their source maps) stay in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

// ---- results ------------------------------------------------------------------------------------
const worst = <T>(pick: (r: Run) => T, by: (x: T) => number): T =>
  runs.map(pick).reduce((a, b) => (by(b) > by(a) ? b : a));
const discover = worst(
  (r) => r.discover,
  (d) => d.seconds,
);
const discoverRss = Math.max(...runs.map((r) => r.discover.peakRssMb));
const scanBatch = worst(
  (r) => r.scanBatch,
  (s) => s.maxSeconds,
);
const publish = worst(
  (r) => r.publish,
  (p) => p.seconds,
);
const publishRss = Math.max(...runs.map((r) => r.publish.peakRssMb));
const ownerRuns = runs.flatMap((r) => (r.owners ? [r.owners] : []));
const ownersRss = Math.max(0, ...ownerRuns.map((o) => o.peakRssMb));
const ownersSeconds = Math.max(0, ...ownerRuns.map((o) => o.seconds));
const sweep = worst(
  (r) => r.sweep,
  (x) => x.seconds,
);
const sweepRss = Math.max(...runs.map((r) => r.sweep.peakRssMb));
/** The sweep's CPU seconds at the CPU share Lambda gives its memory (1,769 MB: one vCPU). */
const sweepOnLambda = Math.round(sweep.cpuSeconds / (MEMORY_OF.enforce / 1769));
const s3 = sim.s3.stats();
const verdictsIdentical = runs.every((r) => r.verdicts.identical);
const orgCounts = sim.userCounts();
/** Each phase's worst time and memory against its limits (ScanBatch: its slowest batch). */
const phases: Array<{ phase: string; fn: FunctionName; seconds: number; peakRssMb: number }> = [
  { phase: "Discover", fn: "discover", seconds: discover.seconds, peakRssMb: discoverRss },
  ...(ownerRuns.length
    ? [{ phase: "Owners", fn: "owners" as const, seconds: ownersSeconds, peakRssMb: ownersRss }]
    : []),
  {
    phase: "ScanBatch",
    fn: "scan-batch",
    seconds: scanBatch.maxSeconds,
    peakRssMb: Math.max(...runs.map((r) => r.scanBatch.peakRssMb)),
  },
  { phase: "Publish", fn: "publish", seconds: publish.seconds, peakRssMb: publishRss },
  { phase: "QuarantineSweep (Enforce)", fn: "enforce", seconds: sweep.seconds, peakRssMb: sweepRss },
];
const ratio = (x: number, of: number) => Math.round((x / of) * 100);
const phaseLimits = phases.map((p) => ({
  ...p,
  timeoutSeconds: TIMEOUT_S[p.fn],
  memoryMb: MEMORY_OF[p.fn],
  timePct: ratio(p.seconds, TIMEOUT_S[p.fn]),
  memoryPct: ratio(p.peakRssMb, MEMORY_OF[p.fn]),
  withinHeadroom: p.seconds <= TIMEOUT_S[p.fn] * HEADROOM && p.peakRssMb <= MEMORY_OF[p.fn] * HEADROOM,
}));
// ---- the bill (lib/cost.ts at lib/prices.ts) ------------------------------------------------------
// The daily run is the steady state (the last run); the first run's bill is a one-off. A size the bench
// ran is measured; another is scaled from it per account (lib/cost.ts scaleRun).
const steadyRun = runs.at(-1) as Run;
const steadyMonth: MonthlyQuantities = {
  runs: 30,
  securityHubIngestionPerAccount: hubIngestion.get(steadyRun.run) ?? [],
  otherIngestionPerAccount: 0,
  alarmMetrics: BILLING.alarmMetrics,
  kmsKeyMonths: BILLING.kmsKeyMonths,
};
/**
 * Tags Owners reads at another size: as many as the accounts, at most what one round reads in its
 * time (half its timeout, less 30 s, at the pace measured) — the steady state needs one round.
 */
function ownersReadAt(accounts: number): { measured: number; scaled: number } {
  const measured = steadyRun.owners?.read ?? 0;
  const seconds = steadyRun.owners?.totalSeconds ?? 0;
  const perRound = seconds > 0 ? Math.floor((measured / seconds) * (TIMEOUT_S.owners / 2 - 30)) : measured;
  return { measured, scaled: Math.min(accounts, measured < ACCOUNTS ? measured : perRound) };
}
function usageAt(accounts: number): { run: RunQuantities; month: MonthlyQuantities; measured: boolean } {
  if (accounts === ACCOUNTS) return { run: steadyRun.usage, month: steadyMonth, measured: true };
  return { ...scaleRun(steadyRun.usage, steadyMonth, accounts, ownersReadAt(accounts)), measured: false };
}
/** The same org shape's users per account, for AWS Config's evaluations at `accounts`. */
const usersPerAccount = (accounts: number) => Array.from({ length: accounts }, (_, i) => SHAPE.users(i));
const costSummary: CostSummary = {
  prices: { asOf: PRICES.asOf, region: PRICES.region },
  deployment: BILLING,
  targetUsd: DAILY_RUN_TARGET_USD,
  measuredAccounts: ACCOUNTS,
  steady: {
    run: steadyRun.run,
    lambda: steadyRun.usage.lambda,
    customMetrics: steadyRun.usage.customMetrics,
    metricHours: steadyRun.usage.metricHours,
  },
  bySize: [1_000, 10_000].map((accounts) => {
    const u = usageAt(accounts);
    const hubUsedUp = { ...u.month, otherIngestionPerAccount: PRICES.securityHub.freeIngestionPerAccountMonth };
    const config = configBill(usersPerAccount(accounts));
    const events = (managementEvents(steadyRun.calls.byOperation) * accounts) / ACCOUNTS;
    return {
      accounts,
      basis: u.run.basis,
      measured: u.measured,
      run: runBill(u.run, u.month),
      monthUsd: monthlyBill(u.run, u.month).usd,
      monthWithFreeTierUsd: monthlyBill(u.run, u.month, PRICES, { freeTier: true }).usd,
      monthSecurityHubFreeTierUsedUpUsd: monthlyBill(u.run, hubUsedUp).usd,
      configMonthUsd: config.usd,
      configPerAccountTiersMonthUsd: configBill(usersPerAccount(accounts), { tierScope: "account" }).usd,
      configEvaluations: config.lines.reduce((n, l) => n + l.quantity, 0),
      managementEvents: events,
      indirect: indirectBill(events),
    };
  }),
  fixedMonthly: fixedMonthlyBill(steadyMonth),
  firstRun:
    runs.length > 1
      ? { usd: runBill((runs[0] as Run).usage, steadyMonth).usd, ownerRounds: (runs[0] as Run).owners?.rounds ?? 0 }
      : null,
};
const daily = dailyTarget(costSummary);

const targets = [
  { target: "Discover ≤ 60 s", measured: `${discover.seconds} s`, met: discover.seconds <= 60 },
  {
    target: "every ScanBatch ≤ 50% of its 900 s timeout",
    measured: `max ${scanBatch.maxSeconds} s (p99 ${scanBatch.p99Seconds} s)`,
    met: runs.every((r) => r.scanBatch.maxSeconds <= 450 && r.scanBatch.failed === 0),
  },
  { target: "Publish ≤ 5 minutes", measured: `${publish.seconds} s`, met: runs.every((r) => r.publish.seconds <= 300) },
  {
    target: "report.html < 10 MB and open in headless Chromium within 5 s",
    measured: runs
      .map(
        (r) =>
          `run ${r.run}: ${r.report.htmlMb} MB, ${"seconds" in r.report.htmlOpen ? `${r.report.htmlOpen.seconds} s` : `not opened (${r.report.htmlOpen.error})`}`,
      )
      .join("; "),
    met: runs.every((r) => r.report.htmlMb < 10 && "seconds" in r.report.htmlOpen && r.report.htmlOpen.seconds <= 5),
  },
  {
    target: "Publish ≤ 50% of its 1024 MB",
    measured: `peak RSS ${publishRss} MB`,
    met: publishRss <= MEMORY_MB / 2,
  },
  {
    target: "every phase within its Lambda limits (timeout, memory)",
    measured: phaseLimits.map((p) => `${p.phase} ${p.seconds} s / ${p.peakRssMb} MB`).join(", "),
    met:
      runs.every(
        (r) =>
          r.discover.ok &&
          r.publish.ok &&
          r.sweep.ok &&
          r.scanBatch.failed === 0 &&
          (!r.owners || (r.owners.ok && r.owners.peakRssMb < MEMORY_OF.owners)),
      ) && phaseLimits.every((p) => p.seconds < p.timeoutSeconds && p.peakRssMb < p.memoryMb),
  },
  ...phaseLimits.map((p) => ({
    target: `${p.phase} ≤ ${HEADROOM * 100}% of its ${p.timeoutSeconds} s timeout and ${p.memoryMb} MB`,
    measured: `${p.seconds} s (${p.timePct}%), peak RSS ${p.peakRssMb} MB (${p.memoryPct}%)`,
    met: p.withinHeadroom,
  })),
  {
    target: `QuarantineSweep's CPU at Lambda's share for ${MEMORY_OF.enforce} MB ≤ ${HEADROOM * 100}% of its timeout (it is CPU-bound)`,
    measured: `${sweep.cpuSeconds} s of CPU → ~${sweepOnLambda} s (${ratio(sweepOnLambda, TIMEOUT_S.enforce)}%)`,
    met: sweepOnLambda <= TIMEOUT_S.enforce * HEADROOM,
  },
  {
    target: "quarantine after the sweep as the truth: every console user without MFA where enforced, nobody elsewhere",
    measured: runs
      .map(
        (r) =>
          `run ${r.run}: ${r.sweep.quarantine.quarantined} quarantined of ${r.sweep.quarantine.expected} expected, ${r.sweep.quarantine.wrongAccounts} accounts wrong`,
      )
      .join("; "),
    met: runs.every(
      (r) =>
        r.sweep.ok &&
        r.sweep.quarantine.wrongAccounts === 0 &&
        r.sweep.quarantine.expected === r.sweep.quarantine.quarantined,
    ),
  },
  {
    target:
      "forwarding: every dead-letter queue the sweep could read is empty, and it could read every audited account's where the quarantine is deployed (mode not off)",
    measured: runs
      .map(
        (r) =>
          `run ${r.run}: ${JSON.stringify(r.sweep.summary?.forwarding ?? null)}, expected ${r.sweep.quarantine.forwarding.unread} unread of ${r.sweep.quarantine.forwarding.read + r.sweep.quarantine.forwarding.unread}`,
      )
      .join("; "),
    met: runs.every(
      (r) =>
        r.sweep.summary?.forwarding?.eventsNotForwarded === 0 &&
        r.sweep.summary.forwarding.accountsNotForwarding === 0 &&
        r.sweep.summary.forwarding.accountsUnread === r.sweep.quarantine.forwarding.unread &&
        (r.sweep.byOperation.GetQueueAttributes ?? 0) === r.sweep.quarantine.forwarding.read,
    ),
  },
  ...(OWNER_TAG
    ? [
        {
          target: "owners: none wrong; every in-scope account's owner known from the second run on",
          measured: runs
            .map(
              (r) =>
                `run ${r.run}: ${r.owners?.inReport.right ?? 0} right, ${r.owners?.inReport.wrong ?? 0} wrong, ${r.owners?.inReport.unknown ?? 0} unknown`,
            )
            .join("; "),
          met: runs.every(
            (r) => !!r.owners && r.owners.inReport.wrong === 0 && (r.run === 1 || r.owners.inReport.unknown === 0),
          ),
        },
      ]
    : []),
  { target: daily.target, measured: daily.measured, met: daily.met },
  {
    target: "verdicts identical to the simulation's truth",
    measured: runs
      .map((r) => `${r.verdicts.wrong} wrong, ${r.verdicts.failedAccounts} failed of ${r.verdicts.users} users`)
      .join("; "),
    met: verdictsIdentical,
  },
  {
    target: "the accounts the simulation fails reported FAILED, and only those",
    measured: runs
      .map(
        (r) =>
          `run ${r.run}: ${r.verdicts.failedAsSimulated} of ${r.verdicts.expectedFailed} FAILED, ${r.verdicts.failedAccounts} others not audited`,
      )
      .join("; "),
    met: runs.every(
      (r) => r.verdicts.failedAsSimulated === r.verdicts.expectedFailed && r.verdicts.failedAccounts === 0,
    ),
  },
];
const json = {
  accounts: ACCOUNTS,
  /** The typical account's users (the heavy-tailed organization's centre). */
  usersPerAccount: USERS,
  organization: {
    shape: SHAPE.name,
    users: orgCounts.users,
    heavyAccounts: orgCounts.heavyAccounts,
    maxUsersInAnAccount: orgCounts.maxUsers,
    failingAccounts: sim.failingAccounts(),
    quarantine: QUARANTINE,
  },
  /** Each phase's worst time and peak RSS against its deployed timeout and memory (central-stack.ts). */
  limits: phaseLimits,
  /** The steady state's (the last run's): derived by Discover from the run before it. */
  mapConcurrency: runs.at(-1)?.scanBatch.mapConcurrency ?? MAP_MAX_CONCURRENCY,
  endToEndSeconds: Math.max(...runs.map((r) => r.endToEndSeconds)),
  discover: {
    seconds: discover.seconds,
    timeoutSeconds: TIMEOUT_S.discover,
    peakRssMb: discoverRss,
    memoryMb: MEMORY_OF.discover,
  },
  owners: ownerRuns.length
    ? {
        seconds: ownersSeconds,
        timeoutSeconds: TIMEOUT_S.owners,
        peakRssMb: ownersRss,
        memoryMb: MEMORY_OF.owners,
        runs: ownerRuns.map((o) => ({ read: o.read, fromCache: o.fromCache, unread: o.unread, inReport: o.inReport })),
      }
    : null,
  scanBatch: {
    batches: scanBatch.batches,
    maxSeconds: scanBatch.maxSeconds,
    p99Seconds: scanBatch.p99Seconds,
    timeoutSeconds: TIMEOUT_S["scan-batch"],
    peakRssMb: Math.max(...runs.map((r) => r.scanBatch.peakRssMb)),
    memoryMb: MEMORY_MB,
  },
  publish: {
    seconds: publish.seconds,
    timeoutSeconds: TIMEOUT_S.publish,
    peakRssMb: publishRss,
    memoryMb: MEMORY_OF.publish,
  },
  sweep: {
    seconds: sweep.seconds,
    timeoutSeconds: TIMEOUT_S.enforce,
    peakRssMb: sweepRss,
    memoryMb: MEMORY_OF.enforce,
    calls: Math.max(...runs.map((r) => r.sweep.calls)),
    cpuSeconds: sweep.cpuSeconds,
    /** Its CPU seconds at Lambda's CPU share for its memory: the time it would take there, at least. */
    secondsAtLambdaCpuShare: sweepOnLambda,
  },
  verdictsIdentical,
  targets,
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
  workflow: {
    batchSize: BATCH_SIZE,
    mapConcurrency: {
      ceiling: MAP_MAX_CONCURRENCY,
      windowMinutes: MAP_WINDOW_MINUTES,
      byRun: runs.map((r) => r.scanBatch.mapConcurrency),
    },
    accountConcurrency: ACCOUNT_CONCURRENCY,
    accountTimeoutMs: ACCOUNT_TIMEOUT_MS,
    memoryMb: MEMORY_MB,
    lambdaNodeFlags: LAMBDA_NODE_FLAGS,
    nodeOptions: functionEnv.NODE_OPTIONS,
    ownerTag: OWNER_TAG || null,
    scannerAccount,
  },
  simulation: {
    latencyMs: LATENCY_MS,
    reportReadyMs: REPORT_READY_MS,
    iamRate: IAM_RATE > 0 ? { perSecond: IAM_RATE, burst: IAM_RATE * 2 } : null,
    organizationsRate: ORG_RATE > 0 ? { perSecond: ORG_RATE, burst: ORG_RATE * 2 } : null,
    securityHubRates: { GetFindings: { perSecond: 3, burst: 6 }, BatchImportFindings: { perSecond: 10, burst: 30 } },
    s3: {
      objects: s3.objects,
      mb: Math.round(s3.bytes / 1048576),
      largestObjectMb: Math.round(s3.largestObjectBytes / 1048576),
      multipartUploads: s3.multipartUploads,
      parts: s3.parts,
      withoutKms: s3.withoutKms,
      otherKmsKey: s3.otherKmsKey,
    },
  },
  /** The bill (lib/cost.ts) at the list prices of lib/prices.ts: a daily run and a month, at 1,000 and 10,000 accounts. */
  cost: { ...costSummary, target: daily },
  runs,
  seconds: secs(performance.now() - tAll),
};
process.stdout.write(`${JSON.stringify(json)}\n`);
if (WRITE) {
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/pipeline.json", import.meta.url), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(new URL("./results/pipeline.md", import.meta.url), markdown());
  log("wrote bench/results/pipeline.json and pipeline.md");
}

function markdown(): string {
  const maxContainers = Math.max(...runs.map((r) => r.scanBatch.containers));
  const yes = (b: boolean) => (b ? "yes" : "**no**");
  const ops = (r: Run) =>
    Object.entries(r.calls.byOperation)
      .map(([op, n]) => `${op} ${n}`)
      .join(", ");
  const runRow = (r: Run) =>
    `| ${r.run} | ${r.endToEndSeconds} | ${r.discover.seconds} (${r.discover.peakRssMb} MB) | ${r.owners ? `${r.owners.seconds} (${r.owners.peakRssMb} MB)` : "–"} | ${r.scanBatch.mapConcurrency} | ${r.scanBatch.mapSeconds} | ${r.scanBatch.maxSeconds} / ${r.scanBatch.p99Seconds} / ${r.scanBatch.medianSeconds} (${r.scanBatch.peakRssMb} MB) | ${r.publish.seconds} (${r.publish.peakRssMb} MB) | ${r.sweep.seconds} (${r.sweep.peakRssMb} MB) | ${r.verdicts.identical ? "identical" : `${r.verdicts.wrong} wrong, ${r.verdicts.failedAccounts} failed`} |`;
  return `# Workflow benchmark (simulated AWS)

\`npm run bench -- --pipeline\` on ${json.date.slice(0, 10)}, Node ${process.version}, ${os.cpus().length} CPUs. The deployed workflow —
Discover → Parallel(Distributed Map of ScanBatch, Owners) → Publish → QuarantineSweep (Enforce) — with the real handlers, bundled as the CDK app bundles
them (ESM, node22, minified, source maps), each Lambda execution environment a process of its own started
with Lambda's V8 flags for its function's memory, against \`bench/lib/simulated-aws.ts\` served on loopback HTTP
(\`AWS_ENDPOINT_URL\`). Each function's timeout and memory are CentralStack's, synthesized (\`bench/lib/deployed-limits.ts\`). ${ACCOUNTS.toLocaleString("en-US")} accounts, ${orgCounts.users.toLocaleString("en-US")} users: ${SHAPE.name} (${orgCounts.heavyAccounts} accounts with 100 users or more, the largest ${orgCounts.maxUsers}; ${sim.failingAccounts()} accounts failing). Quarantine: \`${JSON.stringify(QUARANTINE)}\` (the first two of the ${10} top-level OUs \`notify\` and \`off\`, \`enforce\` elsewhere). Batches of ${BATCH_SIZE} accounts, ${ACCOUNT_CONCURRENCY} accounts at a time in a batch;
as many batches at a time as Discover derives (MaxConcurrencyPath): the ceiling of ${MAP_MAX_CONCURRENCY} without a measured pace, then the fewest
that end the Map within ${MAP_WINDOW_MINUTES} minutes at the last run's pace (${runs.map((r) => r.scanBatch.mapConcurrency).join(", then ")}) — the deployment's defaults. ${RUNS} run${RUNS > 1 ? "s" : ""} in a row: the first finds
no previous report and empty hubs${RUNS > 1 ? "; the second is the daily steady state (previous report, findings already in every hub)" : ""}. Whole benchmark ${json.seconds} s.

| phase | time (worst run) | Lambda timeout | share | peak RSS | memory | share | within ${HEADROOM * 100}% |
|---|---|---|---|---|---|---|---|
${phaseLimits
  .map(
    (p) =>
      `| ${p.phase === "ScanBatch" ? `ScanBatch (${scanBatch.batches} batches each run; max, p99 ${scanBatch.p99Seconds} s, median ${scanBatch.medianSeconds} s)` : p.phase === "Owners" ? "Owners (beside the Map; its slowest round)" : p.phase} | ${p.seconds} s | ${p.timeoutSeconds} s | ${p.timePct}% | ${p.peakRssMb} MB | ${p.memoryMb} MB | ${p.memoryPct}% | ${yes(p.withinHeadroom)} |`,
  )
  .join("\n")}
| end to end | ${json.endToEndSeconds} s | 6 h (state machine) | | | | | |

## Targets

| target | measured | met |
|---|---|---|
${targets.map((t) => `| ${t.target} | ${t.measured} | ${yes(t.met)} |`).join("\n")}

Discover is the organization's walk alone (DescribeOrganization, ListRoots, one ListOrganizationalUnitsForParent and the pages of 20 of ListAccountsForParent per OU, under the Organizations rate). The owner tags — one ListTagsForResource per account under that same rate, about ${ORG_RATE} a second — are read by Owners beside the Map, each round for at most half its 15 minutes (less 30 s to write), and again while accounts never read remain (at most four rounds); what it has no time for keeps the value an earlier run read (\`state/owner-tags.json\`), never-read accounts first.

${costSection(costSummary)}

## Runs

| run | end to end s | Discover s (peak RSS) | Owners s (peak RSS) | Map concurrency | Map s | ScanBatch max / p99 / median s (peak RSS) | Publish s (peak RSS) | Sweep s (peak RSS) | verdicts |
|---|---|---|---|---|---|---|---|---|---|
${runs.map(runRow).join("\n")}

${runs
  .map(
    (r) => `### Run ${r.run}

- Discover: ${r.discover.inScope} accounts in scope, ${r.discover.calls} calls. The run context every batch reads is ${r.discover.contextKb} KB; the ledger of every account, which only Publish reads, ${r.discover.ledgerMb} MB. Init (cold start) ${r.discover.initSeconds} s, not counted in the invocation.
${r.owners ? `- Owners: ${r.owners.ok ? "succeeded" : `failed: ${r.owners.error}`} in ${r.owners.rounds} round(s), the slowest ${r.owners.seconds} s (${r.owners.totalSeconds} s in all); ${r.owners.read} tags read (${r.owners.calls} ListTagsForResource requests over ${r.owners.callSeconds} s), ${r.owners.fromCache} owners from earlier runs, ${r.owners.unread} unknown; in the report ${r.owners.inReport.right} owners right, ${r.owners.inReport.wrong} wrong, ${r.owners.inReport.unknown} unknown. Organizations throttled ${r.calls.throttledByService.organizations ?? 0} requests in the run. The Parallel state (Map and Owners) took ${r.parallelSeconds} s.` : ""}
- Map concurrency ${r.scanBatch.mapConcurrency}: ${r.scanBatch.paceFrom ? `derived from run ${r.run - 1}'s pace (p90 account ${r.scanBatch.paceFrom.p90AccountSeconds} s), the fewest batches at once that end within ${MAP_WINDOW_MINUTES} minutes` : `no pace measured yet, so the ceiling`}.
- ScanBatch: ${r.scanBatch.invocations} invocations on ${r.scanBatch.containers} warm containers (init ${r.scanBatch.initSeconds} s each at most), ${r.scanBatch.failed} failed; ${r.scanBatch.accountsScanned} accounts scanned, ${r.scanBatch.accountsFailed} not audited; CPU per batch median ${r.scanBatch.cpuSecondsPerBatch.median} s, max ${r.scanBatch.cpuSecondsPerBatch.max} s (${r.scanBatch.cpuSecondsPerBatch.total} s in all); largest batch event ${r.scanBatch.maxEventBytes} bytes (Step Functions: 256 KB). Logged ${r.scanBatch.logs.warn} warnings, ${r.scanBatch.logs.error} errors.
- Publish: ${r.publish.ok ? "succeeded" : `failed: ${r.publish.error}`}; CPU ${r.publish.cpuSeconds} s; ${r.report.resultObjects} result objects; report of ${r.report.accounts} accounts, ${r.report.openFindings} open findings${r.report.changes ? `, changes since the previous scan: ${r.report.changes.new} new, ${r.report.changes.resolved} resolved` : ""}; files ${r.report.files.map((f) => `${f.name} ${f.mb} MB`).join(", ")} — ${r.report.filesIntact ? "every file matches its manifest digest" : "**a file does not match the manifest**"}; report.html opens in ${"seconds" in r.report.htmlOpen ? `${r.report.htmlOpen.seconds} s` : `— (${r.report.htmlOpen.error})`}; history ${r.report.history.objects} objects in ${r.report.history.partitions.length} partitions, ${r.report.history.mb} MB; chat digest ${r.report.chat.organizationBytes.join(", ")} bytes (organization), ${r.report.chat.ouMessages} OU messages of at most ${r.report.chat.largestOuBytes} bytes.${r.report.warnings.length ? ` Report warnings: ${r.report.warnings.join("; ")}` : ""}
- QuarantineSweep (Enforce, ${MEMORY_OF.enforce} MB): ${r.sweep.ok ? "succeeded" : `failed: ${r.sweep.error}`} in ${r.sweep.seconds} s (CPU ${r.sweep.cpuSeconds} s, init ${r.sweep.initSeconds} s); ${r.sweep.summary ? `${r.sweep.summary.quarantined} quarantined, ${r.sweep.summary.released} released, ${r.sweep.summary.pending} pending (notify), ${r.sweep.summary.unchanged} unchanged, ${r.sweep.summary.failed} changes failed, ${r.sweep.summary.accountsNotReconciled} accounts not reconciled` : "no summary"}; ${r.sweep.calls} calls (${Object.entries(
      r.sweep.byOperation,
    )
      .map(([op, k]) => `${op} ${k}`)
      .join(
        ", ",
      )}), IAM throttled ${r.sweep.throttledIam}. Against the truth: ${r.sweep.quarantine.quarantined} users quarantined of ${r.sweep.quarantine.expected} expected, ${r.sweep.quarantine.wrongAccounts} accounts wrong${r.sweep.quarantine.examples.length ? ` (${r.sweep.quarantine.examples.join("; ")})` : ""}; accounts by mode: ${r.sweep.quarantine.accountsByMode.enforce} enforce, ${r.sweep.quarantine.accountsByMode.notify} notify, ${r.sweep.quarantine.accountsByMode.off} off; ${r.sweep.quarantine.notDeployed} without the quarantine deployed. Forwarding dead-letter queues: ${r.sweep.summary?.forwarding ? `${r.sweep.summary.forwarding.eventsNotForwarded} events not forwarded, ${r.sweep.summary.forwarding.accountsNotForwarding} accounts not forwarding, ${r.sweep.summary.forwarding.accountsUnread} accounts unread` : "no summary"} (expected ${r.sweep.quarantine.forwarding.read} read, all empty, and ${r.sweep.quarantine.forwarding.unread} unread). Logged ${r.sweep.logs.warn} warnings, ${r.sweep.logs.error} errors.
- Security Hub: ${r.securityHub.importCalls} BatchImportFindings (${r.securityHub.findingsImported} findings imported, ${r.securityHub.findingsRefused} refused), ${r.securityHub.getFindingsCalls} GetFindings; throttled ${r.securityHub.throttled.GetFindings} GetFindings and ${r.securityHub.throttled.BatchImportFindings} imports; ${r.securityHub.activeInHubs} active findings across the hubs against ${r.securityHub.openInReport} open in the report (${r.securityHub.hubsMatchReport ? "equal" : "**different**"}).
- SNS: digest "${r.sns.digestSubject}", ${r.sns.digestBytes} bytes (SNS: 262,144); ${r.sns.refused} messages refused.
- Verdicts: ${r.verdicts.users} users compared with the simulation's truth (${r.verdicts.expectedUsers} expected), ${r.verdicts.wrong} wrong; ${r.verdicts.failedAsSimulated} of the ${r.verdicts.expectedFailed} accounts the simulation fails reported FAILED, ${r.verdicts.failedAccounts} other accounts not audited.
- Calls (${r.calls.calls}): ${ops(r)}. Throttled: ${Object.entries(r.calls.throttledByService)
      .map(([s, n]) => `${s} ${n}`)
      .join(", ")}.
- Simulator: ${r.simulator.cpuSeconds} s of CPU in this run; its event loop delay p99 ${r.simulator.eventLoopDelay.p99Ms} ms, max ${r.simulator.eventLoopDelay.maxMs} ms.`,
  )
  .join("\n\n")}

## The simulation

- The organization (\`bench/lib/org-spec.ts\`, by a hash of the account index, the same every run): ${SHAPE.name}. Users in the benchmark's mix (15% console without MFA). An account that fails "assume-role denied" refuses every role (AccessDenied); one "throttled" answers every IAM request with \`Throttling\`, whatever the retries. Where the quarantine is not deployed the enforcer role cannot be assumed; where it is, the member stack's forwarding dead-letter queue (SQS, us-east-1) exists and is empty, and GetQueueAttributes answers as SQS does (JSON 1.0; \`QueueDoesNotExist\` with its query code where there is no queue). Quarantine state (the group's members, the policy's users) is kept per account; GetUser, GetLoginProfile, ListMFADevices, ListGroupsForUser, ListAttachedUserPolicies, GetGroup, ListEntitiesForPolicy, AddUserToGroup, RemoveUserFromGroup, AttachUserPolicy and DetachUserPolicy answer as IAM does, under the same per-account IAM rate.
- Every request: ${LATENCY_MS} ms. Credential reports: ready ${REPORT_READY_MS} ms after GenerateCredentialReport. IAM: ${IAM_RATE} requests/s per account, bursts of ${IAM_RATE * 2} (AWS does not publish IAM's rate: an assumption). Organizations: ${ORG_RATE} requests/s for the organization, bursts of ${ORG_RATE * 2} (not published either, awsdocs/aws-organizations-docs#39: an assumption), answered with its \`TooManyRequestsException\`. Security Hub: GetFindings 3/s bursts of 6 (API reference, "throttling limits"), BatchImportFindings 10/s bursts of 30 (partner guide, "Guidelines for using the BatchImportFindings API"), per account, answered with 429 \`TooManyRequestsException\`.
- The workflow is deployed to account ${scannerAccount} (a delegated administrator); Discover reads Organizations through the management account's audit role (ORG_ROLE_ARN), as the CDK app configures it. S3 writes must carry SSE-KMS with the deployment's key: ${s3.withoutKms} objects were written without it, ${s3.otherKmsKey} with another key. ${s3.multipartUploads} multipart uploads (${s3.parts} parts).
- Not simulated: Step Functions' own overhead between states and between Map items (tens of milliseconds each), Lambda's scaling of execution environments (a Map container is started when no warm one is free, and reused), KMS and S3 request rates (far above what the workflow sends), network throughput (loopback).

## Caveats

- **CPU.** ${os.cpus().length} cores here run up to ${maxContainers} ScanBatch containers and the simulator at once: when all are busy a container gets about ${Math.round((os.cpus().length / (maxContainers + 1)) * 100) / 100} of a core, where a ${MEMORY_MB} MB Lambda function gets about ${Math.round((MEMORY_MB / 1769) * 100) / 100} vCPU. The Map's wall times are therefore an overstatement where the work is CPU-bound; the CPU seconds per batch are the machine-independent figure (a batch needs at most ${scanBatch.cpuSecondsPerBatch.max} s of CPU, i.e. about ${Math.round((scanBatch.cpuSecondsPerBatch.max / (MEMORY_MB / 1769)) * 10) / 10} s on Lambda's share). The sweep is CPU-bound as well: its worst run needed ${sweep.cpuSeconds} s of CPU, i.e. about ${sweepOnLambda} s on the share of a ${MEMORY_OF.enforce} MB function (${ratio(sweepOnLambda, TIMEOUT_S.enforce)}% of its ${TIMEOUT_S.enforce} s timeout) — the figure to hold against the target, not the wall time here.
- **Node.** The containers run Node ${process.version} with the bundles built for node22; the functions run on Lambda's nodejs24.x. V8's heap behaviour differs a little between versions; the flags that bound it are Lambda's.
- **Memory.** Peak RSS is each container process's own high-water mark (the kernel's \`VmHWM\`), over its init and every invocation it served — what Lambda's "Max Memory Used" measures. Not \`process.resourceUsage().maxRSS\`: Linux keeps that maximum across fork and exec, so every child would report at least this process's RSS at the time it was spawned. The simulator's memory (the S3 objects, ${Math.round(s3.bytes / 1048576)} MB at the end) is in this process, not in any container.
`;
}
