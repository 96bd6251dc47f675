/**
 * The price table the cost model (lib/cost.ts) bills with: AWS list prices in US East (N. Virginia),
 * us-east-1, on-demand, in US dollars, as the pricing page cited beside each one publishes it. The
 * first volume tier wherever a price is tiered (the workflow stays far inside it), and no AWS Free
 * Tier (see `FREE_TIER`).
 *
 * Read from the pages on `PRICES.asOf`. Prices change: check the page before quoting a figure, then
 * change the price here and its date.
 */

export interface Price {
  /** US dollars per one `unit`. */
  readonly usd: number;
  readonly unit: string;
  /** The AWS page that publishes it. */
  readonly source: string;
  readonly note?: string;
}

const LAMBDA = "https://aws.amazon.com/lambda/pricing/";
const SFN = "https://aws.amazon.com/step-functions/pricing/";
const S3 = "https://aws.amazon.com/s3/pricing/";
const KMS = "https://aws.amazon.com/kms/pricing/";
const SNS = "https://aws.amazon.com/sns/pricing/";
const SQS = "https://aws.amazon.com/sqs/pricing/";
const SECURITY_HUB = "https://aws.amazon.com/security-hub/pricing/";
const CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/";
const XRAY = "https://aws.amazon.com/xray/pricing/";
const EVENTBRIDGE = "https://aws.amazon.com/eventbridge/pricing/";
const CONFIG = "https://aws.amazon.com/config/pricing/";

export const PRICES = {
  asOf: "2026-12-07",
  region: "us-east-1",
  lambda: {
    gbSecond: {
      arm64: {
        usd: 0.0000133334,
        unit: "GB-second (arm64)",
        source: LAMBDA,
        note: "first 7.5 billion GB-seconds a month; the INIT phase is billed as duration since 1 August 2025 (https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/)",
      },
      x86_64: {
        usd: 0.0000166667,
        unit: "GB-second (x86_64)",
        source: LAMBDA,
        note: "first 6 billion GB-seconds a month",
      },
    },
    request: { usd: 0.2 / 1e6, unit: "request", source: LAMBDA, note: "$0.20 per million" },
  },
  stepFunctions: {
    transition: {
      usd: 0.025 / 1000,
      unit: "state transition (Standard)",
      source: SFN,
      note: "$0.025 per 1,000; every retry is a transition",
    },
  },
  s3: {
    standardGbMonth: { usd: 0.023, unit: "GB-month, S3 Standard", source: S3, note: "first 50 TB a month" },
    standardIaGbMonth: { usd: 0.0125, unit: "GB-month, S3 Standard-IA", source: S3, note: "30-day, 128 KB minimums" },
    glacierIrGbMonth: {
      usd: 0.004,
      unit: "GB-month, S3 Glacier Instant Retrieval",
      source: S3,
      note: "90-day, 128 KB minimums",
    },
    putRequest: {
      usd: 0.005 / 1000,
      unit: "PUT, COPY, POST or LIST request (S3 Standard)",
      source: S3,
      note: "$0.005 per 1,000; multipart create, part and complete are each one",
    },
    getRequest: {
      usd: 0.0004 / 1000,
      unit: "GET, SELECT or other request (S3 Standard)",
      source: S3,
      note: "$0.0004 per 1,000; DELETE is free",
    },
    transitionToIa: { usd: 0.01 / 1000, unit: "lifecycle transition into Standard-IA", source: S3 },
    transitionToGlacierIr: {
      usd: 0.02 / 1000,
      unit: "lifecycle transition into Glacier Instant Retrieval",
      source: S3,
    },
  },
  kms: {
    request: { usd: 0.03 / 10_000, unit: "KMS request (symmetric key)", source: KMS, note: "$0.03 per 10,000" },
    keyMonth: {
      usd: 1,
      unit: "customer managed key-month",
      source: KMS,
      note: "prorated hourly; with rotation on, each of the first two rotations adds $1 a month (later ones are free)",
    },
  },
  sns: {
    request: {
      usd: 0.5 / 1e6,
      unit: "SNS publish request (each 64 KB chunk of a message is one)",
      source: SNS,
      note: "$0.50 per million, standard topics",
    },
    email: { usd: 2 / 100_000, unit: "email notification", source: SNS, note: "$2.00 per 100,000" },
  },
  sqs: { request: { usd: 0.4 / 1e6, unit: "SQS request (standard queue)", source: SQS, note: "$0.40 per million" } },
  securityHub: {
    findingIngestion: {
      usd: 0.00003,
      unit: "finding ingestion event above the free 10,000 per account per Region per month",
      source: SECURITY_HUB,
      note: "Security Hub CSPM's price (BatchImportFindings, ASFF): new findings and updates to existing ones are ingestion events; only those of Security Hub's own security checks are free. Where the organization has the newer Security Hub's Essentials plan, CSPM is billed within its per-resource price instead",
    },
    freeIngestionPerAccountMonth: 10_000,
  },
  cloudwatch: {
    logsIngestionGb: {
      usd: 0.5,
      unit: "GB of logs ingested",
      source: CLOUDWATCH,
      note: "Standard log class; Lambda's logs are billed as vended logs (since May 2025), whose first tier (10 TB) is the same $0.50",
    },
    logsStorageGbMonth: { usd: 0.03, unit: "GB-month of logs stored (compressed)", source: CLOUDWATCH },
    customMetricMonth: {
      usd: 0.3,
      unit: "custom metric-month",
      source: CLOUDWATCH,
      note: "first 10,000 metrics; prorated by the hour and metered only in the hours a metric is sent",
    },
    alarmMetricMonth: {
      usd: 0.1,
      unit: "standard-resolution alarm metric-month",
      source: CLOUDWATCH,
      note: "an alarm on a metric-math expression is billed for each metric in it",
    },
  },
  xray: {
    trace: {
      usd: 5 / 1e6,
      unit: "X-Ray trace recorded",
      source: XRAY,
      note: "$5.00 per million (active tracing on the functions and the state machine)",
    },
  },
  scheduler: {
    invocation: {
      usd: 1 / 1e6,
      unit: "EventBridge Scheduler invocation",
      source: EVENTBRIDGE,
      note: "$1.00 per million",
    },
  },
  config: {
    /** Rule evaluations per Region a month, by tier: up to `upTo` evaluations at `usd` each. */
    ruleEvaluationTiers: [
      { upTo: 100_000, usd: 0.001 },
      { upTo: 500_000, usd: 0.0008 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.0005 },
    ],
    ruleEvaluation: {
      usd: 0.001,
      unit: "Config rule evaluation (one resource against one rule)",
      source: CONFIG,
      note: "first 100,000 a Region a month; then $0.0008 to 500,000, $0.0005 beyond",
    },
    configurationItem: {
      usd: 0.003,
      unit: "configuration item recorded (continuous recording)",
      source: CONFIG,
      note: "$0.012 with periodic (daily) recording",
    },
  },
  /** Charged nothing: STS (AssumeRole), IAM, Organizations. */
  free: {
    sts: "https://aws.amazon.com/iam/pricing/",
    iam: "https://aws.amazon.com/iam/pricing/",
    organizations: "https://aws.amazon.com/organizations/pricing/",
  },
  /**
   * Other services' charges on what a run causes in the member accounts — not orgmfa's bill, and only
   * where those services are on: GuardDuty analyses CloudTrail management events, and a second copy of
   * management events (an extra trail) is billed.
   */
  indirect: {
    guardDutyManagementEvent: {
      usd: 4 / 1e6,
      unit: "CloudTrail management event GuardDuty analyses",
      source: "https://aws.amazon.com/guardduty/pricing/",
      note: "$4.00 per million, first tier",
    },
    cloudTrailExtraCopy: {
      usd: 2 / 100_000,
      unit: "management event delivered by a second trail",
      source: "https://aws.amazon.com/cloudtrail/pricing/",
      note: "the first copy of management events is free",
    },
  },
} as const;

export type Prices = typeof PRICES;

/**
 * The AWS Free Tier's always-free monthly allowances. Not applied to the headline figures: under
 * consolidated billing an organization's accounts share them, and other workloads use them. (Security
 * Hub's 10,000 free ingestion events are a price tier per account, not the Free Tier: always applied.)
 */
export const FREE_TIER = {
  lambdaGbSeconds: 400_000,
  lambdaRequests: 1_000_000,
  stateTransitions: 4_000,
  kmsRequests: 20_000,
  snsRequests: 1_000_000,
  snsEmails: 1_000,
  sqsRequests: 1_000_000,
  logsGb: 5,
  customMetrics: 10,
  alarmMetrics: 10,
  xrayTraces: 100_000,
  schedulerInvocations: 14_000_000,
} as const;
