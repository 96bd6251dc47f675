/**
 * How many ScanBatch invocations the deployed workflow's Distributed Map runs at once, derived from
 * how long an account takes.
 *
 * The Map's only limits that more concurrency can break are shared by the whole scanner account:
 * its Lambda concurrency (shared with every other function there) and its STS AssumeRole rate (one
 * call per account; AWS does not publish the rate). More concurrency buys only a shorter Map: the
 * work, and what it costs, is the same. So the workflow runs the fewest batches at once that still
 * end the Map within its window, never more than the configured ceiling:
 *
 *   batches        = ⌈accounts / batchSize⌉
 *   batch seconds  = ⌈batchSize / accountConcurrency⌉ waves × p90 account seconds + one second of start
 *   concurrency    = clamp(⌈batches × batch seconds / window⌉, 1, ceiling)
 *
 * The p90 is the last run's, measured by the functions themselves (Publish keeps it between runs). A
 * batch waits for its slowest wave, so a high percentile, not the mean, is what a batch takes.
 * Without a measurement (the first run, or one that measured nothing) the workflow uses the ceiling.
 */

/** What the last run measured: how long its accounts took, each from its start to its result written. */
export interface ScanPace {
  scanId: string;
  measuredAt: string;
  /** Accounts timed (those with a result). */
  accounts: number;
  p90AccountSeconds: number;
  maxAccountSeconds: number;
}

export interface MapConcurrencyInput {
  /** In-scope accounts of this run. */
  accounts: number;
  batchSize: number;
  accountConcurrency: number;
  /** The configured ceiling (the deployment's `maxConcurrency`). */
  ceiling: number;
  /** How long the Map should take at most. */
  windowSeconds: number;
  /** The last run's pace, or null. */
  pace: ScanPace | null;
}

export interface MapConcurrency {
  concurrency: number;
  /** The Map's expected duration at that concurrency (null without a pace). */
  expectedSeconds: number | null;
  /** One sentence: how the number was reached (logged by Discover). */
  basis: string;
}

/** Start-up of one batch: a warm or cold Lambda, the run context read. */
const BATCH_START_SECONDS = 1;

export function mapConcurrency(i: MapConcurrencyInput): MapConcurrency {
  const ceiling = Math.max(1, Math.floor(i.ceiling));
  const batches = Math.ceil(Math.max(0, i.accounts) / Math.max(1, i.batchSize));
  if (batches === 0) return { concurrency: 1, expectedSeconds: 0, basis: "no account in scope" };
  if (!i.pace || i.pace.accounts === 0 || !(i.pace.p90AccountSeconds > 0)) {
    const concurrency = Math.min(ceiling, batches);
    return {
      concurrency,
      expectedSeconds: null,
      basis: `no pace measured yet: the ceiling, ${concurrency} of ${batches} batches at once`,
    };
  }
  const waves = Math.ceil(Math.min(i.batchSize, i.accounts) / Math.max(1, i.accountConcurrency));
  const batchSeconds = waves * i.pace.p90AccountSeconds + BATCH_START_SECONDS;
  const needed = Math.ceil((batches * batchSeconds) / Math.max(1, i.windowSeconds));
  const concurrency = Math.min(ceiling, batches, Math.max(1, needed));
  const expectedSeconds = Math.round(Math.ceil(batches / concurrency) * batchSeconds);
  const why =
    needed > ceiling
      ? `the ceiling ${ceiling} (${needed} would end within ${i.windowSeconds} s)`
      : `${concurrency}, the fewest that end within ${i.windowSeconds} s`;
  return {
    concurrency,
    expectedSeconds,
    basis: `${batches} batches of ~${round1(batchSeconds)} s (p90 account ${round1(i.pace.p90AccountSeconds)} s in ${i.pace.scanId}): ${why}; expected ${expectedSeconds} s`,
  };
}

/** The pace of a run from each account's seconds (null when none was timed). */
export function paceOf(scanId: string, seconds: readonly number[], measuredAt: Date): ScanPace | null {
  const timed = seconds.filter((s) => Number.isFinite(s) && s >= 0).sort((a, b) => a - b);
  if (timed.length === 0) return null;
  const p90 = timed[Math.min(timed.length - 1, Math.ceil(timed.length * 0.9) - 1)] as number;
  return {
    scanId,
    measuredAt: measuredAt.toISOString(),
    accounts: timed.length,
    // Never 0: an account is never instant, and 0 would read as "nothing measured".
    p90AccountSeconds: Math.max(0.01, round2(p90)),
    maxAccountSeconds: Math.max(0.01, round2(timed[timed.length - 1] as number)),
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;
