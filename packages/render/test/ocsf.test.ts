import { readFileSync } from "node:fs";
import { type AccountOutcome, type AccountTarget, CHECK_IDS, type Finding, type ScanReport } from "@orgmfa/core";
import { Ajv, type ValidateFunction } from "ajv";
import { describe, expect, it } from "vitest";
import { ACCOUNT, defaultPolicy, facts, reportAt, root, target, user, VIRTUAL } from "../../core/test/fixtures";
import { OCSF_VERSION, ocsfStandards, renderOcsf } from "../src";

// The OCSF schema of the version we emit, compiled from github.com/ocsf/ocsf-schema by
// scripts/ocsf-schema.mjs (see packages/render/schema/ocsf/README.md): not our expectations of it.
const schema = JSON.parse(
  readFileSync(new URL(`../schema/ocsf/${OCSF_VERSION}-compliance_finding-cloud.schema.json`, import.meta.url), "utf8"),
);
const validate: ValidateFunction = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);

/** Why `event` is not a valid OCSF Compliance Finding with the cloud profile (empty when valid). */
function problems(event: unknown): string[] {
  if (validate(event)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || "(top level)"} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`,
  );
}

/** The parts of an event the assertions read. */
interface OcsfEvent {
  metadata: { version: string; profiles?: string[]; uid: string };
  finding_info: { types: string[]; analytic: { uid: string } };
  compliance: { control: string; standards: string[] };
  resource: { type: string; uid?: string; name?: string };
  [attribute: string]: unknown;
}

const lines = (report: ScanReport, ctx?: { region?: string }) =>
  renderOcsf(report, ctx)
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as OcsfEvent);

/** A copy of `event` with the attribute at `path` set to `value`, or removed when `value` is undefined. */
function edit(event: object, path: string, value?: unknown): object {
  const copy = structuredClone(event) as Record<string, unknown>;
  const keys = path.split(".");
  let parent = copy;
  for (const k of keys.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

const OTHER = "222233334444";
const BROKEN = "555566667777";

/** Every kind of finding: users and root, open and exempted, and an account that could not be audited. */
function fixtureReport(): ScanReport {
  const targets: AccountTarget[] = [
    target(),
    target({ accountId: OTHER, accountName: "dev", ouPath: 'Root/Dev/Team <A> & "B"' }),
    target({ accountId: BROKEN, accountName: "legacy", ouPath: "Root" }),
  ];
  const outcomes = new Map<string, AccountOutcome>([
    [
      ACCOUNT,
      facts(
        [
          user("alice", { consoleAccess: true, passwordLastUsed: "2026-11-20T08:00:00.000Z" }),
          user("ci", { activeAccessKeys: 1 }),
          user("idle"),
          user("phone", { consoleAccess: true, devices: [VIRTUAL] }),
        ],
        root({ credentials: "PRESENT", password: true, mfaEnabled: false }),
      ),
    ],
    [
      OTHER,
      {
        ...facts(
          [{ ...user("bob", { consoleAccess: true }), arn: `arn:aws:iam::${OTHER}:user/path/bob` }],
          root({
            arn: `arn:aws:iam::${OTHER}:root`,
            credentials: "PRESENT",
            password: true,
            mfaEnabled: true,
            virtualDevices: [
              { serialNumber: `arn:aws:iam::${OTHER}:mfa/root-account-mfa-device`, type: "VIRTUAL", enabledAt: null },
            ],
          }),
        ),
        accountId: OTHER,
      },
    ],
    [
      BROKEN,
      {
        kind: "failure",
        accountId: BROKEN,
        reason: "ASSUME_ROLE_DENIED",
        error: { code: "AccessDenied", message: "not authorized to perform sts:AssumeRole" },
      },
    ],
  ]);
  const policy = defaultPolicy({
    requirePhishingResistantMfa: true,
    exemptions: [
      { account: ACCOUNT, principal: "ci", checks: "*", reason: "vendor integration", expires: "2026-12-31" },
    ],
  });
  return reportAt(targets, outcomes, { policy });
}

describe("OCSF output is valid OCSF", () => {
  const report = fixtureReport();

  it("covers users, root, exempted findings and an account that was not audited", () => {
    const ids = new Set(report.findings.map((f) => f.checkId));
    for (const id of ["USER_CONSOLE_NO_MFA", "ROOT_NO_MFA", "ROOT_VIRTUAL_MFA", "ACCOUNT_NOT_AUDITED"])
      expect(ids).toContain(id);
    expect(report.findings.some((f) => f.status === "EXEMPTED")).toBe(true);
    expect(report.findings.length).toBeGreaterThanOrEqual(6);
  });

  it("every line validates against the OCSF schema, with and without an organization and a region", () => {
    const variants = [
      lines(report),
      lines(report, { region: "eu-west-1" }),
      lines({ ...report, organizationId: null }),
    ];
    for (const events of variants) {
      expect(events).toHaveLength(report.findings.length);
      for (const event of events) expect(problems(event), JSON.stringify(event)).toEqual([]);
    }
  });

  it("every check id (a check added later too) yields a valid event", () => {
    const base = report.findings.find((f) => f.checkId === "USER_CONSOLE_NO_MFA") as Finding;
    const findings = CHECK_IDS.map((checkId) => ({ ...base, checkId, id: `orgmfa/${checkId}/x` }));
    const events = lines({ ...report, findings });
    expect(events.map((e) => e.finding_info.analytic.uid)).toEqual([...CHECK_IDS]);
    for (const event of events) expect(problems(event), JSON.stringify(event)).toEqual([]);
  });

  it("declares its version and profile, names the standards and keeps exempted findings Suppressed", () => {
    const events = lines(report, { region: "eu-west-1" });
    for (const e of events) {
      expect(e).toMatchObject({
        class_uid: 2003,
        category_uid: 2,
        type_uid: 200301,
        metadata: { version: "1.1.0", profiles: ["cloud"], product: { name: "orgmfa", uid: "orgmfa" } },
        cloud: { provider: "AWS", region: "eu-west-1", org: { uid: "o-abcdefghij" } },
        compliance: { status_id: 3, status: "Fail" },
      });
      expect(e.resource).toBeTypeOf("object");
      expect(e).not.toHaveProperty("resources");
      expect(e.compliance.standards.length).toBeGreaterThan(0);
      expect(e.finding_info.analytic).toMatchObject({ uid: e.compliance.control, type_id: 1, type: "Rule" });
    }
    const byUser = (name: string) => events.find((e) => e.resource.name === name);
    expect(byUser("alice")?.compliance.standards).toContain("CIS AWS Foundations Benchmark");
    expect(byUser("alice")).toMatchObject({ status_id: 1, status: "New" });
    expect(byUser("ci")).toMatchObject({ status_id: 3, status: "Suppressed" });
    const broken = events.find((e) => e.finding_info.types[0] === "ACCOUNT_NOT_AUDITED");
    expect(broken?.resource).toMatchObject({ type: "AWS::::Account", uid: BROKEN });
  });

  it("derives the standards from the related controls", () => {
    expect(ocsfStandards(["IAM.5", "CIS v7.0 2.10"]).sort()).toEqual([
      "AWS Security Hub controls",
      "CIS AWS Foundations Benchmark",
    ]);
    expect(ocsfStandards([])).toEqual(["orgmfa MFA checks"]);
  });
});

describe("the validator catches what made the old lines invalid", () => {
  const valid = lines(fixtureReport())[0] as OcsfEvent;

  it("accepts the line each defect is put into", () => {
    expect(problems(valid)).toEqual([]);
  });

  it("rejects `resources`, which Compliance Finding 1.1.0 does not have (only `resource`)", () => {
    const e = edit(edit(valid, "resources", [valid.resource]), "resource");
    expect(problems(e).join("\n")).toMatch(/additionalProperty.*"resources"/);
  });

  it("rejects a compliance object without the required `standards`", () => {
    expect(problems(edit(valid, "compliance.standards")).join("\n")).toMatch(
      /\/compliance must have required property 'standards'/,
    );
  });

  it("rejects `cloud` when metadata.profiles does not declare the cloud profile", () => {
    expect(problems(edit(valid, "metadata.profiles")).join("\n")).toMatch(
      /\/metadata must have required property 'profiles'/,
    );
    expect(problems(edit(valid, "metadata.profiles", ["host"])).join("\n")).toMatch(
      /\/metadata\/profiles must contain at least 1 valid item/,
    );
  });

  it("rejects another version, unknown enum values and a missing required attribute", () => {
    expect(problems(edit(valid, "metadata.version", "1.3.0")).join("\n")).toMatch(
      /\/metadata\/version must be equal to constant/,
    );
    expect(problems(edit(valid, "status_id", 7)).join("\n")).toMatch(
      /\/status_id must be equal to one of the allowed values/,
    );
    expect(problems(edit(valid, "finding_info.uid")).join("\n")).toMatch(
      /\/finding_info must have required property 'uid'/,
    );
  });
});
