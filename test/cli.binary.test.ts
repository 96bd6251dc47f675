import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
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

  it("SIGKILL while the emulator is still starting leaves no moto_server behind", async () => {
    const child = spawn(
      process.execPath,
      [BIN, "demo", "--out-dir", mkdtempSync(path.join(tmpdir(), "orgmfa-early-"))],
      {
        env: cleanEnv(),
        stdio: ["ignore", "ignore", "ignore"],
      },
    );
    const pid = child.pid ?? 0;
    const ended = new Promise((r) => child.on("close", r));
    // The emulator process the demo started: a child of the demo running the moto wrapper.
    const emulatorOf = (parent: number) =>
      readdirSync("/proc")
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            const ppid = Number(readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);
            return ppid === parent && readFileSync(`/proc/${d}/cmdline`, "utf8").includes("moto_server.py");
          } catch {
            return false; // gone meanwhile
          }
        });
    let started: string[] = [];
    const until = Date.now() + 30_000;
    while (started.length === 0 && Date.now() < until) {
      started = emulatorOf(pid);
      if (started.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(started).toHaveLength(1);
    // Killed the moment moto's process exists, while it is still importing moto.
    child.kill("SIGKILL");
    await ended;
    const alive = () =>
      started.filter((p) => existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, "utf8").includes(") Z "));
    const deadline = Date.now() + 5_000;
    while (alive().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive()).toEqual([]);
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
      const listened = await Promise.all(ports.map(listening));
      const said = stdout;
      const ended = new Promise<{ code: number | null; signal: string | null }>((r) =>
        child.on("close", (code, sig) => r({ code, signal: sig })),
      );
      // Stopped before anything is asserted: a failed assertion must not leave the demo running.
      child.kill(signal);
      const end = await ended;
      expect(listened).toEqual([true, true]);
      // Every hub is read back, each member account's own findings in its own hub, not only the scanner's.
      for (const name of ["security-tooling", "prod-payments", "prod-web", "dev-platform", "sandbox-ml"])
        expect(said).toMatch(new RegExp(`\\n  ${name} +\\d{12}: [1-9]\\d* active`));
      expect(said).toMatch(/IAM policy enforcement is now OFF in this emulator/);
      expect(said).not.toMatch(/npx orgmfa/);
      if (exitCode !== null) {
        expect(end.code).toBe(exitCode);
        expect(stderr).toMatch(new RegExp(`${signal}: stopping the emulator`));
      }
      for (const p of ports) expect(await closes(p)).toBe(true);
    },
  );
});
