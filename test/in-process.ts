import { PassThrough, Readable, Writable } from "node:stream";
import { main } from "../apps/cli/src/main";
import { SDK_NOTICE_SWITCH } from "./helpers";

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** A terminal-less stream that keeps what is written to it. */
export class Capture extends Writable {
  text = "";
  isTTY = false;
  onText?: (chunk: string) => void;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const s = chunk.toString();
    this.text += s;
    this.onText?.(s);
    cb();
  }
}

/** A stdout whose reader has gone away: every write fails with EPIPE, as a closed pipe does. */
export class ClosedPipe extends Writable {
  isTTY = false;
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    cb(Object.assign(new Error("write EPIPE"), { code: "EPIPE", errno: -32, syscall: "write" }));
  }
}

/**
 * Runs `fn` with exactly these AWS_* variables (every other AWS_* removed, shared files pointed at
 * nothing unless given), restoring the environment afterwards.
 */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env))
    if ((k.startsWith("AWS_") && k !== SDK_NOTICE_SWITCH) || k === "NO_COLOR" || k === "FORCE_COLOR")
      delete process.env[k];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: "/nonexistent/orgmfa-test-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/orgmfa-test-credentials",
    AWS_EC2_METADATA_DISABLED: "true",
  });
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Capture;
  handleSignals?: boolean;
  exit?: (code: number) => void;
  signals?: Pick<NodeJS.EventEmitter, "once" | "removeListener">;
}

/** `orgmfa <args>` in this process, through `main(argv, io)`, as the binary would run it. */
export async function runInProcess(args: string[], o: RunOptions = {}): Promise<Captured> {
  const stdout = o.stdout ?? new Capture();
  const stderr = o.stderr ?? new Capture();
  const stdin = o.stdin === undefined ? new PassThrough() : Readable.from([Buffer.from(o.stdin)]);
  if (o.stdin === undefined) (stdin as PassThrough).end();
  const code = await withEnv(o.env ?? {}, () =>
    main(["node", "orgmfa", ...args], {
      stdout,
      stderr,
      stdin,
      handleSignals: o.handleSignals ?? false,
      ...(o.exit ? { exit: o.exit } : {}),
      ...(o.signals ? { signals: o.signals } : {}),
    }),
  );
  return { code, stdout: stdout instanceof Capture ? stdout.text : "", stderr: stderr.text };
}
