/**
 * Benchmark (issue 11, item 5, the *scale* part): one orgmfa scan of a simulated organization, in
 * process — the real ClientPool, SDK clients, discovery, collector and report, over the simulated AWS
 * transport of `lib/simulated-aws.ts` (100 ms per call, a credential report ready 2 s after it was
 * asked for, IAM's per-account rate answered with real throttling errors). Prints one JSON result on
 * stdout; `emulator.bench.ts` runs it in a child process per configuration so that each peak RSS is
 * that scan's alone.
 *
 *   npx tsx bench/scale.bench.ts --accounts 2000 --concurrency 256
 *   npx tsx bench/scale.bench.ts --accounts 200 --concurrency 8 --report-age-min 180 --per-account-concurrency 32
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
for (const k of Object.keys(process.env)) if (k.startsWith("AWS_ENDPOINT_URL")) delete process.env[k];

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ClientPool, runScan, tuneHeapForScan } from "@orgmfa/aws";
import { writeScanDir } from "@orgmfa/render";
import { num } from "./lib/args";
import { checkAgainstSimulation, SimulatedAws } from "./lib/simulated-aws";

const ACCOUNTS = num("--accounts", 2000);
const USERS = num("--users", 50);
const CONCURRENCY = num("--concurrency", 8);
const PER_ACCOUNT = num("--per-account-concurrency", 4);
const LATENCY_MS = num("--latency-ms", 100);
const REPORT_READY_MS = num("--report-ready-ms", 2000);
const REPORT_AGE_MIN = num("--report-age-min", -1);
const RATE = num("--iam-rate", 20);

// As `orgmfa scan` runs: the same heap tuning, and the auditor files written after the scan.
tuneHeapForScan();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

// One leaf OU per ~50 accounts (1 to 40) under a parent per 4 leaves (1 to 10): an organization of
// eight accounts has not fifty OUs to walk. From 2,000 accounts on, the simulation's 40 under 10.
const OUS = Math.max(1, Math.min(40, Math.round(ACCOUNTS / 50)));
const sim = new SimulatedAws({
  accounts: ACCOUNTS,
  ous: OUS,
  ouParents: Math.max(1, Math.min(10, Math.ceil(OUS / 4))),
  usersPerAccount: USERS,
  latencyMs: LATENCY_MS,
  reportReadyMs: REPORT_READY_MS,
  iamRate: RATE > 0 ? { perSecond: RATE, burst: RATE * 2 } : null,
  ...(REPORT_AGE_MIN >= 0 ? { reportAgeMs: () => REPORT_AGE_MIN * 60_000 } : {}),
});
const pool = new ClientPool({
  region: "us-east-1",
  baseCredentials: async () => ({ accessKeyId: "AKIASIMULATEDBASE", secretAccessKey: "simulated" }),
  requestHandler: sim,
});

const t0 = performance.now();
let cpuAtScan = process.cpuUsage();
let cpuScan = { user: 0, system: 0 };
let tScan = 0;
let tLastAccount = 0;
await pool.whoAmI();
const report = await runScan({
  pool,
  toolVersion: "bench",
  concurrency: CONCURRENCY,
  collect: { userConcurrency: PER_ACCOUNT },
  onPhase: (m) => {
    if (m.startsWith("scanning")) {
      tScan = performance.now();
      cpuAtScan = process.cpuUsage();
    }
  },
  onAccountDone: (_o, done, total) => {
    tLastAccount = performance.now();
    if (done === total) cpuScan = process.cpuUsage(cpuAtScan);
  },
});
const tEnd = performance.now();
pool.destroy();
// What `--out-dir` writes (report.json, the CSVs, report.html, the manifest), into a temporary directory.
const outDir = mkdtempSync(path.join(tmpdir(), "orgmfa-scale-"));
const files = await writeScanDir(outDir, report);
const tFiles = performance.now();
rmSync(outDir, { recursive: true, force: true });
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

const { users, wrong, examples, failed } = checkAgainstSimulation(report, sim);

const spans = sim.accountSpansMs().sort((x, y) => x - y);
const pct = (p: number) => spans[Math.min(spans.length - 1, Math.floor(spans.length * p))] ?? 0;
const mean = spans.reduce((n, x) => n + x, 0) / Math.max(1, spans.length);
const scanSeconds = (tLastAccount - tScan) / 1000;
// The bound: each of `concurrency` slots can finish one account per ideal critical path —
// AssumeRole (one round trip), then the report's generation (it starts when GenerateCredentialReport
// arrives and is ready `reportReadyMs` later), then one round trip to fetch it.
const idealAccountSeconds = (2 * LATENCY_MS + REPORT_READY_MS) / 1000;
const idealAccountsPerSecond = Math.min(CONCURRENCY, ACCOUNTS) / idealAccountSeconds;
const accountsPerSecond = ACCOUNTS / scanSeconds;
const stats = sim.stats();
const result = {
  accounts: ACCOUNTS,
  usersPerAccount: USERS,
  latencyMs: LATENCY_MS,
  reportReadyMs: REPORT_READY_MS,
  reportAgeMinutes: REPORT_AGE_MIN >= 0 ? REPORT_AGE_MIN : null,
  concurrency: CONCURRENCY,
  perAccountConcurrency: PER_ACCOUNT,
  iamRatePerSecond: RATE > 0 ? RATE : null,
  seconds: Math.round((tEnd - t0) / 10) / 100,
  discoverySeconds: Math.round((tScan - t0) / 10) / 100,
  scanSeconds: Math.round(scanSeconds * 100) / 100,
  reportSeconds: Math.round((tEnd - tLastAccount) / 10) / 100,
  filesSeconds: Math.round((tFiles - tEnd) / 10) / 100,
  filesMb: Math.round(files.reduce((n, f) => n + f.bytes, 0) / 1048576),
  accountsPerSecond: Math.round(accountsPerSecond * 100) / 100,
  idealAccountsPerSecond: Math.round(idealAccountsPerSecond * 100) / 100,
  efficiency: Math.round((accountsPerSecond / idealAccountsPerSecond) * 1000) / 1000,
  accountSeconds: {
    ideal: idealAccountSeconds,
    mean: Math.round(mean) / 1000,
    median: pct(0.5) / 1000,
    p99: pct(0.99) / 1000,
    max: (spans.at(-1) ?? 0) / 1000,
  },
  // The other bound: one Node thread does the SDK's work (signing, parsing) for every call; when the
  // scan keeps it busy, accounts per second cannot exceed 1 / (CPU seconds per account).
  cpuMsPerAccount: Math.round(((cpuScan.user + cpuScan.system) / 1000 / ACCOUNTS) * 100) / 100,
  cpuBusy: Math.round(((cpuScan.user + cpuScan.system) / 1000 / (scanSeconds * 1000)) * 1000) / 1000,
  peakRssMb: Math.round(peakRss / 1048576),
  maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1048576),
  apiCalls: stats.calls,
  callsPerAccount: Math.round((stats.calls / ACCOUNTS) * 100) / 100,
  byOperation: stats.byOperation,
  throttled: stats.throttled,
  peakInFlight: stats.peakInFlight,
  audited: report.accounts.filter((a) => a.status === "AUDITED").length,
  failed: failed.length,
  failedExamples: failed.slice(0, 5),
  users,
  verdictsWrong: wrong,
  verdictExamples: examples,
  verdictsIdentical: wrong === 0 && failed.length === 0 && users === ACCOUNTS * USERS,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
