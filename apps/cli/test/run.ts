import { PassThrough, Readable, Writable } from "node:stream";
import { main } from "../src/main";

/** A terminal-less stream that keeps what is written to it. */
export class Capture extends Writable {
  text = "";
  isTTY = false;
  /** A terminal's width, for the tables that fit it. */
  columns?: number;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.text += chunk.toString();
    cb();
  }
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The SDK's Node-version notice switch (vitest.config.ts sets it): the one AWS_* variable kept. */
const KEPT = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/**
 * `orgmfa <args>` in this process, through `main(argv, io)` as the binary runs it, with exactly the
 * AWS_* variables given (the others removed; no shared config or credentials files; no instance
 * metadata) and no NO_COLOR / FORCE_COLOR. Without AWS_REGION in `env` no command can get as far as
 * calling AWS: it stops at "No AWS region" at the latest.
 */
export async function orgmfa(
  args: string[],
  o: { env?: Record<string, string | undefined>; stdin?: string; columns?: number } = {},
): Promise<Run> {
  const stdout = new Capture();
  stdout.columns = o.columns;
  const stderr = new Capture();
  const stdin = o.stdin === undefined ? new PassThrough().end() : Readable.from([Buffer.from(o.stdin)]);
  const saved = { ...process.env };
  for (const k of Object.keys(process.env))
    if ((k.startsWith("AWS_") && k !== KEPT) || k === "NO_COLOR" || k === "FORCE_COLOR") delete process.env[k];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: "/nonexistent/orgmfa-test-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/orgmfa-test-credentials",
    AWS_EC2_METADATA_DISABLED: "true",
  });
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    const code = await main(["node", "orgmfa", ...args], { stdout, stderr, stdin, handleSignals: false });
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** A stack trace line, which no usage error may print. */
export const TRACE = /\n\s+at .+:\d+:\d+\)?\n/;
