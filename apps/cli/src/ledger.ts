import type { Io } from "./io";

// What an interrupted scan says: every target it was to deliver to, and what had landed in each
// (docs/usage.md, "Exit codes": 130 / 143 / 129).

export const S3_TARGET = "S3";
export const MEMBER_HUBS = "Security Hub in the member accounts";
export const SCANNING_HUB = "Security Hub in the scanning account";

/**
 * Every target of the scan, known from the start, and what has landed in each; an interrupted or
 * failed scan says it, so nothing is lost without a word. Member accounts' hubs receive their
 * findings during the scan, so they are counted as they land.
 */
export class DeliveryLedger {
  phase = "starting";
  private readonly targets = new Map<string, { landed: boolean; detail: string | null }>();
  s3Objects: { written: number; total: number } | null = null;
  s3Prefix: string | null = null;

  expect(what: string): void {
    if (!this.targets.has(what)) this.targets.set(what, { landed: false, detail: null });
  }
  /** Part of the target has landed (e.g. some member hubs): said as delivered so far. */
  partly(what: string, detail: string): void {
    this.targets.set(what, { landed: false, detail });
  }
  landed(what: string, detail = what): void {
    this.targets.set(what, { landed: true, detail });
  }
  summary(): string {
    const done: string[] = [];
    const notYet: string[] = [];
    for (const [name, t] of this.targets) {
      if (t.landed) done.push(t.detail ?? name);
      else if (t.detail) done.push(`${t.detail} (so far)`);
      if (t.landed) continue;
      if (name === S3_TARGET && this.s3Objects)
        notYet.push(
          `S3 (${this.s3Objects.written} of ${this.s3Objects.total} objects written${this.s3Prefix ? ` under ${this.s3Prefix}` : ""}; without manifest.json that scan folder is incomplete and latest/ may be partly updated)`,
        );
      else if (name === MEMBER_HUBS)
        notYet.push(t.detail ? "Security Hub in the member accounts not yet scanned" : name);
      else notYet.push(name);
    }
    return `Delivered: ${done.length ? done.join("; ") : "nothing"}. Not delivered: ${notYet.length ? notYet.join("; ") : "nothing"}.`;
  }
}

/** The exit code of a command a signal stopped (128 + the signal's number, as a shell reports it). */
export const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * Calls `stop` on SIGINT/SIGTERM/SIGHUP (only where `io.handleSignals`: the real process); returns
 * the function that removes the handlers.
 */
export function onSignals(io: Io, stop: (signal: NodeJS.Signals) => void): () => void {
  if (!io.handleSignals) return () => undefined;
  const source = io.signals ?? process;
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) source.once(s, stop);
  return () => {
    for (const s of signals) source.removeListener(s, stop);
  };
}
