import { describe, expect, it } from "vitest";
import {
  type Bill,
  billedSeconds,
  type CostSummary,
  configBill,
  costSection,
  dailyTarget,
  evidenceDays,
  kmsRequests,
  type MonthlyQuantities,
  monthlyBill,
  type RunQuantities,
  runBill,
  scaleRun,
  securityHubIngestion,
  snsRequests,
  stateTransitions,
  stepFunctionsLogEvents,
  tiered,
} from "../lib/cost";
import { PRICES } from "../lib/prices";

// The cost model (lib/cost.ts): known quantities to known dollars at the prices of lib/prices.ts.

/** A run that uses one thing at a time: everything else zero. */
function run(over: Partial<RunQuantities> = {}): RunQuantities {
  return {
    accounts: 1,
    basis: "test",
    architecture: "arm64",
    lambda: [],
    workflow: { batches: 0, ownerRounds: 1, ownerTag: false, sweep: false, retries: 0 },
    s3: { putRequests: 0, getRequests: 0, stored: [], accessLogDays: 0, bucketKey: true },
    encryptedLogGroups: 0,
    snsMessageBytes: [],
    emailSubscribers: 0,
    sqsRequests: 0,
    logRetentionDays: 0,
    customMetrics: 0,
    metricHours: 0,
    schedulerInvocations: 0,
    freeRequests: { sts: 0, iam: 0, organizations: 0, securityHubApi: 0 },
    ...over,
  };
}
const month = (over: Partial<MonthlyQuantities> = {}): MonthlyQuantities => ({
  runs: 30,
  securityHubIngestionPerAccount: [],
  otherIngestionPerAccount: 0,
  alarmMetrics: 0,
  kmsKeyMonths: 0,
  ...over,
});
const lineOf = (b: ReturnType<typeof runBill>, service: string, item: string) => {
  const l = b.lines.find((x) => x.service === service && x.item.startsWith(item));
  if (!l)
    throw new Error(`no ${service} line "${item}" in ${b.lines.map((x) => `${x.service}: ${x.item}`).join("; ")}`);
  return l;
};
const fn = (over: Partial<RunQuantities["lambda"][number]> = {}) => ({
  fn: "scan-batch",
  memoryMb: 1024,
  invocations: 1,
  seconds: 0,
  environments: 0,
  initSeconds: 0,
  logBytes: 0,
  ...over,
});

describe("Lambda", () => {
  it("bills each invocation's duration rounded up to the millisecond, never below its CPU at Lambda's share", () => {
    expect(billedSeconds([{ ms: 1000.2, cpuMs: 100 }], 1024)).toBeCloseTo(1.001, 9);
    // 1 s of CPU at 1024 MB (1024/1769 of a vCPU) takes 1.7275 s there.
    expect(billedSeconds([{ ms: 1000, cpuMs: 1000 }], 1024)).toBeCloseTo(1769 / 1024, 9);
    // Above 1,769 MB a single thread gets no more than one vCPU.
    expect(billedSeconds([{ ms: 1000, cpuMs: 1000 }], 3008)).toBe(1);
  });

  it("prices GB-seconds (INIT included) by architecture, and requests", () => {
    const q = run({ lambda: [fn({ invocations: 10, seconds: 999, environments: 1, initSeconds: 1 })] });
    // 1,000 s at 1 GB: $0.0133334 on arm64, $0.0166667 on x86_64.
    expect(lineOf(runBill(q, month()), "Lambda", "scan-batch").usd).toBeCloseTo(0.0133334, 10);
    expect(lineOf(runBill({ ...q, architecture: "x86_64" }, month()), "Lambda", "scan-batch").usd).toBeCloseTo(
      0.0166667,
      10,
    );
    const half = run({ lambda: [fn({ fn: "owners", memoryMb: 512, seconds: 1000 })] });
    expect(lineOf(runBill(half, month()), "Lambda", "owners").usd).toBeCloseTo(0.0066667, 10);
    expect(lineOf(runBill(q, month()), "Lambda", "requests").usd).toBeCloseTo(10 * 0.0000002, 12);
  });
});

describe("Step Functions", () => {
  it("counts a transition per state entered, two per Map child execution, and each retry", () => {
    const daily = { batches: 1000, ownerRounds: 1, ownerTag: true, sweep: true, retries: 0 };
    // Discover, Parallel, Map, Owners, MoreOwners, OwnersDone, Publish, QuarantineSweep + 2 × 1,000.
    expect(stateTransitions(daily)).toBe(2008);
    expect(stateTransitions({ ...daily, ownerRounds: 3 })).toBe(2012);
    expect(stateTransitions({ ...daily, ownerTag: false, sweep: false, retries: 5 })).toBe(7 + 2000 + 5);
    expect(lineOf(runBill(run({ workflow: daily }), month()), "Step Functions", "state transitions").usd).toBeCloseTo(
      2008 * 0.000025,
      12,
    );
  });

  it("logs five events per Task, four per Parallel and Map, two per Choice and Pass, seven per child", () => {
    // Start and end 2, Discover, Owners, Publish 3 × 5, Parallel 4, Map 4, MoreOwners 2, OwnersRead 2.
    expect(stepFunctionsLogEvents({ batches: 0, ownerRounds: 1, ownerTag: false, sweep: false, retries: 0 })).toBe(29);
    expect(stepFunctionsLogEvents({ batches: 10, ownerRounds: 1, ownerTag: false, sweep: false, retries: 0 })).toBe(
      29 + 70,
    );
  });
});

describe("S3", () => {
  it("prices PUT-class and GET requests", () => {
    const b = runBill(run({ s3: { ...run().s3, putRequests: 10_000, getRequests: 10_000 } }), month());
    expect(lineOf(b, "S3", "PUT").usd).toBeCloseTo(0.05, 12);
    expect(lineOf(b, "S3", "GET").usd).toBeCloseTo(0.004, 12);
  });

  it("keeps a scan's evidence for its retention through the lifecycle's classes", () => {
    // The deployment's defaults: locked 365 days, Standard-IA after 90, Glacier IR from day 365.
    expect(evidenceDays(365, 90)).toEqual({ standardDays: 90, standardIaDays: 275, glacierIrDays: 0 });
    expect(evidenceDays(730, 90)).toEqual({ standardDays: 90, standardIaDays: 275, glacierIrDays: 365 });
    const stored = [
      { what: "evidence", bytes: 1024 ** 3, objects: 6, objectPerAccount: false, ...evidenceDays(365, 90) },
    ];
    const b = runBill(run({ s3: { ...run().s3, stored } }), month());
    const monthDays = 730 / 24;
    expect(lineOf(b, "S3", "evidence: Standard,").usd).toBeCloseTo((90 / monthDays) * 0.023, 12);
    expect(lineOf(b, "S3", "evidence: Standard-IA").usd).toBeCloseTo((275 / monthDays) * 0.0125, 12);
    expect(lineOf(b, "S3", "evidence: lifecycle transitions to Standard-IA").usd).toBeCloseTo(6 * 0.00001, 12);
  });

  it("keeps an access-log record per request for the access-log bucket's days", () => {
    const q = run({ s3: { ...run().s3, putRequests: 1_000_000, accessLogDays: 400 } });
    const gb = (1_000_000 * 400) / 1024 ** 3;
    expect(lineOf(runBill(q, month()), "S3", "server access logs").usd).toBeCloseTo(
      gb * (400 / (730 / 24)) * 0.023,
      12,
    );
  });
});

describe("KMS and SNS", () => {
  it("asks KMS per execution environment with a bucket key, per object without", () => {
    const q = run({
      lambda: [fn({ environments: 6 }), fn({ fn: "publish", environments: 1 })],
      s3: { ...run().s3, putRequests: 10_000, getRequests: 11_000 },
      snsMessageBytes: [70_000],
      encryptedLogGroups: 6,
    });
    // 2 × 7 environments + 2 per message + 2 per log group + the ItemReader's decryption.
    expect(kmsRequests(q)).toBe(14 + 2 + 12 + 1);
    expect(kmsRequests({ ...q, s3: { ...q.s3, bucketKey: false } })).toBe(21_000 + 2 + 12 + 1);
    expect(lineOf(runBill(q, month()), "KMS", "requests").usd).toBeCloseTo(29 * 0.000003, 12);
  });

  it("counts a request per 64 KB chunk of a message", () => {
    expect(snsRequests([70_000, 100, 65_536])).toBe(2 + 1 + 1);
  });
});

describe("Security Hub", () => {
  it("applies the free 10,000 ingestion events to each account on its own", () => {
    // 70,000 findings over 10,000 accounts: nothing billed; the same in one account: 60,000 billed.
    const spread = Array.from({ length: 10_000 }, () => 7);
    expect(securityHubIngestion(spread, 0)).toEqual({ events: 70_000, billable: 0, usd: 0 });
    expect(securityHubIngestion([70_000], 0).usd).toBeCloseTo(60_000 * 0.00003, 12);
    expect(securityHubIngestion([5_000, 12_000], 0).billable).toBe(2_000);
  });

  it("bills every event where other products already use an account's free tier", () => {
    expect(securityHubIngestion([5_000], 10_000).billable).toBe(5_000);
    expect(securityHubIngestion([5_000], 8_000).billable).toBe(3_000);
    expect(
      securityHubIngestion(
        Array.from({ length: 10_000 }, () => 7),
        10_000,
      ).usd,
    ).toBeCloseTo(70_000 * 0.00003, 9);
  });

  it("gives each run 1/30 of the month's ingestion", () => {
    const b = runBill(run(), month({ securityHubIngestionPerAccount: [13_000] }));
    expect(lineOf(b, "Security Hub", "finding ingestion").usd).toBeCloseTo((3_000 * 0.00003) / 30, 12);
  });
});

describe("CloudWatch and X-Ray", () => {
  it("ingests the functions' logs with their platform records and the execution log", () => {
    const q = run({ lambda: [fn({ invocations: 1, environments: 1, logBytes: 100 })] });
    // 100 + 700 (START, REPORT) + 600 (INIT) + 29 Step Functions events × 500 bytes.
    const bytes = 100 + 700 + 600 + 29 * 500;
    expect(lineOf(runBill(q, month()), "CloudWatch", "logs ingested").usd).toBeCloseTo((bytes / 1024 ** 3) * 0.5, 12);
  });

  it("meters custom metrics by the hour they are sent in", () => {
    const b = runBill(run({ customMetrics: 15, metricHours: 2 }), month());
    expect(lineOf(b, "CloudWatch", "custom metrics").usd).toBeCloseTo(((15 * 2) / 730) * 0.3, 12);
  });

  it("records at most a trace per invocation and one for the execution", () => {
    const b = runBill(run({ lambda: [fn({ invocations: 999 })] }), month());
    expect(lineOf(b, "X-Ray", "traces").usd).toBeCloseTo(1000 * 0.000005, 12);
  });
});

describe("a month", () => {
  const q = run({ lambda: [fn({ seconds: 1000 })], s3: { ...run().s3, putRequests: 1000 } });
  const m = month({ alarmMetrics: 11, kmsKeyMonths: 1 });

  it("is 30 runs and the fixed items", () => {
    const b = monthlyBill(q, m);
    expect(b.usd).toBeCloseTo(30 * runBill(q, m).usd + 11 * 0.1 + 1, 9);
  });

  it("credits the Free Tier's allowances only when asked", () => {
    const without = monthlyBill(q, m);
    const withFree = monthlyBill(q, m, PRICES, { freeTier: true });
    // 30,000 GB-s, 30 requests, 30 × 10 transitions and 30 traces… all inside the allowances; 10 of 11 alarms.
    const lambda = 30 * 1000 * 0.0000133334;
    expect(without.usd - withFree.usd).toBeGreaterThan(lambda + 10 * 0.1 - 1e-9);
    expect(withFree.lines.find((l) => l.item === "alarmMetrics")?.usd).toBeCloseTo(-1, 12);
  });
});

describe("scaling a run", () => {
  it("scales per account, Owners by the tags it reads, and keeps what is per run", () => {
    const q = run({
      accounts: 10_000,
      lambda: [
        fn({ invocations: 1000, seconds: 4600, environments: 6, initSeconds: 6 }),
        fn({ fn: "owners", memoryMb: 512, seconds: 420, environments: 1 }),
        fn({ fn: "publish", seconds: 60, environments: 1 }),
      ],
      workflow: { batches: 1000, ownerRounds: 1, ownerTag: true, sweep: true, retries: 0 },
      s3: {
        ...run().s3,
        putRequests: 10_000,
        getRequests: 11_000,
        stored: [
          { what: "scans/", bytes: 400e6, objects: 6, objectPerAccount: false, standardDays: 90 },
          { what: "runs/", bytes: 150e6, objects: 10_000, objectPerAccount: true, standardDays: 8 },
        ],
      },
      snsMessageBytes: [30_000],
      customMetrics: 15,
    });
    const m = month({ securityHubIngestionPerAccount: Array.from({ length: 10_000 }, (_, i) => i % 10) });
    const { run: s, month: sm } = scaleRun(q, m, 1000, { measured: 4200, scaled: 1000 });
    expect(s.workflow.batches).toBe(100);
    const by = (name: string) => s.lambda.find((l) => l.fn === name);
    expect(by("scan-batch")).toMatchObject({ invocations: 100, seconds: 460, environments: 6, initSeconds: 6 });
    expect(by("owners")?.seconds).toBeCloseTo(100, 9);
    expect(by("publish")).toMatchObject({ invocations: 1, seconds: 6 });
    expect(s.s3).toMatchObject({ putRequests: 1000, getRequests: 1100 });
    expect(s.s3.stored.map((x) => [x.bytes, x.objects])).toEqual([
      [40e6, 6],
      [15e6, 1000],
    ]);
    // Scaled up, a message stays within SNS's 256 KB.
    expect(scaleRun(q, m, 100_000, { measured: 4200, scaled: 4200 }).run.snsMessageBytes).toEqual([262_144]);
    expect(s.customMetrics).toBe(15);
    expect(sm.securityHubIngestionPerAccount).toHaveLength(1000);
  });
});

describe("AWS Config, the same coverage", () => {
  it("prices each rule's daily evaluation of each user or account, tiered", () => {
    expect(tiered(600_000, PRICES.config.ruleEvaluationTiers)).toBeCloseTo(100 + 320 + 50, 9);
    // Two accounts of 20 users: 30 × (20 + 20 + 1 + 1) each.
    expect(configBill([20, 20]).usd).toBeCloseTo(2520 * 0.001, 9);
    const org = Array.from({ length: 10_000 }, () => 20); // 12.6 million evaluations a month
    expect(configBill(org).usd).toBeCloseTo(100 + 320 + 12_100_000 * 0.0005, 6);
    expect(configBill(org, { tierScope: "account" }).usd).toBeCloseTo(12_600_000 * 0.001, 6);
    expect(configBill([20], { configurationItems: 20 }).usd).toBeCloseTo(1260 * 0.001 + 20 * 0.003, 9);
  });
});

describe("the results' Cost section", () => {
  const bill = (usd: number): Bill => ({
    usd,
    lines: [{ service: "S3", item: "x", quantity: 1, unit: "u", unitUsd: usd, usd, source: "s" }],
  });
  const size = (accounts: number, usd: number, measured: boolean) => ({
    accounts,
    basis: measured ? "measured" : "scaled per account from 10,000 accounts",
    measured,
    run: bill(usd),
    monthUsd: usd * 30 + 4.1,
    monthWithFreeTierUsd: usd * 20,
    monthSecurityHubFreeTierUsedUpUsd: usd * 30 + 6,
    configMonthUsd: 7890.56,
    configPerAccountTiersMonthUsd: 15441.12,
    configEvaluations: 15_441_120,
    managementEvents: 321_407,
    indirect: bill(1.29),
  });
  const summary = (usd10k: number): CostSummary => ({
    prices: { asOf: PRICES.asOf, region: PRICES.region },
    deployment: {
      architecture: "arm64",
      bucketKey: true,
      evidenceRetentionDays: 365,
      transitionToIaDays: 90,
      latestNoncurrentDays: 7,
      runsExpirationDays: 7,
      runsNoncurrentDays: 1,
      accessLogDays: 400,
      alarms: 9,
      alarmMetrics: 11,
      logRetentionDays: 365,
    },
    targetUsd: 0.5,
    measuredAccounts: 10_000,
    steady: {
      run: 2,
      lambda: [fn({ invocations: 1000, seconds: 4600, environments: 6 })],
      customMetrics: 14,
      metricHours: 2,
    },
    bySize: [size(1000, 0.04, false), size(10_000, usd10k, true)],
    fixedMonthly: bill(4.1),
    firstRun: { usd: 0.6, ownerRounds: 3 },
  });

  it("states the daily 10,000-account target and whether it is met", () => {
    expect(dailyTarget(summary(0.28))).toEqual({
      target: "daily 10,000-account run < $0.50",
      measured: "$0.2800 a run (measured); $0.4167 with the month's fixed $4.10 shared over its 30 runs",
      met: true,
    });
    expect(dailyTarget(summary(0.5)).met).toBe(false);
  });

  it("prices both sizes and lists the daily run line by line", () => {
    const md = costSection(summary(0.28));
    expect(md).toMatch(/^## Cost\n/);
    expect(md).toContain("| 1,000 accounts (scaled from 10,000) | 10,000 accounts (measured) |");
    expect(md).toContain("| a daily run | $0.0400 | $0.2800 |");
    expect(md).toContain(
      "| AWS Config's four MFA rules instead, a month (tiers on the organization's total) | $7,891 | $7,891 |",
    );
    expect(md).toContain("Target: daily 10,000-account run < $0.50: met");
    expect(md).toContain("| **total** | | | | **$0.2800** |");
    expect(md).toContain("3 Owners rounds");
  });
});
