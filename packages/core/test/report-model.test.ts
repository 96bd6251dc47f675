import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import {
  type AccountOutcome,
  buildReport,
  findingSchema,
  REPORT_SCHEMA_ID,
  readPreviousScan,
  reportJsonSchemaText,
  reportProblems,
  reportSchema,
  type ScanReport,
  scanReportSchema,
} from "../src";
import { ACCOUNT, defaultPolicy, FIDO, facts, NOW, root, target, user, VIRTUAL } from "./fixtures";

// The report's shape is written once, in zod (src/report-model.ts); the TypeScript types are inferred
// from it and schema/report.schema.json is emitted from it. These tests keep the three in step.

const schemaFile = new URL("../schema/report.schema.json", import.meta.url);

/** A report with every kind of account and finding: audited, failed, skipped, open and exempted. */
function sample(): ScanReport {
  const audited = target();
  const failed = target({ accountId: "222222222222", accountName: "dev" });
  const skipped = target({ accountId: "333333333333", accountName: "old", skip: "SUSPENDED" });
  const policy = defaultPolicy({
    exemptions: [
      {
        account: ACCOUNT,
        principal: "bob",
        checks: ["USER_CONSOLE_NO_MFA"],
        reason: "break-glass",
        expires: "2099-01-01",
      },
    ],
  });
  const outcomes = new Map<string, AccountOutcome>([
    [
      audited.accountId,
      facts(
        [
          user("alice", { devices: [VIRTUAL] }),
          user("bob", { consoleAccess: true }),
          user("carol", { devices: [FIDO], activeAccessKeys: 2 }),
          user("dave", { mfaActive: true, mfaDevicesComplete: false }),
        ],
        root({ credentials: "PRESENT", mfaEnabled: false }),
      ),
    ],
    [
      failed.accountId,
      {
        kind: "failure",
        accountId: failed.accountId,
        reason: "ASSUME_ROLE_DENIED",
        error: { code: "AccessDenied", message: "denied" },
      },
    ],
  ]);
  const report = buildReport({
    scanId: "s1",
    toolVersion: "0.1.0",
    startedAt: NOW,
    finishedAt: NOW,
    organizationId: "o-abcdefghij",
    partition: "aws",
    targets: [audited, failed, skipped],
    outcomes,
    policy,
    previous: { scanId: "s0", findings: [] },
    warnings: [{ field: "exemptions[0]", message: "a warning" }],
    run: {
      callerArn: "arn:aws:sts::999999999999:assumed-role/OrgMfaScanner/x",
      region: "us-east-1",
      filters: { accounts: [], excludeAccounts: [], ous: [], excludeOus: [] },
      configSha256: "a".repeat(64),
      completeInventory: false,
    },
  });
  return JSON.parse(JSON.stringify(report));
}

/** zod's problems, written as the run-time validator writes them: `/path: message`. */
const zodProblems = (doc: unknown): string[] =>
  scanReportSchema.safeParse(doc).error?.issues.map((i) => `/${i.path.join("/")}: ${i.message}`) ?? [];

describe("the report model", () => {
  it("emits exactly the checked-in schema/report.schema.json (else run `npm run schema:report`)", () => {
    expect(readFileSync(schemaFile, "utf8"), "schema/report.schema.json is stale: npm run schema:report").toBe(
      reportJsonSchemaText(),
    );
    // What the run-time validator compiles is that same file.
    expect(reportSchema).toEqual(JSON.parse(reportJsonSchemaText()));
  });

  it("keeps the published identity: draft-07, its $id, and definitions/finding for readPreviousScan", () => {
    expect(reportSchema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(reportSchema.$id).toBe(REPORT_SCHEMA_ID);
    expect(REPORT_SCHEMA_ID).toBe("https://orgmfa.dev/schema/report-1.json");
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).addSchema(reportSchema);
    const finding = ajv.getSchema(`${REPORT_SCHEMA_ID}#/definitions/finding`);
    const report = sample();
    expect(finding?.(report.findings[0])).toBe(true);
    expect(findingSchema.safeParse(report.findings[0]).success).toBe(true);
  });

  it("accepts a report of every kind of account and finding, in zod and in the JSON Schema", async () => {
    const report = sample();
    expect(report.accounts.map((a) => a.status)).toEqual(["AUDITED", "FAILED", "SKIPPED"]);
    expect(new Set(report.findings.map((f) => f.status))).toEqual(new Set(["OPEN", "EXEMPTED"]));
    expect(report.accounts[0]?.users.some((u) => u.mfaActive === true)).toBe(true);
    expect(reportProblems(report)).toEqual([]);
    expect(zodProblems(report)).toEqual([]);
    const previous = await readPreviousScan(
      (async function* () {
        yield JSON.stringify(report);
      })(),
    );
    expect(previous.findings).toHaveLength(report.findings.length);
  });

  // Each a change to the sample that the contract refuses; both validators must refuse it, naming the field.
  const refused: Array<[string, string, (r: ScanReport) => void]> = [
    ["an audited account with a reason", "/accounts/0/reason", (r) => set(r.accounts[0], "reason", "EXCLUDED")],
    ["an audited account without root", "/accounts/0/root", (r) => set(r.accounts[0], "root", null)],
    ["a failed account without its error", "/accounts/1/error", (r) => set(r.accounts[1], "error", null)],
    ["a failed account with a skip reason", "/accounts/1/reason", (r) => set(r.accounts[1], "reason", "SUSPENDED")],
    ["a skipped account with a failure reason", "/accounts/2/reason", (r) => set(r.accounts[2], "reason", "ERROR")],
    ["an unknown status", "/accounts/0/status", (r) => set(r.accounts[0], "status", "MAYBE")],
    [
      "mfaActive false (only true is written)",
      "/accounts/0/users/3/mfaActive",
      (r) => set(userAt(r, 3), "mfaActive", false),
    ],
    ["a ninth MFA device", "/accounts/0/users/0/mfaDevices", (r) => set(userAt(r, 0), "mfaDevices", nine(r))],
    ["a user ARN that is not one", "/accounts/0/users/0/arn", (r) => set(userAt(r, 0), "arn", "alice")],
    ["a field the contract does not have", "/accounts/0/users/0", (r) => set(userAt(r, 0), "nickname", "al")],
    ["a time that is not ISO-8601", "/startedAt", (r) => set(r, "startedAt", "yesterday")],
    ["coverage above 1", "/summary/coverage", (r) => set(r.summary, "coverage", 1.5)],
    ["a negative count", "/summary/users/total", (r) => set(r.summary.users, "total", -1)],
    ["a severity missing", "/summary/findings/bySeverity", (r) => set(r.summary.findings, "bySeverity", { HIGH: 1 })],
    ["an organization id that is not one", "/organizationId", (r) => set(r, "organizationId", "org")],
    ["a config digest that is not SHA-256", "/run/configSha256", (r) => set(r.run, "configSha256", "abc")],
    [
      "exemption checks that are not a list or *",
      "/exemptions/0/checks",
      (r) => set(r.exemptions?.[0], "checks", "all"),
    ],
    ["another tool", "/tool/name", (r) => set(r.tool, "name", "other")],
    ["ACCOUNT_NOT_AUDITED naming a principal", "/findings/", (r) => set(unaudited(r), "principalArn", "arn:x")],
    ["an exempted finding without its exemption", "/findings/", (r) => set(exempted(r), "exemption", null)],
    [
      "an open finding with an exemption",
      "/findings/",
      (r) => set(open(r), "exemption", { reason: "x", expires: "y" }),
    ],
  ];
  it.each(refused)("refuses %s, in zod and in the JSON Schema, at %s", (_what, path, change) => {
    const report = sample();
    change(report);
    for (const problems of [reportProblems(report), zodProblems(report)]) {
      expect(problems.length, JSON.stringify(problems)).toBeGreaterThan(0);
      expect(
        problems.some((p) => p.startsWith(path)),
        JSON.stringify(problems),
      ).toBe(true);
    }
  });
});

function set(o: object | undefined, key: string, value: unknown): void {
  if (!o) throw new Error(`nothing to set ${key} on`);
  (o as Record<string, unknown>)[key] = value;
}
const userAt = (r: ScanReport, i: number) => r.accounts[0]?.users[i];
const nine = (r: ScanReport) => Array.from({ length: 9 }, () => userAt(r, 0)?.mfaDevices[0]);
const unaudited = (r: ScanReport) => r.findings.find((f) => f.checkId === "ACCOUNT_NOT_AUDITED");
const exempted = (r: ScanReport) => r.findings.find((f) => f.status === "EXEMPTED");
const open = (r: ScanReport) => r.findings.find((f) => f.status === "OPEN" && f.checkId !== "ACCOUNT_NOT_AUDITED");
