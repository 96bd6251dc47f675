import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmulatedOrg, startEmulatedOrg } from "./emulated-org";
import { BIN, cleanEnv, runCli } from "./helpers";

// What only the real binary can show: exit codes of the process, a real closed pipe, real signals.
let e: EmulatedOrg;
let env: Record<string, string>;

beforeAll(async () => {
  e = await startEmulatedOrg();
  env = cleanEnv(e.env);
});
afterAll(async () => {
  await e?.emu.stop();
});

const noTrace = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n|EPIPE/);

/** Whether something listens on a loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Polls (bounded) until nothing listens on the port; true when it closed. */
async function closes(port: number, attempts = 40): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (!(await listening(port))) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

describe("the orgmfa binary", () => {
  it("exits 2 with usage when run bare, 0 for --version", async () => {
    const bare = await runCli([], cleanEnv());
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/Usage: orgmfa[\s\S]*a command is required/);
    const v = await runCli(["--version"], cleanEnv());
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("a reader that closes the pipe early (| head -c1) keeps exit 4, prints no trace, and delivers everything", async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), "orgmfa-pipe-"));
    const child = spawn(
      process.execPath,
      [
        BIN,
        "scan",
        "--org-role-arn",
        e.org.orgRoleArn,
        "--format",
        "html",
        "--out-dir",
        outDir,
        "--s3-bucket",
        e.delivery.bucket,
        "--s3-prefix",
        "orgmfa/pipe",
      ],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // Like `head -c1`: read one chunk, then close the read end.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    expect(code).toBe(4);
    noTrace(stderr);
    expect(readdirSync(outDir)).toHaveLength(6);
    const keys = await e.asAdmin(() => e.reader.keys("orgmfa/pipe/"));
    expect(keys.filter((k) => k.endsWith("/manifest.json"))).toHaveLength(2); // the scan folder and latest/
  });

  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
    ["SIGKILL", null],
  ] as const)(
    "%s to `orgmfa demo --keep-running` (with AWS_PROFILE=missing) leaves no emulator behind",
    async (signal, exitCode) => {
      const outDir = mkdtempSync(path.join(tmpdir(), "orgmfa-demo-"));
      const child = spawn(process.execPath, [BIN, "demo", "--keep-running", "--out-dir", outDir], {
        // A profile that does not exist must not matter: the demo talks only to its own emulator.
        env: cleanEnv({ AWS_PROFILE: "missing" }),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const ports = await new Promise<number[]>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          const m = /keeps running at http:\/\/127\.0\.0\.1:(\d+) \(moto itself at http:\/\/127\.0\.0\.1:(\d+)\)/.exec(
            stdout,
          );
          if (m) resolve([Number(m[1]), Number(m[2])]);
        });
        child.on("close", () => reject(new Error(`demo ended before it was ready:\n${stdout}\n${stderr}`)));
      });
      for (const p of ports) expect(await listening(p)).toBe(true);
      const ended = new Promise<{ code: number | null; signal: string | null }>((r) =>
        child.on("close", (code, sig) => r({ code, signal: sig })),
      );
      child.kill(signal);
      const end = await ended;
      if (exitCode !== null) {
        expect(end.code).toBe(exitCode);
        expect(stderr).toMatch(new RegExp(`${signal}: stopping the emulator`));
      }
      for (const p of ports) expect(await closes(p)).toBe(true);
    },
  );
});
