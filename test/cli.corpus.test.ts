import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ScanReport } from "@orgmfa/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmulatedOrg, startEmulatedOrg } from "./emulated-org";
import { runInProcess } from "./in-process";

// The bad-input corpus: every case runs in this process through main(argv, io), against an emulated
// organization with IAM enforcement on, and asserts the exit code and that the message names the
// problem (and never a stack trace, a class name or an all-clear).
let e: EmulatedOrg;
let scanner: EmulatedOrg["env"];
const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-corpus-"));
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};
const config = (doc: unknown) => file(`config-${Math.random().toString(36).slice(2)}.json`, JSON.stringify(doc));
const exemption = (over: Record<string, unknown>) => ({
  exemptions: [{ account: "*", principal: "bob", checks: "*", reason: "why", expires: "2026-12-31", ...over }],
});

beforeAll(async () => {
  e = await startEmulatedOrg();
  scanner = e.env;
  mkdirSync(path.join(dir, "a-directory"));
});
afterAll(async () => {
  await e?.emu.stop();
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface Case {
  name: string;
  args: () => string[];
  env?: () => Record<string, string | undefined>;
  stdin?: () => string;
  code: number;
  stderr?: RegExp;
  stdout?: RegExp;
}

const acct = (name: string) => e.org.accounts[name] ?? "";
const scan = (...a: string[]) => ["scan", "--org-role-arn", e.org.orgRoleArn, ...a];
const goodReport = () => file("good-report.json", readFileSync(path.join(dir, "saved", "report.json"), "utf8"));
/** The saved report as one written before reports recorded their run (no `run`). */
const withoutRun = () => {
  const { run: _run, ...older } = JSON.parse(readFileSync(path.join(dir, "saved", "report.json"), "utf8"));
  return file("older-report.json", JSON.stringify(older));
};

const CASES: Case[] = [
  // The command line itself.
  { name: "bare orgmfa", args: () => [], code: 2, stderr: /a command is required/ },
  { name: "help for an unknown command", args: () => ["help", "bogus"], code: 2, stderr: /unknown command 'bogus'/ },
  { name: "an unknown command", args: () => ["bogus"], code: 2, stderr: /unknown command 'bogus'/ },
  { name: "an unknown flag", args: () => ["scan", "--frobnicate"], code: 2, stderr: /unknown option '--frobnicate'/ },
  {
    name: "demo without the emulator installed",
    args: () => ["demo"],
    env: () => ({ PATH: path.dirname(process.execPath) }),
    code: 2,
    stderr: /moto AWS emulator was not found[\s\S]*pip install "moto\[server\]==5\.2\.1"/,
  },
  { name: "demo with an unknown flag", args: () => ["demo", "--frobnicate"], code: 2, stderr: /unknown option/ },
  { name: "--version", args: () => ["--version"], code: 0, stdout: /^\d+\.\d+\.\d+\n$/ },
  { name: "scan --help", args: () => ["scan", "--help"], code: 0, stdout: /--org-role-arn[\s\S]*--log-level/ },
  { name: "help scan", args: () => ["help", "scan"], code: 0, stdout: /--exclude-checks/ },
  // Filters that name nothing.
  { name: '--accounts ""', args: () => ["scan", "--accounts", ""], code: 2, stderr: /--accounts: the list is empty/ },
  { name: "--accounts ,", args: () => ["scan", "--accounts", ","], code: 2, stderr: /--accounts: the list is empty/ },
  {
    name: "--exclude-accounts ,",
    args: () => ["scan", "--exclude-accounts", " , "],
    code: 2,
    stderr: /--exclude-accounts: the list is empty/,
  },
  { name: '--ou ""', args: () => ["scan", "--ou", ""], code: 2, stderr: /--ou: the list is empty/ },
  {
    name: "--exclude-ou ,",
    args: () => ["scan", "--exclude-ou", ","],
    code: 2,
    stderr: /--exclude-ou: the list is empty/,
  },
  { name: "--checks ,", args: () => ["scan", "--checks", ","], code: 2, stderr: /--checks: the list is empty/ },
  // Bad values.
  {
    name: "a short account id",
    args: () => ["scan", "--accounts", "12345"],
    code: 2,
    stderr: /"12345" is not a 12-digit/,
  },
  {
    name: "an unknown format",
    args: () => ["scan", "--format", "xml"],
    code: 2,
    stderr: /--format: "xml" must be one of/,
  },
  { name: "concurrency not a number", args: () => ["scan", "--concurrency", "lots"], code: 2, stderr: /whole number/ },
  { name: "concurrency 0", args: () => ["scan", "--concurrency", "0"], code: 2, stderr: /from 1 to 256/ },
  { name: "concurrency 1000", args: () => ["scan", "--concurrency", "1000"], code: 2, stderr: /from 1 to 256/ },
  {
    name: "per-account concurrency 0",
    args: () => ["scan", "--per-account-concurrency", "0"],
    code: 2,
    stderr: /--per-account-concurrency: "0" must be a whole number from 1 to 32/,
  },
  {
    name: "a report age that is not a duration",
    args: () => ["scan", "--max-report-age", "soon"],
    code: 2,
    stderr: /--max-report-age: "soon" is not a duration such as 5m/,
  },
  { name: "an unknown severity", args: () => ["scan", "--fail-on", "urgent"], code: 2, stderr: /--fail-on: "urgent"/ },
  { name: "an unknown log level", args: () => ["scan", "--log-level", "loud"], code: 2, stderr: /--log-level: "loud"/ },
  {
    name: "an unknown check",
    args: () => ["scan", "--checks", "nope"],
    code: 2,
    stderr: /--checks: "nope" is not a check/,
  },
  {
    name: "an unknown excluded check",
    args: () => ["scan", "--exclude-checks", "ROOT_NO_MFA,nope"],
    code: 2,
    stderr: /--exclude-checks: "nope"/,
  },
  {
    name: "checks that cancel out",
    args: () => ["scan", "--checks", "root_no_mfa", "--exclude-checks", "ROOT_NO_MFA"],
    code: 2,
    stderr: /leave no check to run/,
  },
  {
    name: "a bad --org-role-arn",
    args: () => ["scan", "--org-role-arn", "OrgMfa"],
    code: 2,
    stderr: /--org-role-arn: "OrgMfa" is not an IAM role ARN/,
  },
  {
    name: "a bad --role-name",
    args: () => ["scan", "--role-name", "bad name!"],
    code: 2,
    stderr: /--role-name: "bad name!"/,
  },
  {
    name: "--s3-prefix alone",
    args: () => ["scan", "--s3-prefix", "x"],
    code: 2,
    stderr: /--s3-prefix: needs --s3-bucket/,
  },
  {
    name: "a bad bucket",
    args: () => ["scan", "--s3-bucket", "Bad_Bucket"],
    code: 2,
    stderr: /--s3-bucket: "Bad_Bucket"/,
  },
  {
    name: "a bad topic",
    args: () => ["scan", "--sns-topic-arn", "digest"],
    code: 2,
    stderr: /--sns-topic-arn: "digest"/,
  },
  { name: "a bad region", args: () => ["scan", "--region", "mars"], code: 2, stderr: /--region: "mars"/ },
  { name: "an empty external id", args: () => ["scan", "--external-id", ""], code: 2, stderr: /--external-id/ },
  // Output paths, checked before the first AWS call.
  {
    name: "--output json",
    args: () => ["scan", "--output", "json"],
    code: 2,
    stderr: /"json" is a format name.*--format json/,
  },
  { name: "--output CSV", args: () => ["scan", "--output", "CSV"], code: 2, stderr: /"CSV" is a format name/ },
  {
    name: "a table into a .json file",
    args: () => ["scan", "--format", "table", "--output", path.join(dir, "r.json")],
    code: 2,
    stderr: /names a \.json file but --format is table/,
  },
  {
    name: "csv into a .html file",
    args: () => ["scan", "--format", "csv", "--output", path.join(dir, "r.html")],
    code: 2,
    stderr: /names a \.html file but --format is csv/,
  },
  {
    name: "--output in a missing directory",
    args: () => ["scan", "--output", "/nonexistent/dir/r.json"],
    code: 2,
    stderr: /--output: cannot write \/nonexistent\/dir\/r\.json: ENOENT/,
  },
  {
    name: "--output a directory",
    args: () => ["scan", "--output", path.join(dir, "a-directory")],
    code: 2,
    stderr: /--output: .* is a directory/,
  },
  {
    name: "--output under /proc",
    args: () => ["scan", "--output", "/proc/x/report.json"],
    code: 2,
    stderr: /--output: cannot write/,
  },
  {
    name: "--out-dir on a file",
    args: () => ["scan", "--out-dir", file("plain-file", "x")],
    code: 2,
    stderr: /--out-dir: .* is a file, not a directory/,
  },
  {
    name: "--out-dir under /proc",
    args: () => ["scan", "--out-dir", "/proc/x"],
    code: 2,
    stderr: /--out-dir: cannot write to \/proc\/x/,
  },
  // Config files.
  {
    name: "a missing config",
    args: () => ["scan", "--config", "/nonexistent/orgmfa.json"],
    code: 2,
    stderr: /--config: cannot read \/nonexistent\/orgmfa\.json \(ENOENT\)/,
  },
  {
    name: "a config that is not JSON",
    args: () => ["scan", "--config", file("bad.json", "{ nope")],
    code: 2,
    stderr: /is not valid JSON/,
  },
  {
    name: "an exemption without a reason",
    args: () => ["scan", "--config", config(exemption({ reason: undefined }))],
    code: 2,
    stderr: /exemptions\[0\]\.reason: is required/,
  },
  {
    name: "an exemption without checks",
    args: () => ["scan", "--config", config(exemption({ checks: undefined }))],
    code: 2,
    stderr: /exemptions\[0\]\.checks: is required/,
  },
  {
    name: "February 30th",
    args: () => ["scan", "--config", config(exemption({ expires: "2099-02-30" }))],
    code: 2,
    stderr: /exemptions\[0\]\.expires: must be an ISO-8601 date.*"2099-02-30"/,
  },
  {
    name: "a principal given as an ARN",
    args: () => ["scan", "--config", config(exemption({ principal: "arn:aws:iam::123456789012:user/bob" }))],
    code: 2,
    stderr: /exemptions\[0\]\.principal: is an ARN/,
  },
  {
    name: "an exemption of everything",
    args: () => ["scan", "--config", config(exemption({ principal: "*" }))],
    code: 2,
    stderr: /exemptions\[0\]: exempts every finding in every account/,
  },
  {
    name: "a KMS key that is not one",
    args: () => ["scan", "--config", config({ s3KmsKeyId: "not-a-key" })],
    code: 2,
    stderr: /s3KmsKeyId: must be a KMS key id/,
  },
  {
    name: "an unknown config field",
    args: () => ["scan", "--config", config({ frobnicate: true })],
    code: 2,
    stderr: /frobnicate/,
  },
  {
    name: "a bad severity in the config",
    args: () => ["scan", "--config", config({ checks: { ROOT_NO_MFA: { severity: "URGENT" } } })],
    code: 2,
    stderr: /checks\.ROOT_NO_MFA\.severity/,
  },
  // The environment: credentials, profiles, region, endpoint.
  {
    name: "an endpoint without a scheme",
    args: () => ["scan"],
    env: () => ({ ...scanner, AWS_ENDPOINT_URL: "localhost:5000" }),
    code: 2,
    stderr: /AWS_ENDPOINT_URL: "localhost:5000" is not an http\(s\) URL.*http:\/\/localhost:5000/,
  },
  {
    name: "a per-service endpoint without a scheme",
    args: () => ["scan"],
    env: () => ({ ...scanner, AWS_ENDPOINT_URL_STS: "sts.local" }),
    code: 2,
    stderr: /AWS_ENDPOINT_URL_STS: "sts.local"/,
  },
  {
    name: "AWS_PROFILE that does not exist",
    args: () => ["scan"],
    env: () => ({ AWS_ENDPOINT_URL: e.emu.endpoint, AWS_REGION: "us-east-1", AWS_PROFILE: "missing" }),
    code: 2,
    stderr: /AWS_PROFILE: profile "missing" does not exist\. Profiles are read from \/nonexistent\/orgmfa-test-config/,
  },
  {
    name: "--profile that does not exist",
    args: () => ["scan", "--profile", "missing"],
    env: () => ({ AWS_ENDPOINT_URL: e.emu.endpoint, AWS_REGION: "us-east-1" }),
    code: 2,
    stderr: /--profile: profile "missing" does not exist/,
  },
  {
    name: "no credentials at all",
    args: () => ["scan"],
    env: () => ({ AWS_ENDPOINT_URL: e.emu.endpoint, AWS_REGION: "us-east-1" }),
    code: 2,
    stderr: /No AWS credentials were found\. Set AWS_PROFILE/,
  },
  {
    name: "no region",
    args: () => ["scan"],
    env: () => ({ AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" }),
    code: 2,
    stderr: /No AWS region: pass --region, or set AWS_REGION/,
  },
  // Scope: a scan that would look at nothing.
  {
    name: "--accounts X --exclude-accounts X",
    args: () => scan("--accounts", acct("prod-web"), "--exclude-accounts", acct("prod-web")),
    env: () => scanner,
    code: 2,
    stderr:
      /No account is in scope, so nothing would be scanned.*Filters in force: --accounts \d{12}; --exclude-accounts \d{12}/,
  },
  {
    name: "--ou and --accounts that do not intersect",
    args: () => scan("--ou", e.org.ous.Sandbox ?? "", "--accounts", acct("prod-web")),
    env: () => scanner,
    code: 2,
    stderr: /No account is in scope.*--accounts \d{12}; --ou ou-/,
  },
  {
    name: "only a suspended account",
    args: () => scan("--accounts", acct("retired-2019")),
    env: () => scanner,
    code: 2,
    stderr: /No account is in scope.*\(8 listed: 1 suspended or closed, 7 excluded\).*--accounts \d{12}/,
  },
  {
    name: "the config's filters empty the scope",
    args: () => scan("--config", config({ accounts: [acct("prod-web")], excludeAccounts: [acct("prod-web")] })),
    env: () => scanner,
    code: 2,
    stderr: /No account is in scope.*config accounts \d{12}; config excludeAccounts/,
  },
  {
    name: "an account that is not in the organization",
    args: () => scan("--accounts", "999999999999"),
    env: () => scanner,
    code: 2,
    stderr: /Account 999999999999 is not in organization o-/,
  },
  {
    name: "an OU that is not in the organization",
    args: () => scan("--ou", "ou-zzzz-zzzzzzzz"),
    env: () => scanner,
    code: 2,
    stderr: /OU ou-zzzz-zzzzzzzz is not in organization/,
  },
  {
    name: "an OU path that is not in the organization",
    args: () => scan("--ou", "Root/Workloads/Staging"),
    env: () => scanner,
    code: 2,
    stderr:
      /"Root\/Workloads\/Staging" is no OU id, path or name in organization o-\w+\. List its OUs with: orgmfa ous/,
  },
  {
    name: "--ou by path, with or without Root/, and by name",
    args: () => scan("--ou", "Workloads/Prod,Root/Workloads/Dev", "--exclude-ou", "dev", "--format", "json"),
    env: () => scanner,
    code: 3, // prod-payments has console users without MFA
    // dev-platform (under the excluded "dev") is skipped; prod-payments (under Workloads/Prod) audited.
    stdout:
      /"accountName": "dev-platform",[^}]*"status": "SKIPPED"[\s\S]*"accountName": "prod-payments",[\s\S]*?"status": "AUDITED"/,
  },
  {
    name: "orgmfa ous lists the root and every OU with its id and path",
    args: () => ["ous", "--org-role-arn", e.org.orgRoleArn],
    env: () => scanner,
    code: 0,
    stdout: /Root\/Workloads\/Prod\s*│ ou-[0-9a-z]+-[0-9a-z]+[\s\S]*--ou and --exclude-ou take an id, a path or a name/,
  },
  {
    name: "an --org-role-arn that cannot be assumed",
    args: () => ["scan", "--org-role-arn", `arn:aws:iam::${e.org.managementAccountId}:role/NoSuchRole`],
    env: () => scanner,
    code: 2,
    stderr:
      /Cannot read the organization through --org-role-arn arn:aws:iam::\d{12}:role\/NoSuchRole \(AccessDenied.*Check that the role exists/,
  },
  {
    name: "an --s3-bucket that does not exist, before any account is scanned",
    args: () => scan("--s3-bucket", "no-such-bucket-orgmfa"),
    env: () => scanner,
    code: 2,
    stderr: /--s3-bucket: s3:\/\/no-such-bucket-orgmfa: NoSuchBucket.*Nothing was scanned\./,
  },
  {
    // As in AWS, an identity that may only publish to its own topic cannot tell a mistyped ARN from one
    // it may not inspect: the scan says so before the first account, and the delivery fails after.
    name: "an --sns-topic-arn the scanning identity may not inspect is warned about before the scan",
    args: () => scan("--sns-topic-arn", "arn:aws:sns:us-east-1:123456789012:no-such-topic"),
    env: () => scanner,
    code: 1,
    stderr: /--sns-topic-arn: not verified: \w+ on sns:GetTopicAttributes[\s\S]*delivery to SNS failed/,
  },
  {
    name: "a role name the StackSet never deployed",
    args: () => scan("--role-name", "DoesNotExist", "--format", "json"),
    env: () => scanner,
    code: 4,
    stderr: /every in-scope account \(7\) refused AssumeRole of role DoesNotExist\. Check that --role-name matches/,
  },
  // orgmfa report and orgmfa checks.
  { name: "report without a file", args: () => ["report"], code: 2, stderr: /missing required argument/ },
  {
    name: "report of a missing file",
    args: () => ["report", "/nonexistent/r.json"],
    code: 2,
    stderr: /cannot read \/nonexistent\/r\.json \(ENOENT\)/,
  },
  {
    name: "report of a file that is not a report",
    args: () => ["report", file("not-a-report.json", '{"hello":1}')],
    code: 2,
    stderr: /is not an orgmfa report/,
  },
  {
    name: "report - of garbage",
    args: () => ["report", "-"],
    stdin: () => "garbage",
    code: 2,
    stderr: /stdin is not an orgmfa report/,
  },
  {
    name: "report asff of a report that records no region (written before it did)",
    args: () => ["report", withoutRun(), "--format", "asff"],
    code: 2,
    stderr: /--region: needed for --format asff \(this report does not record the region/,
  },
  {
    name: "report asff takes the region and scanning account the report records",
    args: () => ["report", goodReport(), "--format", "asff"],
    code: 0,
    stdout: /"AwsAccountId": "\d{12}"[\s\S]*"Region": "us-east-1"/,
  },
  {
    name: "a .pdf --output",
    args: () => ["scan", "--output", path.join(dir, "r.pdf")],
    code: 2,
    stderr: /names a \.pdf file, and orgmfa writes no such format/,
  },
  {
    name: "report into a .pdf",
    args: () => ["report", goodReport(), "--output", path.join(dir, "r.pdf")],
    code: 2,
    stderr: /\.pdf file, and orgmfa writes no such format/,
  },
  {
    name: "checks --no-color",
    args: () => ["checks", "--no-color"],
    code: 0,
    stdout: /USER_MFA_NOT_PHISHING_RESISTANT/,
  },
  {
    name: "report --output json",
    args: () => ["report", goodReport(), "--output", "json"],
    code: 2,
    stderr: /format name/,
  },
  {
    name: "report --fail-on HIGH of a partial scan",
    args: () => ["report", goodReport(), "--fail-on", "high"],
    code: 4,
  },
  {
    name: "report --fail-on high --allow-partial",
    args: () => ["report", goodReport(), "--fail-on", "High", "--allow-partial"],
    code: 3,
  },
  {
    name: "report - defaults to the table",
    args: () => ["report", "-"],
    stdin: () => readFileSync(goodReport(), "utf8"),
    code: 0,
    stdout: /users without MFA \(7 IAM, 1 root\)[\s\S]*Coverage/,
  },
  {
    name: "report infers the format from --output",
    args: () => ["report", goodReport(), "--output", path.join(dir, "re.csv")],
    code: 0,
  },
  {
    name: "checks --format xml",
    args: () => ["checks", "--format", "xml"],
    code: 2,
    stderr: /--format: "xml" must be one of table, json/,
  },
  { name: "checks", args: () => ["checks"], code: 0, stdout: /ROOT_NO_MFA[\s\S]*ACCOUNT_NOT_AUDITED/ },
];

describe("a saved scan for the report cases", () => {
  it("scans the emulated organization (any case, any severity)", async () => {
    const r = await runInProcess(
      scan("--format", "JSON", "--fail-on", "informational", "--out-dir", path.join(dir, "saved")),
      { env: scanner },
    );
    expect(r.code).toBe(4);
    expect((JSON.parse(r.stdout) as ScanReport).summary.users.withoutMfa).toBe(8);
  });
});

describe("bad input corpus", () => {
  it("has at least 60 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const r = await runInProcess(c.args(), { env: c.env?.() ?? scanner, ...(c.stdin ? { stdin: c.stdin() } : {}) });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: c.code });
    if (c.stderr) expect(r.stderr).toMatch(c.stderr);
    if (c.stdout) expect(r.stdout).toMatch(c.stdout);
    if (c.code === 2) expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
    expect(r.stderr).not.toMatch(/DiscoveryError|UsageError|TypeError|XML parse|\bError:/);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/No open findings|has MFA\./);
  });

  it("an endpoint that refuses connections is named, with what to check", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const r = await runInProcess(["scan"], { env: { ...scanner, AWS_ENDPOINT_URL: endpoint } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`Cannot reach the AWS endpoint ${endpoint} \\(.*ECONNREFUSED.*\\)\\. Check AWS_ENDPOINT_URL`),
    );
  });
});
