import { describe, expect, it } from "vitest";
import { mapConcurrency, paceOf, type ScanPace } from "../src/map-concurrency";

const pace = (p90AccountSeconds: number, accounts = 1000): ScanPace => ({
  scanId: "20261121T060000Z-abcd",
  measuredAt: "2026-11-21T06:20:00.000Z",
  accounts,
  p90AccountSeconds,
  maxAccountSeconds: p90AccountSeconds * 2,
});
const deployed = { batchSize: 10, accountConcurrency: 10, ceiling: 20, windowSeconds: 900 };

describe("mapConcurrency", () => {
  it("uses the ceiling while no pace has been measured", () => {
    const c = mapConcurrency({ ...deployed, accounts: 10_000, pace: null });
    expect(c.concurrency).toBe(20);
    expect(c.expectedSeconds).toBeNull();
    expect(c.basis).toMatch(/no pace measured yet/);
    // …but never more than there are batches.
    expect(mapConcurrency({ ...deployed, accounts: 35, pace: null }).concurrency).toBe(4);
  });

  it("runs the fewest batches at once that end the Map within its window", () => {
    // 1,000 batches of one wave each: 4 s p90 + 1 s start = 5 s; 5,000 s of batches over 900 s → 6.
    const c = mapConcurrency({ ...deployed, accounts: 10_000, pace: pace(4) });
    expect(c.concurrency).toBe(6);
    expect(c.expectedSeconds).toBe(Math.ceil(1000 / 6) * 5);
    expect(c.expectedSeconds).toBeLessThanOrEqual(900);
    // One fewer would not end in time.
    expect(Math.ceil(1000 / 5) * 5).toBeGreaterThan(900);
    expect(c.basis).toMatch(/1000 batches of ~5 s .*6, the fewest that end within 900 s/);
  });

  it("follows the accounts' pace: slower accounts, more batches at once, up to the ceiling", () => {
    const at = (p90: number) => mapConcurrency({ ...deployed, accounts: 10_000, pace: pace(p90) }).concurrency;
    expect(at(2)).toBeLessThan(at(8));
    expect(at(8)).toBe(10);
    const slow = mapConcurrency({ ...deployed, accounts: 10_000, pace: pace(60) });
    expect(slow.concurrency).toBe(20);
    expect(slow.basis).toMatch(/the ceiling 20 \(68 would end within 900 s\)/);
    expect(slow.expectedSeconds).toBeGreaterThan(900); // said, not hidden: the ceiling wins
  });

  it("counts the waves of a batch larger than its account concurrency", () => {
    const one = mapConcurrency({ ...deployed, accountConcurrency: 10, accounts: 10_000, pace: pace(4) });
    const two = mapConcurrency({ ...deployed, accountConcurrency: 5, accounts: 10_000, pace: pace(4) });
    expect(two.concurrency).toBeGreaterThan(one.concurrency); // 9 s batches instead of 5 s
  });

  it("a small organization needs one batch at a time", () => {
    expect(mapConcurrency({ ...deployed, accounts: 40, pace: pace(3) }).concurrency).toBe(1);
    expect(mapConcurrency({ ...deployed, accounts: 0, pace: pace(3) }).concurrency).toBe(1);
  });
});

describe("paceOf", () => {
  it("takes the 90th percentile of the timed accounts", () => {
    const seconds = Array.from({ length: 100 }, (_, i) => i + 1); // 1 … 100
    const p = paceOf("s", seconds, new Date("2026-11-21T06:00:00Z"));
    expect(p).toMatchObject({ accounts: 100, p90AccountSeconds: 90, maxAccountSeconds: 100 });
    expect(paceOf("s", [0.5], new Date())).toMatchObject({ accounts: 1, p90AccountSeconds: 0.5 });
  });

  it("measures nothing from no timed account, and never a pace of 0", () => {
    expect(paceOf("s", [], new Date())).toBeNull();
    expect(paceOf("s", [Number.NaN, -1], new Date())).toBeNull();
    expect(paceOf("s", [0, 0.001], new Date())?.p90AccountSeconds).toBe(0.01);
  });
});
