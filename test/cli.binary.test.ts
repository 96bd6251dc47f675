import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DEMO_ORG,
  DeliveryReader,
  type Emulator,
  type SeededDelivery,
  type SeededOrg,
  scannerCredentials,
  seedDelivery,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, cleanEnv, runCli, scannerEnv } from "./helpers";

// What only the real binary can show: exit codes of the process, a real closed pipe, real signals.
let emu: Emulator;
let org: SeededOrg;
let delivery: SeededDelivery;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, DEMO_ORG);
  delivery = await seedDelivery(emu.endpoint, org);
  env = scannerEnv(emu.endpoint, await scannerCredentials(emu.endpoint, org.scannerRoleArn));
  await emu.setIamEnforcement(true);
});
afterAll(async () => {
  await emu?.stop();
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
        org.orgRoleArn,
        "--format",
        "html",
        "--out-dir",
        outDir,
        "--s3-bucket",
        delivery.bucket,
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
    await emu.setIamEnforcement(false);
    const keys = await new DeliveryReader(emu.endpoint, delivery, org).keys("orgmfa/pipe/");
    await emu.setIamEnforcement(true);
    expect(keys.filter((k) => k.endsWith("/manifest.json"))).toHaveLength(2); // the scan folder and latest/
  });

  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
    ["SIGKILL", null],
  ] as const)("%s to `orgmfa demo --keep-running` leaves no emulator behind", async (signal, exitCode) => {
    const outDir = mkdtempSync(path.join(tmpdir(), "orgmfa-demo-"));
    const child = spawn(process.execPath, [BIN, "demo", "--keep-running", "--out-dir", outDir], {
      env: cleanEnv(),
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
  });
});
