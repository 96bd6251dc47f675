import { describe, expect, it } from "vitest";
import { VERSION } from "../src/version";
import { orgmfa, TRACE } from "./run";

// The command line itself: what `orgmfa`, `--version`, `--help` and a mistyped command print.
describe("the command line", () => {
  it("--version prints the version alone on stdout, exit 0", async () => {
    expect(await orgmfa(["--version"])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("--help lists every command and the exit codes on stdout, exit 0", async () => {
    const r = await orgmfa(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^Usage: orgmfa \[options\] \[command\]/);
    for (const command of ["scan", "report", "checks", "ous", "doctor", "enforce", "demo"])
      expect(r.stdout).toMatch(new RegExp(`\\n  ${command} `));
    expect(r.stdout).toContain(
      "Exit codes: 0 all clear, 3 open findings at or above --fail-on, 4 an in-scope account not audited, 2 usage or configuration error, 1 anything else.",
    );
  });

  it("scan --help and help scan list scan's flags, exit 0", async () => {
    for (const args of [
      ["scan", "--help"],
      ["help", "scan"],
    ]) {
      const r = await orgmfa(args);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      for (const flag of [
        "--org-role-arn <arn>",
        "--exclude-checks <ids>",
        "--log-level <level>",
        "--fail-on <severity>",
      ])
        expect(r.stdout).toContain(flag);
    }
  });

  it("bare orgmfa prints the usage and says a command is required on stderr, exit 2", async () => {
    const r = await orgmfa([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^Usage: orgmfa /);
    expect(r.stderr).toMatch(/\norgmfa: a command is required \(scan, doctor, enforce, report, checks or demo\)\.\n$/);
  });

  it("an unknown command, an unknown flag and a missing argument exit 2 with commander's message and a pointer to --help", async () => {
    expect(await orgmfa(["frobnicate"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: unknown command 'frobnicate'\n(run orgmfa --help for usage)\n",
    });
    expect(await orgmfa(["help", "bogus"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "orgmfa: unknown command 'bogus'. Commands: scan, report, checks, ous, doctor, enforce, demo.\n",
    });
    expect(await orgmfa(["scan", "--frobnicate"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: unknown option '--frobnicate'\n(run orgmfa --help for usage)\n",
    });
    expect(await orgmfa(["report"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: missing required argument 'report.json'\n(run orgmfa --help for usage)\n",
    });
    const noValue = await orgmfa(["scan", "--accounts"]);
    expect(noValue).toMatchObject({ code: 2, stdout: "" });
    expect(noValue.stderr).toMatch(/^error: option '--accounts <ids>' argument missing\n/);
    expect(noValue.stderr).not.toMatch(TRACE);
  });
});
