import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHECK_IDS } from "@orgmfa/core";
import { beforeAll, describe, expect, it } from "vitest";
import { orgmfa, TRACE } from "./run";

// Every flag is validated once, before anything reads a file or calls AWS: each bad value below exits
// 2 with one line on stderr that names the flag and shows the value, and nothing on stdout. The same
// flag says the same thing in every command that takes it. None of these needs AWS or the emulator
// (no AWS_REGION is set: a case that got past its check would stop at "No AWS region", and fail).
const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-flags-"));
mkdirSync(path.join(dir, "a-directory"));
const aFile = path.join(dir, "plain-file");
writeFileSync(aFile, "x");
const notJson = path.join(dir, "bad.json");
writeFileSync(notJson, "{ nope");

const OU_WHAT = "an OU id (ou-xxxx-xxxxxxxx), root id (r-xxxx), path (Root/Workloads/Prod) or name";
const CHECKS = `Checks: ${CHECK_IDS.join(", ")} (see orgmfa checks).`;

// The commands' modules load the AWS SDK (main.ts imports them when they run): loaded once here, so
// each case below takes the milliseconds of the check itself.
beforeAll(async () => {
  await Promise.all([import("../src/scan"), import("../src/doctor"), import("../src/enforce"), import("../src/ous")]);
});

/** [args, the message after "orgmfa: "] */
const CASES: Array<[string[], string]> = [
  // Lists that name nothing are refused, never read as "all".
  [
    ["scan", "--accounts", ""],
    "--accounts: the list is empty; give a 12-digit account id (comma-separated), or leave out --accounts.",
  ],
  [
    ["scan", "--accounts", ","],
    "--accounts: the list is empty; give a 12-digit account id (comma-separated), or leave out --accounts.",
  ],
  [
    ["scan", "--exclude-accounts", " , "],
    "--exclude-accounts: the list is empty; give a 12-digit account id (comma-separated), or leave out --exclude-accounts.",
  ],
  [["scan", "--ou", ""], `--ou: the list is empty; give ${OU_WHAT} (comma-separated), or leave out --ou.`],
  [
    ["doctor", "--exclude-ou", ","],
    "--exclude-ou: the list is empty; give an OU id (ou-xxxx-xxxxxxxx), root id (r-xxxx), path or name (comma-separated), or leave out --exclude-ou.",
  ],
  [["scan", "--checks", ","], "--checks: the list is empty (see orgmfa checks)"],
  // Ids and names.
  [["scan", "--accounts", "12345"], '--accounts: "12345" is not a 12-digit account id'],
  [["enforce", "--exclude-accounts", "123456789012,abc"], '--exclude-accounts: "abc" is not a 12-digit account id'],
  [["scan", "--role-name", "bad name!"], '--role-name: "bad name!" is not an IAM role name'],
  [["doctor", "--role-name", "bad name!"], '--role-name: "bad name!" is not an IAM role name'],
  [["enforce", "--role-name", "x".repeat(65)], `--role-name: "${"x".repeat(65)}" is not an IAM role name`],
  [
    ["scan", "--org-role-arn", "OrgMfa"],
    '--org-role-arn: "OrgMfa" is not an IAM role ARN (arn:aws:iam::<management account>:role/OrgMfaAuditRole)',
  ],
  [
    ["ous", "--org-role-arn", "arn:aws:iam::123:role/x"],
    '--org-role-arn: "arn:aws:iam::123:role/x" is not an IAM role ARN (arn:aws:iam::<management account>:role/OrgMfaAuditRole)',
  ],
  [["scan", "--external-id", ""], "--external-id: must be 2–1224 characters of letters, digits and +=,.@:/-"],
  [["scan", "--profile", " "], "--profile: the profile name is empty"],
  [["scan", "--region", "mars"], '--region: "mars" is not an AWS region name (e.g. us-east-1)'],
  [["ous", "--region", "mars"], '--region: "mars" is not an AWS region name (e.g. us-east-1)'],
  [["report", "r.json", "--region", "mars"], '--region: "mars" is not an AWS region name (e.g. us-east-1)'],
  [["report", "r.json", "--scanning-account", "123"], '--scanning-account: "123" is not a 12-digit account id'],
  [
    ["scan", "--s3-bucket", "Bad_Bucket"],
    '--s3-bucket: "Bad_Bucket" is not an S3 bucket name (3–63 lowercase letters, digits, dots, hyphens)',
  ],
  [["scan", "--s3-bucket", "b-1", "--s3-prefix", "a b"], '--s3-prefix: "a b" is not a usable S3 key prefix'],
  [
    ["doctor", "--sns-topic-arn", "digest"],
    '--sns-topic-arn: "digest" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
  ],
  // Numbers, durations and choices.
  [["scan", "--concurrency", "lots"], '--concurrency takes a whole number, not "lots"'],
  [["scan", "--concurrency", "0"], '--concurrency: "0" must be a whole number from 1 to 256'],
  [["doctor", "--concurrency", "1000"], '--concurrency: "1000" must be a whole number from 1 to 256'],
  [
    ["scan", "--per-account-concurrency", "0"],
    '--per-account-concurrency: "0" must be a whole number from 1 to 32 (IAM throttles an account beyond a few calls at once)',
  ],
  [["scan", "--max-report-age", "soon"], '--max-report-age: "soon" is not a duration such as 5m, 300s or 0'],
  [
    ["scan", "--fail-on", "urgent"],
    '--fail-on: "urgent" must be one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, none (any case)',
  ],
  [
    ["report", "r.json", "--fail-on", "urgent"],
    '--fail-on: "urgent" must be one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, none (any case)',
  ],
  [["scan", "--log-level", "loud"], '--log-level: "loud" must be one of error, warn, info, debug'],
  [["scan", "--format", "xml"], '--format: "xml" must be one of table, json, csv, html, asff, ocsf'],
  [["checks", "--format", "xml"], '--format: "xml" must be one of table, json'],
  [["enforce", "--format", "csv"], '--format: "csv" must be one of table, json'],
  // Check ids.
  [["scan", "--checks", "nope"], `--checks: "nope" is not a check. ${CHECKS}`],
  [["scan", "--exclude-checks", "ROOT_NO_MFA,nope"], `--exclude-checks: "nope" is not a check. ${CHECKS}`],
  // Flags against each other.
  [["scan", "--s3-prefix", "x"], "--s3-prefix: needs --s3-bucket (the bucket the prefix is in)"],
  [["doctor", "--s3-prefix", "x"], "--s3-prefix: needs --s3-bucket (the bucket the prefix is in)"],
  [
    ["scan", "--checks", "root_no_mfa", "--exclude-checks", "ROOT_NO_MFA"],
    "--checks and --exclude-checks together leave no check to run",
  ],
  [
    ["scan", "--exclude-checks", CHECK_IDS.join(",").toLowerCase()],
    "--exclude-checks: every check is excluded; nothing would be checked",
  ],
  // --format and --output, checked before the first AWS call.
  [
    ["scan", "--output", "json"],
    '--output: "json" is a format name, not a file. Use --format json (and --output FILE to write it to a file; --output ./json if you really mean a file of that name).',
  ],
  [
    ["scan", "--output", "CSV"],
    '--output: "CSV" is a format name, not a file. Use --format csv (and --output FILE to write it to a file; --output ./CSV if you really mean a file of that name).',
  ],
  [
    ["scan", "--format", "table", "--output", "r.json"],
    "--output: r.json names a .json file but --format is table. Use --format json or --format asff, or a file name that matches table.",
  ],
  [
    ["scan", "--format", "csv", "--output", "r.html"],
    "--output: r.html names a .html file but --format is csv. Use --format html, or a file name that matches csv.",
  ],
  [
    ["scan", "--output", "r.pdf"],
    "--output: r.pdf names a .pdf file, and orgmfa writes no such format. Name the file for the format you want (.json, .csv, .html, .htm, .ocsf, .jsonl, .ndjson, .txt), or leave the extension off and choose with --format table|json|csv|html|asff|ocsf.",
  ],
  [
    ["scan", "--output", "/nonexistent/dir/r.json"],
    "--output: cannot write /nonexistent/dir/r.json: ENOENT (does the directory /nonexistent/dir exist?). Name a file in a writable directory.",
  ],
  [
    ["scan", "--output", path.join(dir, "a-directory")],
    `--output: ${path.join(dir, "a-directory")} is a directory. Name a file (or use --out-dir for a directory).`,
  ],
  [
    ["scan", "--out-dir", aFile],
    `--out-dir: ${aFile} is a file, not a directory. Name a directory (it is created if missing).`,
  ],
  // The config file, read before the first AWS call.
  [
    ["scan", "--config", "/nonexistent/orgmfa.json"],
    "--config: cannot read /nonexistent/orgmfa.json (ENOENT). Pass the path of a JSON config file.",
  ],
  [
    ["doctor", "--config", "/nonexistent/orgmfa.json"],
    "--config: cannot read /nonexistent/orgmfa.json (ENOENT). Pass the path of a JSON config file.",
  ],
];

describe("a bad flag", () => {
  it.each(CASES.map(([args, message]) => [args.join(" "), args, message] as const))(
    "orgmfa %s",
    async (_name, args, message) => {
      expect(await orgmfa(args)).toEqual({ code: 2, stdout: "", stderr: `orgmfa: ${message}\n` });
    },
  );

  it("a config file that is not JSON names the file, exit 2", async () => {
    const r = await orgmfa(["enforce", "--config", notJson]);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toMatch(new RegExp(`^orgmfa: --config ${notJson} is not valid JSON: .+\\n$`));
    expect(r.stderr).not.toMatch(TRACE);
  });
});

describe("the environment, before the first AWS call", () => {
  it.each(["scan", "doctor", "enforce", "ous"])("%s: an AWS_ENDPOINT_URL without a scheme", async (command) => {
    expect(await orgmfa([command], { env: { AWS_ENDPOINT_URL: "localhost:5000", AWS_REGION: "us-east-1" } })).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'orgmfa: AWS_ENDPOINT_URL: "localhost:5000" is not an http(s) URL. Write it with its scheme, e.g. http://localhost:5000\n',
    });
  });

  it("a per-service endpoint without a scheme", async () => {
    const r = await orgmfa(["scan"], { env: { AWS_ENDPOINT_URL_STS: "sts.local", AWS_REGION: "us-east-1" } });
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'orgmfa: AWS_ENDPOINT_URL_STS: "sts.local" is not an http(s) URL. Write it with its scheme, e.g. http://sts.local\n',
    });
  });

  it.each(["scan", "doctor", "enforce", "ous"])("%s: no region", async (command) => {
    expect(await orgmfa([command])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "orgmfa: No AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION, or region in your profile).\n",
    });
  });
});
