import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runProcess } from "./helpers";

// What a user gets: the packed tarball of apps/cli installed globally (into a temporary prefix), run
// from an empty directory far from the checkout — nothing of the repository is reachable from there.
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const run = promisify(execFile);

let work: string;
let tarball: string;
let prefix: string;
let empty: string;
let installed: string;
let orgmfa: string;
const children: ChildProcess[] = [];

/** npm's own environment minus what `npm test` exports about this checkout (prefix, workspace). */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(["npm_config_cache", "npm_config_userconfig", "npm_config_registry", "npm_config_cafile"]);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_") || keep.has(k)));
}

/** Runs the installed `orgmfa` as a user would: by its name in the prefix's bin, from the empty directory. */
function cli(args: string[], env: Record<string, string> = cleanEnv()) {
  return runProcess(orgmfa, args, { env, cwd: empty });
}

const noTrace = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n|ERR_MODULE_NOT_FOUND|Cannot find/);

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "orgmfa-install-"));
  prefix = path.join(work, "prefix");
  empty = path.join(work, "empty");
  mkdirSync(empty);
  // The bundle in apps/cli/dist was just built from these sources (global setup); `npm pack` would
  // rebuild it (prepack) under the feet of the other test files running the CLI, so no scripts here.
  const packed = await run(
    "npm",
    ["pack", "-w", "apps/cli", "--pack-destination", work, "--ignore-scripts", "--json", "--loglevel=error"],
    { cwd: ROOT, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 },
  );
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  tarball = path.join(work, path.basename(filename));
  // Its runtime dependency comes from the npm cache when it is there, else from the public registry.
  await run(
    "npm",
    ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball],
    { cwd: empty, env: npmEnv() },
  );
  installed = path.join(prefix, "lib", "node_modules", "@orgmfa", "cli");
  orgmfa = path.join(prefix, "bin", "orgmfa");
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed tarball, installed with npm install -g", () => {
  it("is orgmfa-cli-<version>.tgz, needs nothing at run time, and carries the emulator's files", () => {
    expect(path.basename(tarball)).toBe(`orgmfa-cli-${VERSION}.tgz`);
    const pkg = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    // Everything is bundled; the tests' AGPL-3.0 policy engine is never a dependency of the shipped CLI.
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(existsSync(path.join(installed, "node_modules/@cloud-copilot/iam-simulate"))).toBe(false);
    for (const f of [
      "dist/files/packages/emulator/python/moto_server.py",
      "dist/files/packages/emulator/python/orgmfa_moto/__init__.py",
      "dist/files/stacksets/member-audit-role.yaml",
    ])
      expect(existsSync(path.join(installed, f)), f).toBe(true);
  });

  it("gives an orgmfa whose --version, checks and --help work from an empty directory", async () => {
    const v = await cli(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(VERSION);

    const checks = await cli(["checks", "--format", "json"]);
    expect(checks.code).toBe(0);
    expect(JSON.stringify(JSON.parse(checks.stdout))).toContain("ROOT_NO_MFA");

    for (const command of ["scan", "doctor"]) {
      const help = await cli([command, "--help"]);
      expect(help.code, command).toBe(0);
      expect(help.stdout).toContain(`Usage: orgmfa ${command}`);
    }
  });

  it("runs `orgmfa demo` there: the emulated organization scanned, the auditor files written, exit 0", async () => {
    const demo = await cli(["demo"]);
    expect(demo.code, demo.stderr).toBe(0);
    noTrace(demo.stderr);
    expect(demo.stdout).toContain("orgmfa demo — an emulated AWS Organization");
    expect(demo.stdout).toMatch(/orgmfa scan \S+: 8 users without MFA/);
    expect(demo.stdout).toMatch(/Coverage 85\.7%: 6 of 7 in-scope accounts audited/);
    expect(demo.stdout).toMatch(/5\/5 SHA-256 digests verified/);
    expect(demo.stdout).toMatch(/Subject: orgmfa: 8 users without MFA/);
    expect(existsSync(path.join(empty, "orgmfa-demo", "report.html"))).toBe(true);
  });

  it("scans and checks the emulator that `orgmfa demo --keep-running` leaves up, as the demo says to", async () => {
    const child = spawn(orgmfa, ["demo", "--keep-running", "--out-dir", path.join(work, "kept")], {
      cwd: empty,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // "Scan it again with:  AWS_ENDPOINT_URL=… AWS_REGION=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… orgmfa scan"
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        const m = /^\s*(AWS_ENDPOINT_URL=\S+(?: AWS_\w+=\S+)*) (?:npx )?orgmfa scan$/m.exec(stdout);
        if (m?.[1]) resolve(m[1]);
      });
      child.on("close", () => reject(new Error(`demo ended before it was ready:\n${stdout}\n${stderr}`)));
    });
    const env = cleanEnv(Object.fromEntries(line.split(" ").map((kv) => kv.split("=", 2) as [string, string])));

    const scan = await cli(["scan", "--out-dir", path.join(work, "scan")], env);
    expect(scan.code, scan.stderr).toBe(4); // legacy-unmanaged has no audit role: coverage incomplete
    noTrace(scan.stderr);
    expect(scan.stdout).toMatch(/orgmfa scan \S+: 8 users without MFA/);
    const report = JSON.parse(readFileSync(path.join(work, "scan", "report.json"), "utf8")) as { tool: unknown };
    expect(report.tool).toMatchObject({ name: "orgmfa", version: VERSION });

    const doctor = await cli(["doctor"], env);
    expect(doctor.code, doctor.stderr).toBe(4); // an account has a gap: the same one
    noTrace(doctor.stderr);
    expect(doctor.stdout).toMatch(/legacy-unmanaged\s*│\s*GAP: cannot assume/);

    const ended = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    child.kill("SIGINT");
    expect(await ended).toBe(130);
  });
});
