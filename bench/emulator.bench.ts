/**
 * Benchmark (issue 11, item 5, the *emulator* part): orgmfa against the seed algorithm it grew from
 * and an exact fully-live scan, on one emulated organization, through one loopback proxy that adds
 * 50 ms to every request and counts calls per operation. Runs are interleaved in the same process;
 * every run's verdicts are compared with the exact scan's.
 *
 *   npm run bench -- --quick     # 20 accounts × 40 users, one measured repetition (< 3 min on 2 cores)
 *   npm run bench                # 20 accounts × 40 users, medians of 3 repetitions
 *   npm run bench -- --accounts 30 --reps 5
 *
 * Then the same orgmfa scans with 15% of requests throttled, failed or reset (`faults`), and the
 * simulated-transport runs of `scale.bench.ts` in child processes (`scale`: quick 2,000 accounts,
 * full 10,000).
 *
 * Writes bench/results/latest.json and bench/results/latest.md.
 *
 *   npm run bench -- --pipeline  # instead: the deployed workflow at 10,000 accounts (pipeline.bench.ts)
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ClientPool, DEFAULT_MAX_REPORT_AGE_MS, runScan } from "@orgmfa/aws";
import type { OrgMfaConfig, ScanReport } from "@orgmfa/core";
import { AUDIT_ROLE_NAME, REGION, scannerCredentials, seedOrganization, startEmulator } from "@orgmfa/emulator";
import { build } from "esbuild";
import { type BaselineOptions, exactScan, seedAlgorithm, type Verdicts } from "./lib/baselines";
import { callsByOperation, type ProxiedCall, sequentialRoundTrips, startLatencyProxy } from "./lib/latency-proxy";
import { benchOrgSpec, mixOf, userKind } from "./lib/org-spec";
import { type Comparison, compareVerdicts, expectedVerdict, verdictOf, verdictsOfReport } from "./lib/verdicts";

const argv = process.argv.slice(2);
if (argv.includes("--pipeline")) {
  // The workflow benchmark instead of this one; its flags (--accounts, --runs, …) pass through.
  await import("./pipeline.bench");
  process.exit(process.exitCode ?? 0);
}
const flag = (name: string): number | undefined => {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : undefined;
  return v !== undefined && Number.isInteger(v) && v > 0 ? v : undefined;
};
const QUICK = argv.includes("--quick");
const ACCOUNTS = flag("--accounts") ?? 20;
const USERS = 40;
const LATENCY_MS = 50;
const REPS = flag("--reps") ?? (QUICK ? 1 : 3);
const CONCURRENCY = 8; // orgmfa's default --concurrency
const USER_CONCURRENCY = 4; // orgmfa's default --per-account-concurrency
const STALE_AGE_MS = 3 * 3600_000;

const root = fileURLToPath(new URL("..", import.meta.url));
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const seconds = (ms: number) => Math.round(ms) / 1000;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

// ---- start-up: the built CLI, before anything else loads the machine -------------------------------
function startupSeconds(): { seconds: number; samples: number[]; version: string } {
  if (!existsSync(`${root}apps/cli/dist/orgmfa.mjs`)) {
    log("apps/cli/dist is missing: npm run build");
    const b = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
    if (b.status !== 0) throw new Error("npm run build failed");
  }
  const samples: number[] = [];
  let version = "";
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [`${root}apps/cli/bin/orgmfa.js`, "--version"], { encoding: "utf8" });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`orgmfa --version exited ${r.status}: ${r.stderr}`);
    version = r.stdout.trim();
    if (i > 0) samples.push(seconds(ms)); // the first run warms the file cache
  }
  return { seconds: median(samples), samples, version };
}

type RunName = "orgmfa" | "orgmfaStale" | "seed" | "seedConcurrent" | "exact";
type FaultRunName = "orgmfaFaults" | "orgmfaStaleFaults";
/** orgmfa with --assume-root in an organization with centralized root access on (issue 24). */
type RootRunName = "orgmfaAssumeRoot";
const FAULT_RATE = 0.15;

interface RunResult {
  name: RunName | FaultRunName | RootRunName | "orgmfaFirstRun";
  rep: number;
  /** Faults injected by the proxy, by kind (fault runs). */
  faults?: Record<string, number>;
  seconds: number;
  apiCalls: number;
  byOperation: Record<string, number>;
  peakInFlight: number;
  /** Time of one call at the proxy (50 ms added + the emulator's own service time), median and 90th percentile. */
  callMs: { median: number; p90: number };
  /** Round trips in sequence per scanned account (sessions that listed users): min, median, max. */
  roundTrips: { min: number; median: number; max: number };
  /** Round trips in sequence of discovery (the session that listed the accounts). */
  discoveryRoundTrips: number;
  verdicts: Verdicts;
  failedAccounts: string[];
  /** orgmfa runs: the oldest credential report an account's verdicts rested on, in seconds. */
  oldestReportSeconds?: number;
  /** orgmfa runs: users whose verdict came from a live read. */
  usersConfirmedLive?: number;
  /** orgmfa runs: those users by the kind they were seeded as (e.g. "fido": 20), and a few of them by name. */
  confirmedLiveByKind?: Record<string, number>;
  confirmedLiveExamples?: string[];
  comparison?: Comparison;
  /**
   * The AssumeRoot run: the root sessions (one per member account), each from its AssumeRoot on —
   * calls per session and round trips in sequence — made beside the member role's session.
   */
  rootSessions?: { sessions: number; callsPerAccount: number; roundTrips: { median: number; max: number } };
}

function rootSessionStats(calls: readonly ProxiedCall[]): RunResult["rootSessions"] {
  const sessions = [...new Set(calls.filter((c) => c.operation === "AssumeRoot").map((c) => c.session ?? ""))];
  if (sessions.length === 0) return undefined;
  const per = sessions.map((k) => sequentialRoundTrips(calls, k));
  const callsPer = sessions.map((k) => calls.filter((c) => c.session === k).length);
  return {
    sessions: sessions.length,
    callsPerAccount: median(callsPer),
    roundTrips: { median: median(per), max: Math.max(...per) },
  };
}

function roundTripStats(calls: readonly ProxiedCall[]) {
  const sessions = new Set(calls.filter((c) => c.operation === "ListUsers").map((c) => c.session ?? ""));
  const per = [...sessions].map((s) => sequentialRoundTrips(calls, s));
  const discovery = calls.find((c) => c.operation === "ListAccountsForParent")?.session;
  return {
    roundTrips: { min: Math.min(...per), median: median(per), max: Math.max(...per) },
    discoveryRoundTrips: discovery ? sequentialRoundTrips(calls, discovery) : 0,
  };
}

function callTimes(calls: readonly ProxiedCall[]) {
  const ms = calls.map((c) => c.endMs - c.startMs).sort((a, b) => a - b);
  return { median: Math.round(median(ms)), p90: Math.round(ms[Math.floor(ms.length * 0.9)] ?? 0) };
}

// ---- the organization -------------------------------------------------------------------------------
const startup = startupSeconds();
log(`orgmfa --version: ${startup.seconds} s (median of ${startup.samples.length})`);

const tStart = performance.now();
const emu = await startEmulator();
const emulatorStartSeconds = seconds(performance.now() - tStart);
const proxy = await startLatencyProxy(emu.endpoint, LATENCY_MS);
const results: RunResult[] = [];
/** Accounts whose root the AssumeRoot run read through a root session. */
let rootAudited = 0;
let seedSeconds = 0;
let org: Awaited<ReturnType<typeof seedOrganization>>;
let truthMismatches = 0;
try {
  const tSeed = performance.now();
  org = await seedOrganization(emu, benchOrgSpec(ACCOUNTS, USERS));
  seedSeconds = seconds(performance.now() - tSeed);
  log(`emulator up in ${emulatorStartSeconds} s; ${ACCOUNTS} accounts × ${USERS} users seeded in ${seedSeconds} s`);
  const accountIds = Object.values(org.accounts);
  const base = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  await emu.setIamEnforcement(true);

  const baseline: BaselineOptions = {
    endpoint: proxy.url,
    region: REGION,
    base,
    orgRoleArn: org.orgRoleArn,
    auditRoleName: AUDIT_ROLE_NAME,
    concurrency: CONCURRENCY,
  };

  /** orgmfa as the CLI runs it: the same ClientPool, whoAmI first, then runScan with the defaults. */
  const orgmfa = async (config: OrgMfaConfig = {}): Promise<ScanReport> => {
    const pool = new ClientPool({
      region: REGION,
      orgRoleArn: org.orgRoleArn,
      baseCredentials: async () => base,
      endpoint: proxy.url,
    });
    try {
      await pool.whoAmI();
      return await runScan({ pool, toolVersion: "bench", concurrency: CONCURRENCY, config });
    } finally {
      pool.destroy();
    }
  };

  const measure = async (name: RunResult["name"], rep: number): Promise<RunResult> => {
    proxy.reset();
    const t0 = performance.now();
    let verdicts: Verdicts;
    let failedAccounts: string[] = [];
    let extra: Pick<
      RunResult,
      "oldestReportSeconds" | "usersConfirmedLive" | "confirmedLiveByKind" | "confirmedLiveExamples"
    > = {};
    if (name.startsWith("orgmfa")) {
      if (name.includes("Stale")) for (const id of accountIds) emu.setReportAge(id, STALE_AGE_MS);
      const assumeRoot = name === "orgmfaAssumeRoot";
      if (assumeRoot) emu.setOrganizationFeatures(["RootCredentialsManagement", "RootSessions"]);
      let report: ScanReport;
      try {
        report = await orgmfa(assumeRoot ? { assumeRoot: true } : {});
      } finally {
        for (const id of accountIds) emu.setReportAge(id, 0);
        emu.setOrganizationFeatures([]);
      }
      if (assumeRoot) {
        const viaRoot = report.accounts.filter((a) => a.root?.via === "ASSUME_ROOT").length;
        log(`${name}: root read through AssumeRoot in ${viaRoot} of ${report.accounts.length} accounts`);
        rootAudited = viaRoot;
      }
      ({ verdicts, failed: failedAccounts } = verdictsOfReport(report));
      const started = Date.parse(report.startedAt);
      const ages = report.accounts
        .filter((a) => a.credentialReportGeneratedAt)
        .map((a) => (started - Date.parse(a.credentialReportGeneratedAt ?? "")) / 1000);
      const live = report.accounts.flatMap((a) =>
        a.users.filter((u) => u.verifiedLive).map((u) => ({ account: a.accountName, user: u.userName })),
      );
      const byKind: Record<string, number> = {};
      for (const l of live) {
        const kind = userKind(Number(/^user-(\d+)$/.exec(l.user)?.[1] ?? -1));
        byKind[kind] = (byKind[kind] ?? 0) + 1;
      }
      extra = {
        oldestReportSeconds: Math.round(Math.max(0, ...ages)),
        usersConfirmedLive: live.length,
        confirmedLiveByKind: byKind,
        confirmedLiveExamples: live
          .filter((l) => !["hardware", "fido"].includes(userKind(Number(/^user-(\d+)$/.exec(l.user)?.[1] ?? -1))))
          .slice(0, 5)
          .map((l) => `${l.account}/${l.user}`),
      };
    } else if (name === "seed") verdicts = await seedAlgorithm(baseline, 1);
    else if (name === "seedConcurrent") verdicts = await seedAlgorithm(baseline, USER_CONCURRENCY);
    else verdicts = await exactScan(baseline, USER_CONCURRENCY);
    const ms = performance.now() - t0;
    const calls = proxy.calls();
    const r: RunResult = {
      name,
      rep,
      seconds: seconds(ms),
      apiCalls: calls.length,
      byOperation: callsByOperation(calls),
      peakInFlight: proxy.peakInFlight(),
      callMs: callTimes(calls),
      ...roundTripStats(calls),
      ...(name === "orgmfaAssumeRoot" ? { rootSessions: rootSessionStats(calls) } : {}),
      verdicts,
      failedAccounts,
      ...extra,
      ...(name.endsWith("Faults")
        ? { faults: callsByOperation(calls.filter((c) => c.fault).map((c) => ({ ...c, operation: c.fault ?? "" }))) }
        : {}),
    };
    log(
      `${name.padEnd(15)} rep ${rep}: ${r.apiCalls} calls, ${r.seconds} s, round trips/account ${r.roundTrips.median} (max ${r.roundTrips.max})`,
    );
    return r;
  };

  // The first scan generates every account's credential report (moto answers STARTED once, then
  // COMPLETE): measured and shown apart. The fresh runs after it find a report seconds old.
  results.push(await measure("orgmfaFirstRun", 0));
  const order: RunName[] = ["orgmfa", "seed", "orgmfaStale", "seedConcurrent", "exact"];
  for (let rep = 1; rep <= REPS; rep++) {
    const shift = (rep - 1) % order.length;
    for (const name of [...order.slice(shift), ...order.slice(0, shift)]) results.push(await measure(name, rep));
  }

  // Faults: the same scans again with 15% of requests throttled, failed or reset (in turn).
  for (const name of QUICK ? (["orgmfaFaults"] as const) : (["orgmfaFaults", "orgmfaStaleFaults"] as const)) {
    proxy.setFaults({ rate: FAULT_RATE, seed: name.length });
    try {
      results.push(await measure(name, 1));
    } finally {
      proxy.setFaults(null);
    }
  }

  // Root through AssumeRoot beside the member role: measured once, after the rest.
  results.push(await measure("orgmfaAssumeRoot", 1));

  // The exact scan is the reference; it is itself checked against what the emulator was seeded with.
  const exactRuns = results.filter((r) => r.name === "exact");
  const reference = exactRuns[0]?.verdicts;
  if (!reference) throw new Error("no exact run");
  for (const users of reference.values())
    for (const [name, f] of users) {
      const i = Number(/^user-(\d+)$/.exec(name)?.[1] ?? Number.NaN);
      if (Number.isNaN(i)) {
        truthMismatches++;
        continue;
      }
      if (
        verdictOf({ hasMfa: f.hasMfa, console: f.console ?? false, activeKeys: f.activeKeys ?? 0 }) !==
        expectedVerdict(userKind(i))
      )
        truthMismatches++;
    }
  for (const r of results) r.comparison = compareVerdicts(r.verdicts, reference, r.name.startsWith("seed"));
} finally {
  await proxy.close();
  await emu.stop();
}
const emulatorSeconds = seconds(performance.now() - tStart);

// ---- scale: the simulated AWS transport, one child process per configuration ------------------------
/** One result of `scale.bench.ts` (see there). */
interface ScaleRun {
  accounts: number;
  concurrency: number;
  perAccountConcurrency: number;
  reportAgeMinutes: number | null;
  seconds: number;
  discoverySeconds: number;
  scanSeconds: number;
  reportSeconds: number;
  accountsPerSecond: number;
  idealAccountsPerSecond: number;
  efficiency: number;
  accountSeconds: { ideal: number; mean: number; median: number; p99: number; max: number };
  cpuMsPerAccount: number;
  cpuBusy: number;
  peakRssMb: number;
  apiCalls: number;
  callsPerAccount: number;
  byOperation: Record<string, number>;
  throttled: number;
  failed: number;
  verdictsWrong: number;
  verdictsIdentical: boolean;
}
const SCALE_USERS = 50;
const HIGH = 256; // the most --concurrency allows
const MID = 64; // a high concurrency that one Node thread on a small machine can still feed
// "default" and "high" measure throughput against the latency bound (several waves of accounts);
// the 1× / 10× pair at the most --concurrency allows measures growth and peak RSS; "throttling"
// confirms every user live, many calls at once per account, under a stricter IAM rate.
/** Accounts per row: quick, full. */
const scaleSizes = QUICK
  ? { default: 40, high: 640, small: 200, large: 2000, throttling: 8 }
  : { default: 800, high: 2000, small: 1000, large: 10000, throttling: 200 };
const scaleConfigs: Array<{ label: string; args: Record<string, number> }> = [
  { label: "default", args: { accounts: scaleSizes.default, concurrency: CONCURRENCY } },
  { label: "high", args: { accounts: scaleSizes.high, concurrency: MID } },
  { label: "1×", args: { accounts: scaleSizes.small, concurrency: HIGH } },
  { label: "10×", args: { accounts: scaleSizes.large, concurrency: HIGH } },
  {
    label: "throttling",
    args: {
      accounts: scaleSizes.throttling,
      concurrency: CONCURRENCY,
      "report-age-min": 180,
      "per-account-concurrency": 32,
      "iam-rate": 10,
    },
  },
];
// scale.bench.ts bundled once and run as built JavaScript (as the CLI runs): compiling it with tsx
// in every child cost ~1.3 s of each row's start, none of it measured.
const scaleDir = mkdtempSync(path.join(os.tmpdir(), "orgmfa-scale-bench-"));
await build({
  entryPoints: { scale: `${root}bench/scale.bench.ts` },
  outdir: scaleDir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  mainFields: ["module", "main"],
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: "warning",
});
const scaleRuns: Array<ScaleRun & { label: string }> = [];
for (const c of scaleConfigs) {
  const args = Object.entries({ users: SCALE_USERS, ...c.args }).flatMap(([k, v]) => [`--${k}`, String(v)]);
  log(`scale ${c.label}: ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [path.join(scaleDir, "scale.mjs"), ...args], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  if (r.status !== 0 || !line.startsWith("{"))
    throw new Error(`scale.bench.ts ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const run = { label: c.label, ...(JSON.parse(line) as ScaleRun) };
  log(
    `scale ${c.label}: ${run.accounts} accounts in ${run.seconds} s (scan ${run.scanSeconds} s, ${run.accountsPerSecond}/s, efficiency ${run.efficiency}), peak RSS ${run.peakRssMb} MB`,
  );
  scaleRuns.push(run);
}
rmSync(scaleDir, { recursive: true, force: true });
const scaleOf = (label: string) => scaleRuns.find((r) => r.label === label) as ScaleRun & { label: string };
const scaleDefault = scaleOf("default");
const scaleHigh = scaleOf("high");
const scaleSmall = scaleOf("1×");
const scaleLarge = scaleOf("10×");
const scaleThrottling = scaleOf("throttling");
const growth = Math.round((scaleLarge.seconds / scaleSmall.seconds) * 100) / 100;
const totalSeconds = seconds(performance.now() - tStart);

// ---- summary ---------------------------------------------------------------------------------------
const of = (name: RunResult["name"]) => results.filter((r) => r.name === name);
function summary(name: RunResult["name"]) {
  const runs = of(name);
  const calls = runs.map((r) => r.apiCalls);
  return {
    seconds: median(runs.map((r) => r.seconds)),
    apiCalls: median(calls),
    apiCallsRange: [Math.min(...calls), Math.max(...calls)],
    roundTripsPerAccount: {
      median: median(runs.map((r) => r.roundTrips.median)),
      max: Math.max(...runs.map((r) => r.roundTrips.max)),
    },
    discoveryRoundTrips: median(runs.map((r) => r.discoveryRoundTrips)),
    peakInFlight: Math.max(...runs.map((r) => r.peakInFlight)),
    callMs: { median: median(runs.map((r) => r.callMs.median)), p90: median(runs.map((r) => r.callMs.p90)) },
    callsByOperation: runs[0]?.byOperation ?? {},
    runs: runs.map((r) => ({ rep: r.rep, seconds: r.seconds, apiCalls: r.apiCalls })),
    verdictDifferences: runs.reduce((n, r) => n + (r.comparison?.differences ?? 0), 0),
    faultsInjected: runs[0]?.faults ?? {},
    failedAccounts: [...new Set(runs.flatMap((r) => r.failedAccounts))],
    ...(runs[0]?.oldestReportSeconds !== undefined
      ? {
          oldestReportSeconds: Math.max(...runs.map((r) => r.oldestReportSeconds ?? 0)),
          usersConfirmedLive: median(runs.map((r) => r.usersConfirmedLive ?? 0)),
          confirmedLiveByKind: runs[0]?.confirmedLiveByKind ?? {},
          confirmedLiveExamples: runs[0]?.confirmedLiveExamples ?? [],
        }
      : {}),
  };
}
const s = {
  orgmfa: summary("orgmfa"),
  orgmfaStale: summary("orgmfaStale"),
  orgmfaFirstRun: summary("orgmfaFirstRun"),
  seed: summary("seed"),
  seedConcurrent: summary("seedConcurrent"),
  exact: summary("exact"),
};
const round2 = (x: number) => Math.round(x * 100) / 100;
const callRatio = round2(s.seed.apiCalls / s.orgmfa.apiCalls);
const staleCallRatio = round2(s.seed.apiCalls / s.orgmfaStale.apiCalls);
const speedup = round2(s.seedConcurrent.seconds / s.orgmfa.seconds);
const staleSpeedup = round2(s.seedConcurrent.seconds / s.orgmfaStale.seconds);
const faultRuns = { orgmfa: summary("orgmfaFaults"), orgmfaStale: QUICK ? null : summary("orgmfaStaleFaults") };
const clean = (r: RunResult) => (r.comparison?.differences ?? 1) === 0 && r.failedAccounts.length === 0;
const verdictsIdentical = results.filter((r) => !r.name.endsWith("Faults")).every(clean) && truthMismatches === 0;
const faultVerdictsIdentical = results.filter((r) => r.name.endsWith("Faults")).every(clean);
const users = ACCOUNTS * USERS;
const freshTrusted =
  s.orgmfa.oldestReportSeconds !== undefined && s.orgmfa.oldestReportSeconds * 1000 <= DEFAULT_MAX_REPORT_AGE_MS;

/** Calls outside the accounts' scans: the caller check and discovery (with the org role's AssumeRole). */
const DISCOVERY_OPS = new Set([
  "GetCallerIdentity",
  "DescribeOrganization",
  "ListRoots",
  "ListOrganizationalUnitsForParent",
  "ListAccountsForParent",
  "ListTagsForResource",
  "ListOrganizationsFeatures",
]);
const discoveryCalls = (x: ReturnType<typeof summary>) =>
  1 + Object.entries(x.callsByOperation).reduce((n, [op, c]) => n + (DISCOVERY_OPS.has(op) ? c : 0), 0);
const perAccountCalls = (x: ReturnType<typeof summary>) => (x.apiCalls - discoveryCalls(x)) / (ACCOUNTS + 1);
const accountsOnlyRatio = round2(
  (s.seed.apiCalls - discoveryCalls(s.seed)) / (s.orgmfa.apiCalls - discoveryCalls(s.orgmfa)),
);

const rootRun = of("orgmfaAssumeRoot")[0];
const rootSessions = rootRun?.rootSessions;
/** The AssumeRoot path beside the member role's: per account, and the member role's path in the same run. */
const assumeRoot = {
  accountsRead: rootAudited,
  sessions: rootSessions?.sessions ?? 0,
  callsPerAccount: rootSessions?.callsPerAccount ?? 0,
  roundTrips: rootSessions?.roundTrips ?? { median: 0, max: 0 },
  memberRoleRoundTrips: rootRun?.roundTrips ?? { min: 0, median: 0, max: 0 },
  memberRoleCallsPerAccount: s.orgmfa.apiCalls ? round2(perAccountCalls(s.orgmfa)) : 0,
  apiCalls: rootRun?.apiCalls ?? 0,
  seconds: rootRun?.seconds ?? 0,
  verdictsIdentical: rootRun ? clean(rootRun) : false,
};

const targets = [
  { target: "≥ 5× fewer calls than the seed algorithm, fresh report", value: `${callRatio}×`, met: callRatio >= 5 },
  {
    target:
      "--assume-root: every member account's root read through a root session, in ≤ 2 round trips and ≤ 5 calls beside the member role's, verdicts identical",
    value: `${assumeRoot.accountsRead} of ${ACCOUNTS} accounts; ${assumeRoot.roundTrips.max} round trips (max), ${assumeRoot.callsPerAccount} calls per account; member role ${assumeRoot.memberRoleRoundTrips.max} round trips; verdicts ${assumeRoot.verdictsIdentical ? "identical" : "differ"}`,
    met:
      assumeRoot.accountsRead === ACCOUNTS &&
      assumeRoot.roundTrips.max <= 2 &&
      assumeRoot.callsPerAccount <= 5 &&
      assumeRoot.verdictsIdentical,
  },
  {
    target: "never more calls than the seed algorithm, 3-hour-old report",
    value: `${s.orgmfaStale.apiCalls} vs ${s.seed.apiCalls}`,
    met: s.orgmfaStale.apiCalls <= s.seed.apiCalls,
  },
  {
    target: "≥ 2× faster than the seed algorithm with the same per-user concurrency",
    value: `${speedup}×`,
    met: speedup >= 2,
  },
  {
    target: "critical path ≤ 5 round trips per account",
    value: `${s.orgmfa.roundTripsPerAccount.max} (max; median ${s.orgmfa.roundTripsPerAccount.median})`,
    met: s.orgmfa.roundTripsPerAccount.max <= 5,
  },
  {
    target: "verdicts identical to the exact scan in every run",
    value: String(verdictsIdentical),
    met: verdictsIdentical,
  },
  { target: "start-up ≤ 0.3 s", value: `${startup.seconds} s`, met: startup.seconds <= 0.3 },
  {
    target: `verdicts identical to the exact scan with ${FAULT_RATE * 100}% of requests throttled, failed or reset`,
    value: String(faultVerdictsIdentical),
    met: faultVerdictsIdentical,
  },
  {
    target: `scale: ≥ 80% of the bound at the default concurrency (${CONCURRENCY})`,
    value: `${Math.round(scaleDefault.efficiency * 100)}% (${scaleDefault.accounts} accounts)`,
    met: scaleDefault.efficiency >= 0.8,
  },
  {
    target: `scale: ≥ 80% of the bound at a high concurrency (${MID})`,
    value: `${Math.round(scaleHigh.efficiency * 100)}% (${scaleHigh.accounts} accounts); at ${HIGH}: ${Math.round(scaleLarge.efficiency * 100)}%, CPU-bound (busy ${Math.round(scaleLarge.cpuBusy * 100)}%)`,
    met: scaleHigh.efficiency >= 0.8,
  },
  {
    target: "scale: ≤ 512 MB peak RSS at 10,000 accounts",
    value: `${scaleLarge.peakRssMb} MB at ${scaleLarge.accounts} accounts${scaleLarge.accounts < 10_000 ? " (quick mode: 10,000 not run)" : ""}`,
    met: scaleLarge.peakRssMb <= 512 && scaleLarge.accounts >= 10_000,
  },
  {
    target: "scale: growth time(10×) / time(1×) ≤ 11",
    value: `${growth} (${scaleLarge.accounts} / ${scaleSmall.accounts} accounts)`,
    met: growth <= 11,
  },
  {
    target: "scale: every simulated user's verdict right, no account failed (throttling included)",
    value: String(scaleRuns.every((r) => r.verdictsIdentical)),
    met: scaleRuns.every((r) => r.verdictsIdentical),
  },
];

const pick = (x: ReturnType<typeof summary>) => ({ seconds: x.seconds, apiCalls: x.apiCalls });
const json = {
  quick: QUICK,
  assumeRoot,
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
  emulator: {
    accounts: ACCOUNTS,
    usersPerAccount: USERS,
    latencyMs: LATENCY_MS,
    repetitions: REPS,
    scannedAccounts: ACCOUNTS + 1,
    users,
    mixPerAccount: mixOf(USERS),
    orgmfa: { ...pick(s.orgmfa), criticalPathRoundTrips: s.orgmfa.roundTripsPerAccount.max },
    orgmfaStale: { ...pick(s.orgmfaStale), criticalPathRoundTrips: s.orgmfaStale.roundTripsPerAccount.max },
    orgmfaFirstRun: { ...pick(s.orgmfaFirstRun), criticalPathRoundTrips: s.orgmfaFirstRun.roundTripsPerAccount.max },
    seed: pick(s.seed),
    seedConcurrent: pick(s.seedConcurrent),
    exact: pick(s.exact),
    callRatio,
    staleCallRatio,
    speedup,
    staleSpeedup,
    verdictsIdentical,
    detail: s,
    setupSeconds: { emulatorStart: emulatorStartSeconds, seed: seedSeconds, total: totalSeconds },
  },
  startupSeconds: startup.seconds,
  scale: {
    accounts: scaleLarge.accounts,
    usersPerAccount: SCALE_USERS,
    latencyMs: 100,
    concurrency: HIGH,
    seconds: scaleLarge.seconds,
    accountsPerSecond: scaleLarge.accountsPerSecond,
    idealAccountsPerSecond: scaleLarge.idealAccountsPerSecond,
    efficiency: scaleLarge.efficiency,
    peakRssMb: scaleLarge.peakRssMb,
    growth,
    atDefault: { concurrency: CONCURRENCY, accounts: scaleDefault.accounts, efficiency: scaleDefault.efficiency },
    atHigh: { concurrency: MID, accounts: scaleHigh.accounts, efficiency: scaleHigh.efficiency },
    runs: scaleRuns,
  },
  faults: {
    rate: FAULT_RATE,
    verdictsIdentical: faultVerdictsIdentical,
    orgmfa: { ...pick(faultRuns.orgmfa), injected: faultRuns.orgmfa.faultsInjected },
    orgmfaStale: faultRuns.orgmfaStale
      ? { ...pick(faultRuns.orgmfaStale), injected: faultRuns.orgmfaStale.faultsInjected }
      : null,
    detail: faultRuns,
  },
  targets,
  setupSeconds: { emulatorPart: emulatorSeconds, total: totalSeconds },
};
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/latest.json", import.meta.url), `${JSON.stringify(json, null, 2)}\n`);

const ops = (x: ReturnType<typeof summary>) =>
  Object.entries(x.callsByOperation)
    .map(([op, n]) => `${op} ${n}`)
    .join(", ");
const row = (label: string, x: ReturnType<typeof summary>, verdictScope: string) =>
  `| ${label} | ${x.apiCalls} | ${x.seconds} | ${x.roundTripsPerAccount.median} (max ${x.roundTripsPerAccount.max}) | ${x.discoveryRoundTrips} | ${x.peakInFlight} | ${x.callMs.median} / ${x.callMs.p90} | ${x.verdictDifferences === 0 && x.failedAccounts.length === 0 ? "identical" : `${x.verdictDifferences} differ${x.failedAccounts.length ? `, ${x.failedAccounts.length} accounts failed` : ""}`} (${verdictScope}) |`;
const md = `# Emulator benchmark

\`npm run bench${QUICK ? " -- --quick" : ""}\` on ${json.date.slice(0, 10)}, Node ${process.version}, ${os.cpus().length} CPUs, moto emulator on loopback.
${ACCOUNTS} member accounts × ${USERS} users (${users} users; the management account, scanned too, has none), per account
${Object.entries(mixOf(USERS))
  .map(([k, n]) => `${n} ${k}`)
  .join(", ")} (the issue's 70 / 5 / 15 / 5 / 5 % mix). Every request passes one loopback proxy that adds
${LATENCY_MS} ms and counts calls by \`Action=\` / \`X-Amz-Target\`. IAM policy enforcement is on, so every run
acts with the audit role's real policy. ${REPS === 1 ? "One measured repetition" : `Medians of ${REPS} repetitions`}, interleaved (the order rotates each repetition), after
a first orgmfa run that generates the credential reports (shown apart). Accounts ${CONCURRENCY} at a time in every run
(orgmfa's \`--concurrency\` default); "4 at a time" is orgmfa's per-account concurrency default.
Set-up: emulator ${emulatorStartSeconds} s, seeding ${seedSeconds} s; whole benchmark ${totalSeconds} s.

| run | calls | wall s | round trips in sequence per account | discovery round trips | peak in flight | ms per call, median / p90 | verdicts vs exact scan |
|---|---|---|---|---|---|---|---|
${row("orgmfa, fresh report (the daily case)", s.orgmfa, "full verdict")}
${row("orgmfa, report declared 3 h old", s.orgmfaStale, "full verdict")}
${row("orgmfa, first run (generates the reports)", s.orgmfaFirstRun, "full verdict")}
${row("seed algorithm, users one at a time", s.seed, "has MFA only")}
${row("seed algorithm, 4 users at a time per account", s.seedConcurrent, "has MFA only")}
${row("exact fully-live scan (4 users at a time)", s.exact, "reference")}

- **callRatio** (seed calls / orgmfa calls, fresh report): **${callRatio}**; with the 3-hour-old report: ${staleCallRatio}.
  Without discovery (orgmfa ${discoveryCalls(s.orgmfa)} calls: GetCallerIdentity, the org role's AssumeRole, the OU walk
  one ListOrganizationalUnitsForParent + ListAccountsForParent per OU…; the seed ${discoveryCalls(s.seed)}: the
  harness's AssumeRole and the same walk) the ratio is ${accountsOnlyRatio}: ${perAccountCalls(s.orgmfa).toFixed(1)} calls per scanned account against ${perAccountCalls(s.seed).toFixed(1)}.
  At 40 users an account costs orgmfa AssumeRole + 5 fixed reads when its report is fresh (users with a
  hardware or FIDO device are taken at the report's word that MFA is on), so the ratio per member account
  is near 43 / 6 ≈ 7; the management account
  (no users: 6 calls against the seed's 3) and discovery pull the whole-run ratio lower.
- **speedup** (seed 4-at-a-time seconds / orgmfa seconds, fresh report): **${speedup}**; with the 3-hour-old report: ${staleSpeedup}.
- **verdictsIdentical**: **${verdictsIdentical}** — every run's users compared with the exact scan (the seed
  algorithm on "has MFA" only: it cannot tell console from API users); the exact scan itself agrees with
  what the emulator was seeded with${truthMismatches ? ` except ${truthMismatches} users` : ""}.
- Fresh runs rested on reports at most ${s.orgmfa.oldestReportSeconds} s old (${freshTrusted ? "within" : "**beyond**"} the default ${DEFAULT_MAX_REPORT_AGE_MS / 60_000}-minute tolerance); users confirmed live: ${s.orgmfa.usersConfirmedLive} fresh (${JSON.stringify(s.orgmfa.confirmedLiveByKind)}${s.orgmfa.confirmedLiveExamples?.length ? `; beyond hardware/FIDO: ${s.orgmfa.confirmedLiveExamples.join(", ")}` : ""}), ${s.orgmfaStale.usersConfirmedLive} with the 3-hour-old report (${JSON.stringify(s.orgmfaStale.confirmedLiveByKind)}).
- Start-up: \`node apps/cli/bin/orgmfa.js --version\` (${startup.version}) takes **${startup.seconds} s** (median of ${startup.samples.length}: ${startup.samples.join(", ")}).

## Targets (issue 11)

| target | measured | met |
|---|---|---|
${targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? "yes" : "**no**"} |`).join("\n")}

## orgmfa's critical path per account

"Round trips in sequence" is measured, not assumed: for each account's role session (its AssumeRole and
every call signed with the credentials it returned) the proxy's log gives the longest chain of calls
that follow one another without overlapping. orgmfa with a fresh report:
AssumeRole → {GenerateCredentialReport, ListUsers, ListVirtualMFADevices, GetAccountSummary} at once →
GetCredentialReport = 3, plus one round of confirmations only for users created since the report or
contradicted by the live lists (none here). The four reads after
AssumeRole do not depend on each other; GetCredentialReport needs GenerateCredentialReport's COMPLETE;
the confirmations need the report's rows and the two lists. The first run adds a second
GenerateCredentialReport after a poll wait (moto answers STARTED once). With the 3-hour-old report
every user without MFA in the report is confirmed (ListMFADevices + GetLoginProfile, plus ListAccessKeys
where keys decide), ${USER_CONCURRENCY} users at a time, so that round becomes several waves. The seed
algorithm's chain is AssumeRole → ListUsers → N × ListMFADevices → ListVirtualMFADevices (3 + N).

## Calls by operation (first measured repetition)

- orgmfa, fresh: ${ops(s.orgmfa)}
- orgmfa, 3 h old: ${ops(s.orgmfaStale)}
- seed, one at a time: ${ops(s.seed)}
- seed, 4 at a time: ${ops(s.seedConcurrent)}
- exact: ${ops(s.exact)}

Both orgmfa rows include what the CLI does before and around the accounts: GetCallerIdentity, the
discovery (AssumeRole of the org role, DescribeOrganization, ListRoots, the OU walk with
ListAccountsForParent, ListOrganizationsFeatures). The seed and exact rows include AssumeRole of the org
role and the same discovery to find the accounts (the seed algorithm itself is single-account).

## Root through AssumeRoot (\`--assume-root\`)

One run with centralized root access on and \`assumeRoot: true\`: beside each member account's audit-role
session, the management account's audit role opens a root session (\`sts:AssumeRoot\`, task policy
IAMAuditRootUserCredentials) and reads root's login profile, access keys, signing certificates and MFA
devices. Root was read that way in ${assumeRoot.accountsRead} of ${ACCOUNTS} member accounts (${assumeRoot.sessions} root sessions).

| path, per account | calls | round trips in sequence |
|---|---|---|
| member role (the same run) | ${assumeRoot.memberRoleCallsPerAccount} (the fresh run's) | ${assumeRoot.memberRoleRoundTrips.median} (max ${assumeRoot.memberRoleRoundTrips.max}) |
| root session, beside it | ${assumeRoot.callsPerAccount} (AssumeRoot, then 4 reads at once) | ${assumeRoot.roundTrips.median} (max ${assumeRoot.roundTrips.max}) |

The two paths run at once, so the account's critical path is the longer of them. The whole run: ${assumeRoot.apiCalls} calls,
${assumeRoot.seconds} s; verdicts ${assumeRoot.verdictsIdentical ? "identical to the exact scan" : "**differ from the exact scan**"}.

## Caveats

- moto answers the credential report at once and its report is always current; on AWS the first
  GenerateCredentialReport of a day takes seconds, which is on orgmfa's critical path and not on the
  seed algorithm's (the first-run row shows the emulated version of it: one poll wait).
- One moto process on ${os.cpus().length} CPUs serves every call, with IAM policy enforcement (a policy evaluation
  per call), and the benchmark's own Node process shares the CPUs with it. A call takes 50 ms at the proxy
  plus moto's service time, which grows with the calls in flight (the "ms per call" column): the wall
  times are partly a measure of moto's throughput, not only of round trips at 50 ms. This flatters
  whichever run makes fewer calls (the seed runs wait on moto behind their 865 calls) — the call counts
  and the round trips in sequence are the numbers that carry to AWS.
${REPS === 1 ? "- Quick mode measures one repetition: wall times vary by a few tenths of a second between runs.\n" : ""}
## Faults

The same orgmfa scans again, through the same proxy, with ${FAULT_RATE * 100}% of requests (chosen by a seeded
generator) answered with a throttling error (\`Throttling\`, \`TooManyRequestsException\`), a server
error (\`InternalFailure\`, \`ServiceException\`), or a connection reset after the request was
forwarded — the three in turn. The SDK's retries (10 attempts, adaptive) ride them out:

| run | calls | wall s | faults injected | verdicts vs exact scan |
|---|---|---|---|---|
| orgmfa, fresh report, with faults | ${faultRuns.orgmfa.apiCalls} | ${faultRuns.orgmfa.seconds} | ${JSON.stringify(faultRuns.orgmfa.faultsInjected)} | ${faultRuns.orgmfa.verdictDifferences === 0 && faultRuns.orgmfa.failedAccounts.length === 0 ? "identical" : `${faultRuns.orgmfa.verdictDifferences} differ, failed: ${faultRuns.orgmfa.failedAccounts.join("; ")}`} |
${faultRuns.orgmfaStale ? `| orgmfa, 3-hour-old report, with faults | ${faultRuns.orgmfaStale.apiCalls} | ${faultRuns.orgmfaStale.seconds} | ${JSON.stringify(faultRuns.orgmfaStale.faultsInjected)} | ${faultRuns.orgmfaStale.verdictDifferences === 0 && faultRuns.orgmfaStale.failedAccounts.length === 0 ? "identical" : `${faultRuns.orgmfaStale.verdictDifferences} differ, failed: ${faultRuns.orgmfaStale.failedAccounts.join("; ")}`} |` : "| orgmfa, 3-hour-old report, with faults | full mode only | | | |"}

## Scale (simulated AWS)

\`bench/scale.bench.ts\` in a child process per row: the real ClientPool, SDK clients, discovery,
collector and report over \`bench/lib/simulated-aws.ts\`, an in-process AWS that speaks the wire
protocols (IAM and STS query/XML, Organizations JSON) with generated answers: ${SCALE_USERS} users per account in the
mix above, 100 ms per call, a credential report ready 2 s after GenerateCredentialReport, IAM throttled
per account at 20 requests/s with bursts of 40 (AWS does not publish IAM's rate; this is an
assumption) with IAM's real \`Throttling\` error. Every user's verdict is checked against the
simulation's truth.

| run | accounts | concurrency | total s | discovery s | scan s | accounts/s | bound | efficiency | per account s (mean / p99) | CPU ms per account (busy) | peak RSS MB | calls per account | throttled | verdicts |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${scaleRuns.map((r) => `| ${r.label} | ${r.accounts} | ${r.concurrency}${r.perAccountConcurrency !== 4 ? ` (${r.perAccountConcurrency} per account)` : ""}${r.reportAgeMinutes !== null ? `, report ${r.reportAgeMinutes} min old` : ""} | ${r.seconds} | ${r.discoverySeconds} | ${r.scanSeconds} | ${r.accountsPerSecond} | ${r.label === "default" || r.label === "high" || r.label === "10×" ? `${r.idealAccountsPerSecond} | ${Math.round(r.efficiency * 100)}%` : "— | —"} | ${r.accountSeconds.mean} / ${r.accountSeconds.p99} | ${r.cpuMsPerAccount} (${Math.round(r.cpuBusy * 100)}%) | ${r.peakRssMb} | ${r.callsPerAccount} | ${r.throttled} | ${r.verdictsIdentical ? "all right" : `${r.verdictsWrong} wrong, ${r.failed} failed`} |`).join("\n")}

- **The bound** is the latency bound of the critical path: each of \`concurrency\` slots can finish
  one account per AssumeRole (one round trip) + the report's generation (it starts when
  GenerateCredentialReport arrives and is ready 2 s later) + one round trip to fetch it = 2.2 s. The
  reads after AssumeRole (ListUsers, ListVirtualMFADevices, GetAccountSummary) run inside the 2 s wait;
  polling with GetCredentialReport every 500 ms (counted from each poll's start) finds the report on
  average about a quarter of a second after it is ready.
- **CPU** is the other bound: one Node thread signs and parses every call (${scaleLarge.cpuMsPerAccount} ms of CPU per
  account at ${HIGH} at a time, i.e. at most ${Math.round(1000 / scaleLarge.cpuMsPerAccount)} accounts per second from one thread). At ${HIGH} at a time
  it is busy ${Math.round(scaleLarge.cpuBusy * 100)}% of the scan: the event loop delays timers and answers, the per-account time grows
  past 2.2 s, and throughput is the CPU's, not the round trips'. At ${MID} at a time (the "high" row) one thread
  keeps up. The 1× row is a single wave (fewer accounts than slots), so no efficiency is given for it.
- **growth** = time(${scaleLarge.accounts}) / time(${scaleSmall.accounts}) at ${HIGH} at a time: **${growth}**. Discovery walks every OU at
  once (at most 4 Organizations listings in flight): ${scaleLarge.discoverySeconds} s of the ${scaleLarge.seconds} s at ${scaleLarge.accounts} accounts.
- **Peak RSS**: ${scaleLarge.peakRssMb} MB at ${scaleLarge.accounts} accounts × ${SCALE_USERS} users. Live data after the scan is small (each
  account's users deflated, ~13 KB per account all told); the rest is V8's heap growing under 256
  accounts' allocation rate (\`--max-old-space-size=256\` keeps 2,000 accounts at ~240 MB for ~10 % more time).
- The throttling row confirms every user live (a 3-hour-old report, so no generation wait and no latency
  bound to compare with) with ${scaleThrottling.perAccountConcurrency} calls at once per account and IAM at 10 requests/s (bursts of 20):
  ${scaleThrottling.throttled} requests were throttled and retried, and every verdict is still right.
`;
writeFileSync(new URL("./results/latest.md", import.meta.url), md);
process.stdout.write(md);
