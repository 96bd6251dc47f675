import type { Sink } from "./io";

const clock = (ms: number) => {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
};

export interface ProgressOptions {
  /** A live line, rewritten in place (a terminal). */
  live: boolean;
  /** Periodic lines (off a terminal, with --progress): at every `stepPercent` or `everyMs`. */
  periodic: boolean;
  stepPercent?: number;
  everyMs?: number;
  now?: () => number;
}

/**
 * Progress of the account fan-out on stderr, never on stdout: done/total, failures so far, elapsed
 * time and an ETA from the rate so far. On a terminal one line is rewritten in place; elsewhere, when
 * asked, a line is printed every few percent or seconds, so a 2,000-account scan in CI shows life.
 */
export class Progress {
  private readonly now: () => number;
  private readonly started: number;
  private lastPrinted = -1;
  private lastPercent = -1;
  private failed = 0;
  private shown = false;

  constructor(
    private readonly err: Sink,
    private readonly o: ProgressOptions,
  ) {
    this.now = o.now ?? Date.now;
    this.started = this.now();
  }

  get enabled(): boolean {
    return this.o.live || this.o.periodic;
  }

  /** The line for `done` of `total` accounts. */
  line(done: number, total: number): string {
    const elapsed = this.now() - this.started;
    const pct = total ? Math.floor((done / total) * 100) : 100;
    const eta = done > 0 && done < total ? ` · ETA ${clock((elapsed / done) * (total - done))}` : "";
    const failed = this.failed ? ` · ${this.failed} failed` : "";
    return `scanning: ${done}/${total} accounts (${pct}%)${failed} · ${clock(elapsed)} elapsed${eta}`;
  }

  /** One account ended. */
  account(done: number, total: number, failed: boolean): void {
    if (failed) this.failed++;
    if (this.o.live) {
      this.err.write(`\r\x1b[2K${this.line(done, total)}`);
      this.shown = true;
      if (done === total) this.end();
      return;
    }
    if (!this.o.periodic) return;
    const t = this.now();
    const pct = total ? Math.floor((done / total) * 100) : 100;
    const step = this.o.stepPercent ?? 5;
    const due =
      done === total ||
      this.lastPercent < 0 ||
      pct >= this.lastPercent + step ||
      t - this.lastPrinted >= (this.o.everyMs ?? 30_000);
    if (!due) return;
    this.lastPercent = pct;
    this.lastPrinted = t;
    this.err.write(`${this.line(done, total)}\n`);
  }

  /** Ends the live line, so the next message starts on a line of its own. */
  end(): void {
    if (this.shown) this.err.write("\n");
    this.shown = false;
  }
}
