import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type AccountTarget, buildReport, policyFromConfig } from "@orgmfa/core";
import { reportJsonChunks } from "@orgmfa/render";
import { describe, expect, it } from "vitest";
import { orgmfa, TRACE } from "./run";

// `orgmfa report` over a saved report: no AWS, no emulator. The report is built by the code that
// builds every report (buildReport) and written as `orgmfa scan` writes report.json: one account the
// audit role could not reach, one excluded.
const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-report-"));
const target = (accountId: string, accountName: string, skip: AccountTarget["skip"]): AccountTarget => ({
  accountId,
  accountName,
  ouPath: "Root/Workloads",
  owner: null,
  state: "ACTIVE",
  skip,
});
const report = buildReport({
  scanId: "s-fixture",
  toolVersion: "0.1.0",
  startedAt: new Date("2026-11-21T12:00:00Z"),
  finishedAt: new Date("2026-11-21T12:01:00Z"),
  organizationId: "o-abcdefghij",
  partition: "aws",
  targets: [target("111122223333", "prod-web", null), target("444455556666", "sandbox", "EXCLUDED")],
  outcomes: new Map([
    [
      "111122223333",
      {
        kind: "failure",
        accountId: "111122223333",
        reason: "ASSUME_ROLE_DENIED",
        error: { code: "AccessDenied", message: "not authorized to perform sts:AssumeRole" },
      },
    ],
  ]),
  policy: policyFromConfig({}),
});
const saved = path.join(dir, "report.json");
const savedText = [...reportJsonChunks(report)].join("");
writeFileSync(saved, savedText);

describe("orgmfa report", () => {
  it("renders the saved report as the table on stdout, exit 0 without --fail-on", async () => {
    const r = await orgmfa(["report", saved]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^orgmfa scan s-fixture: /);
    expect(r.stdout).toContain("Coverage 0.0%: 0 of 1 in-scope accounts audited, 1 failed, 1 skipped (2 listed)");
    expect(r.stdout).toMatch(/│ HIGH +│ ACCOUNT_NOT_AUDITED +│ prod-web +│/);
    expect(r.stdout).toMatch(
      /│ prod-web +│ Root\/Workloads +│ FAILED +│ — +│ — +│ ASSUME_ROLE_DENIED: AccessDenied +│/,
    );
    expect(r.stdout).not.toContain("\x1b[");
  });

  it("reads the report from stdin with -", async () => {
    const r = await orgmfa(["report", "-"], { stdin: savedText });
    expect(r).toEqual({ ...(await orgmfa(["report", saved])), code: 0 });
  });

  it.each([
    [["--fail-on", "high"], 4],
    [["--fail-on", "none"], 4],
    [["--fail-on", "HIGH", "--allow-partial"], 3],
    [["--fail-on", "Critical", "--allow-partial"], 0],
    [["--fail-on", "none", "--allow-partial"], 0],
  ] as const)("%j exits %i, as the scan that wrote it would have", async (flags, code) => {
    expect(await orgmfa(["report", saved, "--format", "json", ...flags])).toMatchObject({ code, stderr: "" });
  });

  it("--format json gives the report back as it was saved", async () => {
    const r = await orgmfa(["report", saved, "--format", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(savedText));
  });

  it("--output FILE writes the format its extension names, and nothing to stdout", async () => {
    const csv = path.join(dir, "findings.csv");
    expect(await orgmfa(["report", saved, "--output", csv])).toEqual({ code: 0, stdout: "", stderr: "" });
    const rows = readFileSync(csv, "utf8").split("\r\n");
    expect(rows[1]).toContain("ACCOUNT_NOT_AUDITED");
  });

  it("--format asff needs the region and the scanning account a report without `run` does not record", async () => {
    expect(await orgmfa(["report", saved, "--format", "asff"])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "orgmfa: --region: needed for --format asff (this report does not record the region it was scanned in), as a region name such as us-east-1 (the Security Hub region)\n",
    });
    const r = await orgmfa([
      "report",
      saved,
      "--format",
      "asff",
      "--region",
      "eu-west-1",
      "--scanning-account",
      "999988887777",
    ]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    // ACCOUNT_NOT_AUDITED is imported in the scanning account.
    expect(JSON.parse(r.stdout)).toMatchObject([
      {
        AwsAccountId: "999988887777",
        ProductArn: "arn:aws:securityhub:eu-west-1:999988887777:product/999988887777/default",
        GeneratorId: "orgmfa/ACCOUNT_NOT_AUDITED",
      },
    ]);
  });

  it("refuses what is not a report, naming where it came from, exit 2", async () => {
    const notReport = path.join(dir, "not-a-report.json");
    writeFileSync(notReport, '{"hello":1}');
    const r = await orgmfa(["report", notReport]);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toMatch(new RegExp(`^orgmfa: ${notReport} is not an orgmfa report:\\n {2}\\S`));
    const stdin = await orgmfa(["report", "-"], { stdin: "garbage" });
    expect(stdin).toMatchObject({ code: 2, stdout: "" });
    expect(stdin.stderr).toMatch(/^orgmfa: stdin is not an orgmfa report:\n/);
    for (const s of [r.stderr, stdin.stderr]) expect(s).not.toMatch(TRACE);
    expect(await orgmfa(["report", "/nonexistent/r.json"])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "orgmfa: cannot read /nonexistent/r.json (ENOENT). Pass the path of a report.json written by orgmfa scan, or - to read it from stdin.\n",
    });
  });

  it("refuses --output that is a format name, before reading the report", async () => {
    expect(await orgmfa(["report", "/nonexistent/r.json", "--output", "json"])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'orgmfa: --output: "json" is a format name, not a file. Use --format json (and --output FILE to write it to a file; --output ./json if you really mean a file of that name).\n',
    });
  });
});
