/** Where the CLI reads and writes: the process's streams, or a test's. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** For `orgmfa report -`. @default process.stdin */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Whether the command may install signal handlers (the real process only). @default false */
  handleSignals?: boolean;
  /** How a signal handler ends the process. @default process.exit */
  exit?: (code: number) => void;
  /** Where signals come from. @default process */
  signals?: Pick<NodeJS.EventEmitter, "once" | "removeListener">;
}

/**
 * A stream that a reader may close at any time (`orgmfa scan | head`). Once the reader is gone,
 * writes are dropped silently: a closed stdout is not an error of the scan, and it must never cost
 * an exit code, a local file or a delivery.
 */
export class Sink {
  private gone = false;

  constructor(readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {
    // Without a listener, EPIPE would be an uncaught exception with a stack trace.
    stream.on?.("error", () => {
      this.gone = true;
    });
  }

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  /** Whether the reader went away. */
  get closed(): boolean {
    return this.gone || (this.stream as { destroyed?: boolean }).destroyed === true;
  }

  write(text: string): void {
    this.send(text);
  }

  /** Writes; false when the stream's buffer is full (wait for "drain" before writing more). */
  private send(text: string): boolean {
    if (this.closed) return true;
    try {
      return this.stream.write(text) !== false;
    } catch {
      this.gone = true;
      return true;
    }
  }

  /**
   * Writes a long output piece by piece, waiting whenever the reader is behind, so a large report
   * never piles up in the stream's buffer. Stops quietly once the reader is gone.
   */
  async writeAll(pieces: Iterable<string>): Promise<void> {
    for (const piece of pieces) {
      if (this.closed) return;
      if (!this.send(piece)) await this.drained();
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.stream.removeListener?.("drain", done);
        this.stream.removeListener?.("error", done);
        this.stream.removeListener?.("close", done);
        resolve();
      };
      this.stream.once?.("drain", done);
      this.stream.once?.("error", done);
      this.stream.once?.("close", done);
    });
  }
}

/** The streams of one command, each safe to write after its reader left. */
export function sinks(io: Io): { out: Sink; err: Sink } {
  const cache = io as Io & { _sinks?: { out: Sink; err: Sink } };
  cache._sinks ??= { out: new Sink(io.stdout), err: new Sink(io.stderr) };
  return cache._sinks;
}

/**
 * Colours on a stream: never with `--no-color` or `NO_COLOR`; always with `FORCE_COLOR` (other than
 * `0`); otherwise only on a terminal.
 */
export function colorFor(stream: { isTTY?: boolean }, flag: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!flag || (env.NO_COLOR !== undefined && env.NO_COLOR !== "")) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return true;
  return stream.isTTY === true;
}

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Messages on stderr by level; `error` always shows. */
export interface Log {
  level: LogLevel;
  error(m: string): void;
  warn(m: string): void;
  info(m: string): void;
  debug(m: string): void;
}

export function makeLog(err: Sink, level: LogLevel): Log {
  const rank = LOG_LEVELS.indexOf(level);
  const at = (l: LogLevel, prefix: string) => (m: string) => {
    if (LOG_LEVELS.indexOf(l) <= rank) err.write(`${prefix}${m}\n`);
  };
  return {
    level,
    error: (m) => err.write(`orgmfa: ${m}\n`),
    warn: at("warn", "warning: "),
    info: at("info", ""),
    debug: at("debug", "debug: "),
  };
}
