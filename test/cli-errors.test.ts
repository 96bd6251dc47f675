import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Emulator, startEmulator } from "@orgmfa/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "./helpers";

// Bad input must end in exit 2 (or 1) with a message that says what to do, never a bare stack trace.
let emu: Emulator;
let env: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator(); // an emulated AWS with no organization in it
  env = cleanEnv({
    AWS_ENDPOINT_URL: emu.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
});
afterAll(async () => {
  await emu?.stop();
});

const noTrace = (s: string) => expect(s).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);

describe("bad input", () => {
  it.each([
    [["scan", "--frobnicate"], /unknown option '--frobnicate'/],
    [["scan", "--accounts", "12345"], /--accounts: "12345" is not a 12-digit account id/],
    [["scan", "--exclude-ou", "workloads"], /--exclude-ou: "workloads" is not an OU id/],
    [["scan", "--format", "xml"], /argument 'xml' is invalid.*table, json, csv/],
    [["scan", "--concurrency", "lots"], /--concurrency takes a whole number/],
    [["scan", "--config", "/nonexistent/orgmfa.json"], /--config: cannot read \/nonexistent\/orgmfa.json \(ENOENT\)/],
  ])("orgmfa %j → exit 2", async (args, message) => {
    const r = await runCli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
    noTrace(r.stderr);
  });

  it("an invalid config names the field", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "orgmfa-")), "c.json");
    writeFileSync(
      file,
      JSON.stringify({ exemptions: [{ account: "*", principal: "bob", checks: "*", expires: "2027-01-01" }] }),
    );
    const r = await runCli(["scan", "--config", file], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exemptions\[0\]\.reason: is required/);
  });

  it("no credentials → exit 2 with how to provide them", async () => {
    const r = await runCli(["scan"], cleanEnv({ AWS_ENDPOINT_URL: emu.endpoint, AWS_REGION: "us-east-1" }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/No usable AWS credentials.*AWS_PROFILE/);
    noTrace(r.stderr);
  });

  it("no region → exit 2 naming --region and AWS_REGION", async () => {
    const r = await runCli(["scan"], cleanEnv({ AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/No AWS region: pass --region, or set AWS_REGION/);
  });

  it("an account that is not in an organization → exit 2 with what to do", async () => {
    const r = await runCli(["scan"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a member of an AWS Organization.*--org-role-arn/);
    noTrace(r.stderr);
  });

  it("demo without the emulator installed → exit 2 with the install command", async () => {
    const r = await runCli(["demo"], cleanEnv({ PATH: path.dirname(process.execPath) }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/moto AWS emulator was not found[\s\S]*pip install "moto\[server\]>=5.2"/);
  });

  it("--help and --version exit 0", async () => {
    const h = await runCli(["scan", "--help"], env);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--org-role-arn/);
    expect((await runCli(["--version"], env)).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
