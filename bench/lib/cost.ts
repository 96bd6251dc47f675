/**
 * The bill: what the deployed workflow costs at the list prices of lib/prices.ts, from what the
 * pipeline benchmark counted (pipeline.bench.ts). Pure functions — quantities in, dollars out, one line
 * per billed item — so a test can hold known quantities to known dollars (test/cost.test.ts).
 *
 * What the bench does not count is derived here, each from the deployment and said how:
 * - Step Functions state transitions and execution-log events, from SCAN_WORKFLOW's states
 *   (packages/aws/src/pipeline/workflow.ts) and the run's batches and Owners rounds;
 * - KMS requests, from the bucket key (one data-key request per execution environment, not per object);
 * - S3 server access logs, a record per request;
 * - Lambda's platform log lines (START, REPORT, INIT), a fixed size each;
 * - X-Ray traces, at most one per invocation and one for the execution.
 */
import { FREE_TIER, PRICES, type Price, type Prices } from "./prices";

export type Architecture = "arm64" | "x86_64";

/** Lambda's CPU grows with memory: 1,769 MB is one vCPU ("Configuring function memory", Lambda developer guide). */
export const MB_PER_VCPU = 1769;
/** Days in a month as AWS prorates storage (byte-hours over a 730-hour month). */
export const DAYS_PER_MONTH = 730 / 24;
export const HOURS_PER_MONTH = 730;
/** One S3 server access log record (a line of ~20 fields): an assumption, ~400 bytes. */
export const ACCESS_LOG_RECORD_BYTES = 400;
/** Lambda's own log records per invocation in JSON format (platform.start and platform.report): an assumption. */
export const PLATFORM_LOG_BYTES_PER_INVOCATION = 700;
/** …and per execution environment started (platform.initStart, initRuntimeDone, initReport): an assumption. */
export const PLATFORM_LOG_BYTES_PER_INIT = 600;
/** One Step Functions execution-log event without execution data (includeExecutionData false): an assumption. */
export const SFN_LOG_EVENT_BYTES = 500;
/** SNS counts each 64 KB chunk of a published message as one request. */
export const SNS_CHUNK_BYTES = 64 * 1024;
/** SNS's largest message (the digest is cut to fit it). */
export const SNS_MAX_BYTES = 262_144;

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** One invocation as measured: its wall time and its CPU time. */
export interface Invocation {
  ms: number;
  cpuMs: number;
}

/**
 * Billed seconds of invocations: each one's duration rounded up to the millisecond, and never less
 * than its CPU time at the CPU share Lambda gives `memoryMb` (a machine that gave it more CPU ran it
 * faster than Lambda would). Node runs JavaScript on one thread, so the share counts up to one vCPU.
 */
export function billedSeconds(invocations: readonly Invocation[], memoryMb: number): number {
  const share = Math.min(1, memoryMb / MB_PER_VCPU);
  return sum(invocations.map((i) => Math.max(Math.ceil(i.ms), i.cpuMs / share))) / 1000;
}

/** One function's use in one run. */
export interface LambdaUse {
  fn: string;
  memoryMb: number;
  invocations: number;
  /** Billed invocation seconds ({@link billedSeconds}). */
  seconds: number;
  /** Execution environments started: each INIT phase is billed as duration (since 1 August 2025). */
  environments: number;
  initSeconds: number;
  /** What the function wrote to its log (stdout and stderr: Powertools' JSON lines, its EMF metrics). */
  logBytes: number;
}

/** The run's shape as the state machine sees it: what its state transitions follow from. */
export interface WorkflowShape {
  /** Distributed Map child executions (ItemBatcher batches). */
  batches: number;
  ownerRounds: number;
  /** Discover's output named an owner tag (otherwise Owners answers at once and the branch ends). */
  ownerTag: boolean;
  /** QuarantineSweep ran (the quarantine is deployed). */
  sweep: boolean;
  /** Task retries (Lambda's transient errors), each a transition. */
  retries: number;
}

/**
 * State transitions of one execution of SCAN_WORKFLOW: every state entered is one, and so is each
 * retry. The parent: Discover, ScanAndReadOwners (Parallel), ScanAccounts (Distributed Map), per Owners
 * round Owners and MoreOwners (Choice), the branch's end (OwnersRead or OwnersDone, a Pass), Publish
 * and QuarantineSweep. Each child execution of the Map (Standard) enters ScanBatch; its start is
 * counted as one more (`perChild` 2), on the safe side of what the pricing page leaves unsaid.
 */
export function stateTransitions(w: WorkflowShape, perChild = 2): number {
  const owners = w.ownerTag ? 2 * Math.max(1, w.ownerRounds) + 1 : 3; // no tag: one Owners, MoreOwners, OwnersRead
  const parent = 3 + owners + 1 + (w.sweep ? 1 : 0);
  return parent + perChild * w.batches + w.retries;
}

/**
 * Execution-log events at level ALL (the state machine's logging): per execution its start and end,
 * per Task state five (entered, scheduled, started, succeeded, exited), per Parallel and Map four, per
 * Choice and Pass two. Each Map child execution is counted as logging as the parent does (seven).
 */
export function stepFunctionsLogEvents(w: WorkflowShape): number {
  const rounds = w.ownerTag ? Math.max(1, w.ownerRounds) : 1;
  const tasks = 1 + rounds + 1 + (w.sweep ? 1 : 0); // Discover, Owners×rounds, Publish, QuarantineSweep
  const parent = 2 + 5 * tasks + 4 + 4 + 2 * rounds + 2;
  return parent + 7 * w.batches + 2 * w.retries;
}

/** Objects a run leaves in S3, and how long the bucket's lifecycle keeps them in each class. */
export interface Stored {
  what: string;
  bytes: number;
  objects: number;
  /** Its objects are one per account (the run's results); otherwise a fixed few (the report's files). */
  objectPerAccount: boolean;
  standardDays: number;
  standardIaDays?: number;
  glacierIrDays?: number;
}

/**
 * The days a scan's evidence spends in each class within its Object Lock retention, under the report
 * bucket's lifecycle (report-store.ts): Standard-IA after `transitionToIaDays`, Glacier Instant
 * Retrieval at the later of 365 days and that + 90. (Nothing expires it afterwards: it stays in Glacier
 * IR, a cost per year kept beyond the retention.)
 */
export function evidenceDays(retentionDays: number, transitionToIaDays: number) {
  const toGlacierIr = Math.max(365, transitionToIaDays + 90);
  return {
    standardDays: Math.min(transitionToIaDays, retentionDays),
    standardIaDays: Math.max(0, Math.min(toGlacierIr, retentionDays) - transitionToIaDays),
    glacierIrDays: Math.max(0, retentionDays - toGlacierIr),
  };
}

/** What one run of the workflow used. */
export interface RunQuantities {
  /** Accounts in scope. */
  accounts: number;
  /** Where these figures come from (measured at N accounts, scaled from N, …). */
  basis: string;
  architecture: Architecture;
  lambda: readonly LambdaUse[];
  workflow: WorkflowShape;
  s3: {
    /** PUT, COPY, POST and LIST requests (multipart create, part and complete included). */
    putRequests: number;
    /** GET and HEAD requests (the Map's ItemReader included). */
    getRequests: number;
    stored: readonly Stored[];
    /** Days the server access logs are kept (the access-log bucket's expiration). */
    accessLogDays: number;
    /** SSE-KMS with an S3 Bucket Key (report-store.ts: bucketKeyEnabled). */
    bucketKey: boolean;
  };
  /** Log groups encrypted with the deployment's key (each asks KMS for a data key now and then). */
  encryptedLogGroups: number;
  /** Bytes of each SNS message published (the digest, the announcements). */
  snsMessageBytes: readonly number[];
  /** E-mail subscriptions each message is delivered to. */
  emailSubscribers: number;
  /** SQS requests (the sweep reads each member account's forwarding dead-letter queue). */
  sqsRequests: number;
  logRetentionDays: number;
  /** Custom metrics the functions sent (Powertools EMF): distinct names, each metered by the hour. */
  customMetrics: number;
  /** Clock hours a run's metrics are sent in (a run shorter than an hour can straddle two). */
  metricHours: number;
  schedulerInvocations: number;
  /** Requests charged nothing, counted to say so. */
  freeRequests: { sts: number; iam: number; organizations: number; securityHubApi: number };
}

/** What is billed by the month rather than by the run. */
export interface MonthlyQuantities {
  /** Runs a month (a daily schedule: 30). */
  runs: number;
  /**
   * Finding ingestion events each hub has from orgmfa in a month — the first import of a finding,
   * its re-import when unchanged for 30 days (refreshAfterMs, inside Security Hub's 90 days), and each
   * change — one entry per account: the free 10,000 apply to each account separately.
   */
  securityHubIngestionPerAccount: readonly number[];
  /** Ingestion events each account has that month from other products (they use its free tier first). */
  otherIngestionPerAccount: number;
  /** Alarm metrics (alarms.ts: an alarm on a math expression counts each metric in it). */
  alarmMetrics: number;
  /** Customer managed key-months, rotations included. */
  kmsKeyMonths: number;
}

export interface BillLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  unitUsd: number;
  usd: number;
  source: string;
  note?: string;
  /** The AWS Free Tier allowance this line draws on (not applied unless asked). */
  freeTier?: keyof typeof FREE_TIER;
}

export interface Bill {
  lines: BillLine[];
  usd: number;
}

const line = (
  service: string,
  item: string,
  quantity: number,
  price: Price,
  extra: Pick<BillLine, "note" | "freeTier"> = {},
): BillLine => ({
  service,
  item,
  quantity,
  unit: price.unit,
  unitUsd: price.usd,
  usd: quantity * price.usd,
  source: price.source,
  ...extra,
});

const billOf = (lines: BillLine[]): Bill => ({ lines, usd: sum(lines.map((l) => l.usd)) });

/** GB as AWS bills it (2^30 bytes). */
export const gb = (bytes: number) => bytes / 1024 ** 3;

/** SNS requests: each 64 KB chunk of a message is one. */
export const snsRequests = (messageBytes: readonly number[]) =>
  sum(messageBytes.map((b) => Math.max(1, Math.ceil(b / SNS_CHUNK_BYTES))));

/**
 * KMS requests a run makes. With an S3 Bucket Key, S3 asks KMS for a bucket-level key for a while and
 * derives each object's key from it: one request per execution environment writing and one reading is
 * taken (`2 ×` environments); without one, a request per encrypted object written or read. Plus the
 * encrypted topic (a data key and its decryption per message) and the encrypted log groups (two each).
 */
export function kmsRequests(q: RunQuantities): number {
  const environments = sum(q.lambda.map((l) => l.environments));
  const s3 = q.s3.bucketKey ? 2 * environments : q.s3.putRequests + q.s3.getRequests;
  return s3 + 2 * q.snsMessageBytes.length + 2 * q.encryptedLogGroups + 1; // + the ItemReader's decryption
}

/** Lambda's log bytes with its platform records, and the state machine's execution log. */
export function logBytes(q: RunQuantities): { lambda: number; stepFunctions: number } {
  const invocations = sum(q.lambda.map((l) => l.invocations));
  const environments = sum(q.lambda.map((l) => l.environments));
  return {
    lambda:
      sum(q.lambda.map((l) => l.logBytes)) +
      invocations * PLATFORM_LOG_BYTES_PER_INVOCATION +
      environments * PLATFORM_LOG_BYTES_PER_INIT,
    stepFunctions: stepFunctionsLogEvents(q.workflow) * SFN_LOG_EVENT_BYTES,
  };
}

/**
 * Security Hub's finding ingestion in a month: in each account the first 10,000 events are free, and
 * other products' events use them first (`otherPerAccount`); orgmfa's events beyond them are billed.
 */
export function securityHubIngestion(
  perAccount: readonly number[],
  otherPerAccount: number,
  prices: Prices = PRICES,
): { events: number; billable: number; usd: number } {
  const free = prices.securityHub.freeIngestionPerAccountMonth;
  const over = (n: number) => Math.max(0, n - free);
  const billable = sum(perAccount.map((n) => over(n + otherPerAccount) - over(otherPerAccount)));
  return { events: sum(perAccount), billable, usd: billable * prices.securityHub.findingIngestion.usd };
}

/** Storage lines of what a run keeps, each class for its days, and the lifecycle transitions into them. */
function storageLines(stored: readonly Stored[], prices: Prices): BillLine[] {
  const out: BillLine[] = [];
  const months = (days: number) => days / DAYS_PER_MONTH;
  for (const s of stored) {
    const g = gb(s.bytes);
    out.push(
      line("S3", `${s.what}: Standard, ${s.standardDays} days`, g * months(s.standardDays), prices.s3.standardGbMonth),
    );
    if (s.standardIaDays) {
      out.push(
        line(
          "S3",
          `${s.what}: Standard-IA, ${s.standardIaDays} days`,
          g * months(s.standardIaDays),
          prices.s3.standardIaGbMonth,
        ),
        line("S3", `${s.what}: lifecycle transitions to Standard-IA`, s.objects, prices.s3.transitionToIa),
      );
    }
    if (s.glacierIrDays) {
      out.push(
        line(
          "S3",
          `${s.what}: Glacier IR, ${s.glacierIrDays} days`,
          g * months(s.glacierIrDays),
          prices.s3.glacierIrGbMonth,
        ),
        line("S3", `${s.what}: lifecycle transitions to Glacier IR`, s.objects, prices.s3.transitionToGlacierIr),
      );
    }
  }
  return out;
}

/**
 * One run's bill: every item it uses, storage for as long as the bucket keeps what it wrote (the
 * evidence for its retention), and its share (1 / runs) of the month's Security Hub ingestion.
 */
export function runBill(q: RunQuantities, m: MonthlyQuantities, prices: Prices = PRICES): Bill {
  const lines: BillLine[] = [];
  const gbSecond = prices.lambda.gbSecond[q.architecture];
  for (const l of q.lambda)
    lines.push(
      line(
        "Lambda",
        `${l.fn} (${l.memoryMb} MB, ${l.invocations} invocations, ${l.environments} environments)`,
        ((l.seconds + l.initSeconds) * l.memoryMb) / 1024,
        gbSecond,
        { freeTier: "lambdaGbSeconds", note: `${round(l.seconds, 1)} s billed + ${round(l.initSeconds, 1)} s INIT` },
      ),
    );
  const invocations = sum(q.lambda.map((l) => l.invocations));
  lines.push(line("Lambda", "requests", invocations, prices.lambda.request, { freeTier: "lambdaRequests" }));
  lines.push(
    line("Step Functions", "state transitions", stateTransitions(q.workflow), prices.stepFunctions.transition, {
      freeTier: "stateTransitions",
      note: `${q.workflow.batches} Map child executions × 2, the parent's states, ${q.workflow.retries} retries`,
    }),
  );
  lines.push(line("S3", "PUT, COPY, POST, LIST requests", q.s3.putRequests, prices.s3.putRequest));
  lines.push(line("S3", "GET requests", q.s3.getRequests, prices.s3.getRequest));
  const accessLogs: Stored = {
    what: "server access logs",
    bytes: (q.s3.putRequests + q.s3.getRequests) * ACCESS_LOG_RECORD_BYTES,
    objects: 0,
    objectPerAccount: false,
    standardDays: q.s3.accessLogDays,
  };
  lines.push(...storageLines([...q.s3.stored, accessLogs], prices));
  lines.push(
    line("KMS", "requests", kmsRequests(q), prices.kms.request, {
      freeTier: "kmsRequests",
      note: q.s3.bucketKey ? "S3 Bucket Key: per execution environment, not per object" : "a request per object",
    }),
  );
  lines.push(line("SNS", "publish requests (64 KB chunks)", snsRequests(q.snsMessageBytes), prices.sns.request));
  lines.push(
    line("SNS", "e-mail notifications", q.snsMessageBytes.length * q.emailSubscribers, prices.sns.email, {
      freeTier: "snsEmails",
    }),
  );
  lines.push(line("SQS", "requests", q.sqsRequests, prices.sqs.request, { freeTier: "sqsRequests" }));
  const hub = securityHubIngestion(m.securityHubIngestionPerAccount, m.otherIngestionPerAccount, prices);
  lines.push({
    ...line(
      "Security Hub",
      `finding ingestion, 1/${m.runs} of the month's`,
      hub.billable / m.runs,
      prices.securityHub.findingIngestion,
    ),
    note: `${hub.events.toLocaleString("en-US")} events a month in ${m.securityHubIngestionPerAccount.length.toLocaleString("en-US")} accounts, ${hub.billable.toLocaleString("en-US")} beyond each account's free 10,000`,
  });
  const logs = logBytes(q);
  const logGb = gb(logs.lambda + logs.stepFunctions);
  lines.push(
    line("CloudWatch", "logs ingested (Lambda, Step Functions)", logGb, prices.cloudwatch.logsIngestionGb, {
      freeTier: "logsGb",
    }),
  );
  lines.push(
    line(
      "CloudWatch",
      `logs stored ${q.logRetentionDays} days (uncompressed: at most)`,
      (logGb * q.logRetentionDays) / DAYS_PER_MONTH,
      prices.cloudwatch.logsStorageGbMonth,
    ),
  );
  lines.push(
    line(
      "CloudWatch",
      `custom metrics (${q.customMetrics} × ${q.metricHours} h)`,
      (q.customMetrics * q.metricHours) / HOURS_PER_MONTH,
      prices.cloudwatch.customMetricMonth,
      { freeTier: "customMetrics" },
    ),
  );
  lines.push(
    line("X-Ray", "traces (at most one per invocation, and the execution)", invocations + 1, prices.xray.trace, {
      freeTier: "xrayTraces",
    }),
  );
  lines.push(
    line("EventBridge Scheduler", "invocations", q.schedulerInvocations, prices.scheduler.invocation, {
      freeTier: "schedulerInvocations",
    }),
  );
  const free = { usd: 0, unit: "request", source: prices.free.iam };
  lines.push(line("STS", "AssumeRole and GetCallerIdentity", q.freeRequests.sts, free));
  lines.push(line("IAM", "requests", q.freeRequests.iam, free));
  lines.push(
    line("Organizations", "requests", q.freeRequests.organizations, { ...free, source: prices.free.organizations }),
  );
  lines.push(
    line(
      "Security Hub",
      "GetFindings and BatchImportFindings calls",
      q.freeRequests.securityHubApi,
      { ...free, source: prices.securityHub.findingIngestion.source },
      { note: "billed by finding ingestion events, not by call" },
    ),
  );
  return billOf(lines);
}

/** What the deployment costs a month whether it runs or not. */
export function fixedMonthlyBill(m: MonthlyQuantities, prices: Prices = PRICES): Bill {
  return billOf([
    line("CloudWatch", "alarms", m.alarmMetrics, prices.cloudwatch.alarmMetricMonth, { freeTier: "alarmMetrics" }),
    line("KMS", "the deployment's key (with its rotations)", m.kmsKeyMonths, prices.kms.keyMonth),
  ]);
}

/**
 * A month: `m.runs` runs (each run line times the runs, Security Hub once for the month) and the fixed
 * items. With `freeTier`, the AWS Free Tier's always-free allowances are credited as lines of their own
 * (only where the organization's other workloads leave them unused).
 */
export function monthlyBill(
  q: RunQuantities,
  m: MonthlyQuantities,
  prices: Prices = PRICES,
  o: { freeTier?: boolean } = {},
): Bill {
  const run = runBill(q, m, prices).lines.map((l) => ({ ...l, quantity: l.quantity * m.runs, usd: l.usd * m.runs }));
  const lines = [...run, ...fixedMonthlyBill(m, prices).lines];
  if (o.freeTier) {
    const byKey = new Map<keyof typeof FREE_TIER, BillLine[]>();
    for (const l of lines) if (l.freeTier) byKey.set(l.freeTier, [...(byKey.get(l.freeTier) ?? []), l]);
    for (const [key, ls] of byKey) {
      // Each allowance is in its lines' unit (custom metrics: metric-months, as they are billed).
      const covered = Math.min(sum(ls.map((l) => l.quantity)), FREE_TIER[key]);
      const credit = covered * (ls[0]?.unitUsd ?? 0);
      if (credit > 0)
        lines.push({
          service: "AWS Free Tier",
          item: key,
          quantity: covered,
          unit: ls[0]?.unit ?? "",
          unitUsd: -(ls[0]?.unitUsd ?? 0),
          usd: -credit,
          source: "https://aws.amazon.com/free/",
        });
    }
  }
  return billOf(lines);
}

/**
 * Scales a measured run to another number of accounts, per account: the Map's batches, its Lambda
 * seconds and INIT, Discover's, Publish's and the sweep's seconds, S3 requests and what is stored, SQS,
 * the functions' logs, the digest's size, Security Hub's accounts, the run's result objects (not the
 * report's files). Owners reads for at most half its
 * timeout a round, so its seconds follow the tags it reads (`ownersRead`: measured, and at `accounts`),
 * not the accounts; a message stays within SNS's 256 KB. Per run and unchanged: the other functions' invocations and environments, the
 * parent's states, the metrics, the schedule.
 */
export function scaleRun(
  q: RunQuantities,
  m: MonthlyQuantities,
  accounts: number,
  ownersRead: { measured: number; scaled: number },
): { run: RunQuantities; month: MonthlyQuantities } {
  const f = accounts / q.accounts;
  const batches = Math.ceil(q.workflow.batches * f);
  const lambda = q.lambda.map((l): LambdaUse => {
    if (l.fn === "owners") {
      const g = ownersRead.measured > 0 ? ownersRead.scaled / ownersRead.measured : f;
      return { ...l, seconds: l.seconds * g, logBytes: l.logBytes * g };
    }
    if (l.fn === "scan-batch") {
      const environments = Math.max(1, Math.min(l.environments, batches));
      return {
        ...l,
        invocations: batches,
        seconds: l.seconds * f,
        environments,
        initSeconds: (l.initSeconds / Math.max(1, l.environments)) * environments,
        logBytes: l.logBytes * f,
      };
    }
    return { ...l, seconds: l.seconds * f, logBytes: l.logBytes * f };
  });
  const hubs = m.securityHubIngestionPerAccount;
  return {
    run: {
      ...q,
      accounts,
      basis: `scaled per account from ${q.accounts.toLocaleString("en-US")} accounts`,
      lambda,
      workflow: { ...q.workflow, batches },
      s3: {
        ...q.s3,
        putRequests: Math.round(q.s3.putRequests * f),
        getRequests: Math.round(q.s3.getRequests * f),
        stored: q.s3.stored.map((s) => ({
          ...s,
          bytes: s.bytes * f,
          objects: s.objectPerAccount ? Math.round(s.objects * f) : s.objects,
        })),
      },
      snsMessageBytes: q.snsMessageBytes.map((b) => Math.min(SNS_MAX_BYTES, Math.round(b * f))),
      sqsRequests: Math.round(q.sqsRequests * f),
      freeRequests: {
        sts: Math.round(q.freeRequests.sts * f),
        iam: Math.round(q.freeRequests.iam * f),
        organizations: Math.round(q.freeRequests.organizations * f),
        securityHubApi: Math.round(q.freeRequests.securityHubApi * f),
      },
    },
    month: {
      ...m,
      securityHubIngestionPerAccount: Array.from(
        { length: accounts },
        (_, i) => hubs[i % Math.max(1, hubs.length)] ?? 0,
      ),
    },
  };
}

/** The managed rules that cover what orgmfa reports, and what each evaluates. */
export const MFA_CONFIG_RULES = [
  { rule: "iam-user-mfa-enabled", evaluates: "user" },
  { rule: "mfa-enabled-for-iam-console-access", evaluates: "user" },
  { rule: "root-account-mfa-enabled", evaluates: "account" },
  { rule: "root-account-hardware-mfa-enabled", evaluates: "account" },
] as const;

/** Tiered pricing: each unit at the price of the tier it falls in. */
export function tiered(count: number, tiers: readonly { upTo: number; usd: number }[]): number {
  let usd = 0;
  let from = 0;
  for (const t of tiers) {
    if (count <= from) break;
    usd += (Math.min(count, t.upTo) - from) * t.usd;
    from = t.upTo;
  }
  return usd;
}

/**
 * The same coverage with AWS Config's managed rules, periodic every 24 hours in one Region (IAM is
 * global): a rule evaluation is recorded for each resource a rule evaluates — each IAM user for the two
 * user rules, the account for the two root rules. The tiers are per Region; with consolidated billing
 * AWS adds up the organization's usage to find the tier (`organization`), and `account` prices each
 * account's on its own (an upper bound). Configuration items are not included (`configurationItems`,
 * 0 by default): the user rules evaluate the AWS::IAM::User resources Config records, so recording them
 * comes on top — a floor, not an estimate.
 */
export function configBill(
  usersPerAccount: readonly number[],
  o: { periodsPerMonth?: number; tierScope?: "organization" | "account"; configurationItems?: number } = {},
  prices: Prices = PRICES,
): Bill {
  const periods = o.periodsPerMonth ?? 30;
  const perAccount = usersPerAccount.map(
    (users) => periods * sum(MFA_CONFIG_RULES.map((r) => (r.evaluates === "user" ? users : 1))),
  );
  const total = sum(perAccount);
  const tiers = prices.config.ruleEvaluationTiers;
  const usd =
    (o.tierScope ?? "organization") === "organization"
      ? tiered(total, tiers)
      : sum(perAccount.map((n) => tiered(n, tiers)));
  const lines: BillLine[] = [];
  const users = sum(usersPerAccount);
  for (const r of MFA_CONFIG_RULES) {
    const n = periods * (r.evaluates === "user" ? users : usersPerAccount.length);
    lines.push({
      ...line(
        "Config",
        `${r.rule} (${periods} daily evaluations of each ${r.evaluates})`,
        n,
        prices.config.ruleEvaluation,
      ),
      usd: total > 0 ? (usd * n) / total : 0,
      note: `tiers by ${o.tierScope ?? "organization"}`,
    });
  }
  if (o.configurationItems)
    lines.push(line("Config", "configuration items recorded", o.configurationItems, prices.config.configurationItem));
  return billOf(lines);
}

/**
 * What other services may charge, where they are on, for the management events a run causes in the
 * member accounts (every IAM, STS, Organizations, SQS and Security Hub call: CloudTrail logs each one).
 * Not orgmfa's bill.
 */
export function indirectBill(managementEvents: number, prices: Prices = PRICES): Bill {
  return billOf([
    line(
      "GuardDuty",
      "CloudTrail management events analysed",
      managementEvents,
      prices.indirect.guardDutyManagementEvent,
    ),
    line("CloudTrail", "a second trail's copy of them", managementEvents, prices.indirect.cloudTrailExtraCopy),
  ]);
}

export const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Dollars as the tables print them: cents for large amounts, four decimals below a dollar. */
export function usd(x: number): string {
  const a = Math.abs(x);
  const s = a >= 100 ? a.toLocaleString("en-US", { maximumFractionDigits: 0 }) : a >= 1 ? a.toFixed(2) : a.toFixed(4);
  return `${x < 0 ? "−" : ""}$${s}`;
}

const qty = (x: number) =>
  x >= 100 ? Math.round(x).toLocaleString("en-US") : x >= 1 ? String(round(x, 2)) : String(Number(x.toPrecision(3)));

/** A bill as markdown table rows (service, item, quantity, unit price, dollars), its zero lines last. */
export function billRows(b: Bill): string[] {
  const sorted = [...b.lines].sort((x, y) => Number(x.usd === 0) - Number(y.usd === 0) || y.usd - x.usd);
  return sorted.map(
    (l) =>
      `| ${l.service} | ${l.item}${l.note ? ` — ${l.note}` : ""} | ${qty(l.quantity)} ${l.unit} | ${l.unitUsd === 0 ? "free" : `$${Number(l.unitUsd.toPrecision(6))}`} | ${usd(l.usd)} |`,
  );
}

/** What the results' "Cost" section and the JSON say: the bills at each size, and what they rest on. */
export interface CostSummary {
  prices: { asOf: string; region: string };
  /** The deployment's facts the bill depends on (synthesized). */
  deployment: {
    architecture: Architecture;
    bucketKey: boolean;
    evidenceRetentionDays: number;
    transitionToIaDays: number;
    latestNoncurrentDays: number;
    runsExpirationDays: number;
    runsNoncurrentDays: number;
    accessLogDays: number;
    alarms: number;
    alarmMetrics: number;
    logRetentionDays: number;
  };
  targetUsd: number;
  /** The size the bench ran. */
  measuredAccounts: number;
  /** The steady-state run the bills are of. */
  steady: {
    run: number;
    lambda: readonly LambdaUse[];
    customMetrics: number;
    metricHours: number;
  };
  bySize: Array<{
    accounts: number;
    basis: string;
    measured: boolean;
    run: Bill;
    monthUsd: number;
    monthWithFreeTierUsd: number;
    monthSecurityHubFreeTierUsedUpUsd: number;
    configMonthUsd: number;
    configPerAccountTiersMonthUsd: number;
    configEvaluations: number;
    /** CloudTrail management events the run causes in the member accounts, and what they may cost elsewhere. */
    managementEvents: number;
    indirect: Bill;
  }>;
  fixedMonthly: Bill;
  /** The first run (no previous report, every finding imported), once. */
  firstRun: { usd: number; ownerRounds: number } | null;
}

const sizeOf = (c: CostSummary, accounts: number) => {
  const b = c.bySize.find((x) => x.accounts === accounts);
  if (!b) throw new Error(`no bill at ${accounts} accounts`);
  return b;
};

/** The issue's target: a daily run of 10,000 accounts under `targetUsd`. */
export function dailyTarget(c: CostSummary): { target: string; measured: string; met: boolean } {
  const b = sizeOf(c, 10_000);
  const runs = 30;
  return {
    target: `daily 10,000-account run < $${c.targetUsd.toFixed(2)}`,
    measured: `${usd(b.run.usd)} a run (${b.basis}); ${usd(b.run.usd + c.fixedMonthly.usd / runs)} with the month's fixed ${usd(c.fixedMonthly.usd)} shared over its ${runs} runs`,
    met: b.run.usd < c.targetUsd,
  };
}

/** The results' "Cost" section (pipeline.md): the bill at 1,000 and 10,000 accounts, a daily run line by line. */
export function costSection(c: CostSummary): string {
  const small = sizeOf(c, 1_000);
  const large = sizeOf(c, 10_000);
  const d = c.deployment;
  const n = (x: number) => x.toLocaleString("en-US");
  const basis = (b: typeof small) => (b.measured ? "measured" : `scaled from ${n(c.measuredAccounts)}`);
  const row = (what: string, pick: (b: typeof small) => number) =>
    `| ${what} | ${usd(pick(small))} | ${usd(pick(large))} |`;
  const target = dailyTarget(c);
  return `## Cost

At the ${c.prices.region} list prices of ${c.prices.asOf} (\`bench/lib/prices.ts\`, each price with the AWS page it is from), by \`bench/lib/cost.ts\` from what the steady-state run (run ${c.steady.run}) used: the functions as metered here (on ${d.architecture}, as CentralStack deploys them), S3 by operation and what the run left stored, SQS, SNS, Security Hub; what the bench does not count is derived (below). A month is 30 daily runs and the fixed items (${c.fixedMonthly.lines.map((l) => `${l.item} ${usd(l.usd)}`).join(", ")}). No AWS Free Tier unless said: an organization's accounts share it.

| | 1,000 accounts (${basis(small)}) | 10,000 accounts (${basis(large)}) |
|---|---|---|
${row("a daily run", (b) => b.run.usd)}
${row("a month (30 runs and the fixed items)", (b) => b.monthUsd)}
${row("a month, the Free Tier's allowances unused elsewhere in the organization", (b) => b.monthWithFreeTierUsd)}
${row("a month, every account's 10,000 free Security Hub ingestion events used by other products", (b) => b.monthSecurityHubFreeTierUsedUpUsd)}
${row("AWS Config's four MFA rules instead, a month (tiers on the organization's total)", (b) => b.configMonthUsd)}
${row("AWS Config's four MFA rules instead, a month (tiers per account)", (b) => b.configPerAccountTiersMonthUsd)}

Target: ${target.target}: ${target.met ? "met" : "**not met**"} — ${target.measured}.${c.firstRun ? ` The first run (no previous report, every finding imported, ${c.firstRun.ownerRounds} Owners round${c.firstRun.ownerRounds === 1 ? "" : "s"}) cost ${usd(c.firstRun.usd)} at ${n(c.measuredAccounts)} accounts, once.` : ""}

### A daily run of ${n(large.accounts)} accounts, line by line (${large.basis})

| service | item | quantity | unit price | dollars |
|---|---|---|---|---|
${billRows(large.run).join("\n")}
| **total** | | | | **${usd(large.run.usd)}** |

- Lambda: each invocation's duration, never less than its CPU time at the share Lambda gives its memory (1,769 MB a vCPU: the sweep is CPU-bound), and each execution environment's INIT (billed since August 2025). Measured at ${n(c.measuredAccounts)} accounts: ${c.steady.lambda.map((l) => `${l.fn} ${n(l.invocations)} × ${l.memoryMb} MB, ${n(Math.round(l.seconds))} s and ${round(l.initSeconds, 1)} s of INIT in ${l.environments} environment${l.environments === 1 ? "" : "s"}`).join("; ")}. Where batches wait for this machine's CPU (Caveats) their wall time, and so their GB-seconds, are overstated.
- Step Functions: transitions derived from SCAN_WORKFLOW (\`packages/aws/src/pipeline/workflow.ts\`) — Discover, the Parallel, the Map, Owners and MoreOwners each round and the branch's end, Publish, QuarantineSweep, and 2 for each Map child execution (its start and ScanBatch); no Lambda retries here. Its execution log (level ALL, without execution data) at ~500 bytes an event, seven for each child.
- S3: requests counted by operation (+1 GET: the Map's ItemReader); storage for as long as the bucket keeps what the run wrote — the evidence (\`scans/\`) for its ${d.evidenceRetentionDays}-day lock (Standard ${d.transitionToIaDays} days, then Standard-IA; nothing expires it afterwards: each further month in Glacier IR costs $0.004 a GB), \`latest/\` a day and ${d.latestNoncurrentDays} as a past version, \`runs/\` ${d.runsExpirationDays} + ${d.runsNoncurrentDays} days; server access logs at ~400 bytes a request for ${d.accessLogDays} days.
- KMS: SSE-KMS ${d.bucketKey ? "with an S3 Bucket Key (`bucketKeyEnabled`): a request per execution environment writing and reading, not one per object" : "without a bucket key: a request per object"}; the topic's and the log groups' data keys.
- Security Hub: each finding is ingested into its own account's hub when new, when changed and again every 30 days unchanged — about the report's findings per account a month. Each account's first 10,000 events a month are free, so nothing is billed unless other products already use that account's free tier (the row above). GetFindings and BatchImportFindings calls are not billed as such.
- CloudWatch: the functions' log lines as written here and Lambda's platform records (~700 bytes an invocation, ~600 an INIT), kept ${d.logRetentionDays} days; ${c.steady.customMetrics} custom metrics (Powertools EMF), metered in the ${c.steady.metricHours} clock hours a run can send them in; ${d.alarms} alarms on ${d.alarmMetrics} metrics.
- X-Ray (active tracing on the functions and the state machine): at most a trace per invocation and one for the execution. EventBridge Scheduler: one invocation.
- Free: STS, IAM and Organizations. Not priced: data transfer (every call stays in the Region or goes to a global endpoint; responses come in), Lambda's ephemeral storage (the free 512 MB).
- Not orgmfa's bill, but caused by it where those services are on: the run's ${n(Math.round(large.managementEvents))} CloudTrail management events in the member accounts (every IAM, STS, Organizations, SQS and Security Hub call) would cost ${usd(large.indirect.lines[0]?.usd ?? 0)} a run of GuardDuty analysis, and ${usd(large.indirect.lines[1]?.usd ?? 0)} in a second trail (the first copy is free).
- AWS Config: iam-user-mfa-enabled and mfa-enabled-for-iam-console-access evaluate every IAM user, root-account-mfa-enabled and root-account-hardware-mfa-enabled the account, each periodic every 24 hours in one Region: ${n(Math.round(large.configEvaluations))} evaluations a month at ${n(large.accounts)} accounts. A floor: the user rules evaluate the IAM users Config records, and recording them ($0.003 a configuration item, and each change) comes on top.
`;
}
