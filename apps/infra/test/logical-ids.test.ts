import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { App, type CfnResource, CfnWaitConditionHandle, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { Bucket } from "aws-cdk-lib/aws-s3";
import type { CfnTopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { describe, expect, it } from "vitest";
import { buildApp } from "../lib";
import { logicalIdOf, pathWithoutAddedLevels } from "../lib/constructs/logical-ids";
import { CONFIGURATIONS, type ConfigurationName, config, NO_BUNDLING } from "./helpers";

// A logical ID is the contract with CloudFormation: a resource whose logical ID changes is deleted and
// made again (a retained bucket, key or log group is orphaned instead, and the new one starts empty).
// fixtures/logical-ids.json records every resource (logical ID → type) and output of every stack, for
// each configuration the tests synthesize, as the code deployed them before the stack was split into
// constructs. Record again (ORGMFA_RECORD_LOGICAL_IDS=1) only to accept a change made on purpose.

/** A stack's resources (logical ID → type) and its outputs. */
interface StackRecord {
  resources: Record<string, string>;
  outputs: string[];
}
type AppRecord = Record<string, StackRecord>;
type Fixture = Record<ConfigurationName, AppRecord>;

const FIXTURE = fileURLToPath(new URL("fixtures/logical-ids.json", import.meta.url));
const RECORD = process.env.ORGMFA_RECORD_LOGICAL_IDS === "1";

/**
 * Resources made since the record, by configuration and stack (logical ID → type): they may appear,
 * and no other. Empty: the split into constructs added none.
 */
/** The history's Glue tables, Athena workgroup, named queries and results bucket (issue 26). */
const HISTORY = {
  HistoryTablesDatabase6D1D4223: "AWS::Glue::Database",
  HistoryTablesFindingsTableF267CA70: "AWS::Glue::Table",
  HistoryTablesUsersTable417F4386: "AWS::Glue::Table",
  HistoryTablesAccountsTable8623F97F: "AWS::Glue::Table",
  HistoryTablesChangesTable90657982: "AWS::Glue::Table",
  HistoryTablesQueryResults9EEF578E: "AWS::S3::Bucket",
  HistoryTablesQueryResultsPolicyD1C9ABFE: "AWS::S3::BucketPolicy",
  HistoryTablesWorkGroupA9EDA3D7: "AWS::Athena::WorkGroup",
  HistoryTablesUsersWithoutMfaByOuTodayQuery538D3B5C: "AWS::Athena::NamedQuery",
  HistoryTablesNewAndResolvedPerWeekQuery629FD9D6: "AWS::Athena::NamedQuery",
  HistoryTablesAccountsNotAudited30DaysQuery202B43E3: "AWS::Athena::NamedQuery",
  HistoryTablesExemptionsExpiringThisMonthQuery1EE0F305: "AWS::Athena::NamedQuery",
};
const NEW_RESOURCES = {
  OrgMfaManagement: { RootAuditPolicy: "AWS::IAM::ManagedPolicy" },
  OrgMfaCentral: HISTORY,
};
const NEW: Partial<Record<ConfigurationName, Record<string, Record<string, string>>>> = {
  // The member template's root sessions (EnableRootAudit, issue 24; its condition decides whether it is
  // created) and the history's tables (issue 26), in every configuration.
  example: NEW_RESOURCES,
  objectLock: NEW_RESOURCES,
  quarantine: NEW_RESOURCES,
  quarantineObjectLock: NEW_RESOURCES,
  // The MFA guardrail SCP (issue 25, OrgMfaManagement's MfaGuardrailPolicy990EB6A0) is in none of these
  // configurations (none enables `scp`), so it is not listed: scp-guardrail.test.ts holds its logical ID.
};

/** What `app`'s stacks hold. */
function recordOf(stacks: Stack[]): AppRecord {
  const out: AppRecord = {};
  for (const stack of stacks) {
    const t = Template.fromStack(stack).toJSON() as {
      Resources?: Record<string, { Type: string }>;
      Outputs?: Record<string, unknown>;
    };
    out[stack.stackName] = {
      resources: Object.fromEntries(Object.entries(t.Resources ?? {}).map(([id, r]) => [id, r.Type])),
      outputs: Object.keys(t.Outputs ?? {}),
    };
  }
  return out;
}

function synthesized(name: ConfigurationName): AppRecord {
  const outdir = mkdtempSync(path.join(tmpdir(), "orgmfa-ids-"));
  const { central, members, management } = buildApp(config(CONFIGURATIONS[name]), { outdir, context: NO_BUNDLING });
  return recordOf([central, members, management]);
}

/**
 * Every difference from the record that is not allowed: a stack, resource or output gone, a resource
 * of another type, a resource that is new without being listed in `added`.
 */
function changes(recorded: AppRecord, now: AppRecord, added: Record<string, Record<string, string>> = {}): string[] {
  const out: string[] = [];
  for (const [stack, before] of Object.entries(recorded)) {
    const after = now[stack];
    if (!after) {
      out.push(`${stack}: the stack is gone`);
      continue;
    }
    for (const [id, type] of Object.entries(before.resources)) {
      const current = after.resources[id];
      if (current === undefined)
        out.push(`${stack}: ${id} (${type}) is gone: its logical ID changed or it was removed`);
      else if (current !== type) out.push(`${stack}: ${id} was ${type}, is ${current}`);
    }
    for (const output of before.outputs)
      if (!after.outputs.includes(output)) out.push(`${stack}: the output ${output} is gone`);
  }
  for (const [stack, after] of Object.entries(now))
    for (const [id, type] of Object.entries(after.resources))
      if (recorded[stack]?.resources[id] === undefined && added[stack]?.[id] !== type)
        out.push(`${stack}: ${id} (${type}) is new, and not listed as new`);
  return out;
}

const names = Object.keys(CONFIGURATIONS) as ConfigurationName[];

describe("the logical IDs of deployed resources", () => {
  if (RECORD) {
    it("records every resource's logical ID and type (ORGMFA_RECORD_LOGICAL_IDS=1)", () => {
      const fixture = Object.fromEntries(names.map((name) => [name, synthesized(name)])) as Fixture;
      mkdirSync(path.dirname(FIXTURE), { recursive: true });
      writeFileSync(FIXTURE, `${JSON.stringify(fixture, null, 2)}\n`);
    });
    return;
  }
  const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as Fixture;

  it("has a record of every configuration the tests synthesize, with every stack", () => {
    expect(Object.keys(fixture).sort()).toEqual([...names].sort());
    for (const name of names)
      expect(Object.keys(fixture[name]).sort(), name).toEqual(["OrgMfaCentral", "OrgMfaManagement", "OrgMfaMembers"]);
  });

  for (const name of names)
    it(`keeps every resource's logical ID and type, and every output (${name})`, () => {
      const now = synthesized(name);
      expect(changes(fixture[name], now, NEW[name])).toEqual([]);
      // What is listed as new exists (the list is not left behind).
      for (const [stack, added] of Object.entries(NEW[name] ?? {}))
        for (const [id, type] of Object.entries(added)) expect(now[stack]?.resources[id], `${stack} ${id}`).toBe(type);
    });

  it("makes a logical ID as CDK does for the path without the added levels (an added level's default child takes its id)", () => {
    // Plain CDK: a bucket "Reports" in a stack, and a construct "Wrap" whose default child is a bucket.
    const plain = new Stack(new App(), "Plain");
    const reports = new Bucket(plain, "Reports");
    const wrapped = new Bucket(new Construct(plain, "Wrap"), "Default");
    const idOf = (b: Bucket) => plain.getLogicalId(b.node.defaultChild as CfnResource);
    expect(logicalIdOf(["Reports", "Resource"])).toBe(idOf(reports));
    expect(logicalIdOf(["Wrap", "Resource"])).toBe(idOf(wrapped));
    // The central stack's added levels: the report bucket inside ReportStore, a function as ScanFunction's default child.
    const { central } = buildApp(config(), {
      outdir: mkdtempSync(path.join(tmpdir(), "orgmfa-ids-")),
      context: NO_BUNDLING,
    });
    expect(pathWithoutAddedLevels(central.bucket.node.defaultChild as CfnResource, central)).toEqual([
      "Reports",
      "Resource",
    ]);
    const discover = central.functions.discover?.function.node.defaultChild as CfnResource;
    expect(discover.node.path).toBe("OrgMfaCentral/discover/Default/Resource");
    expect(pathWithoutAddedLevels(discover, central)).toEqual(["discover", "Resource"]);
    expect(central.getLogicalId(discover)).toBe(logicalIdOf(["discover", "Resource"]));
    // A resource below no added level is allocated by CDK itself.
    expect(pathWithoutAddedLevels(central.scannerRole.node.defaultChild as CfnResource, central)).toBeUndefined();
  });

  it("fails on a logical ID that changes, a resource that goes, another type, or a resource not listed as new", () => {
    const outdir = mkdtempSync(path.join(tmpdir(), "orgmfa-ids-"));
    const { central, members, management } = buildApp(config(), { outdir, context: NO_BUNDLING });
    (central.topic.node.defaultChild as CfnTopic).overrideLogicalId("Renamed");
    new CfnWaitConditionHandle(central, "Unlisted");
    const now = recordOf([central, members, management]);
    const recorded = structuredClone(fixture.example);
    const central_ = recorded.OrgMfaCentral as StackRecord;
    const [keyId] = Object.entries(central_.resources).find(([, type]) => type === "AWS::KMS::Key") ?? [];
    central_.resources[keyId as string] = "AWS::KMS::ReplicaKey";
    const found = changes(recorded, now, NEW.example);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^OrgMfaCentral: Digest[0-9A-F]{8} \(AWS::SNS::Topic\) is gone/),
        `OrgMfaCentral: ${keyId} was AWS::KMS::ReplicaKey, is AWS::KMS::Key`,
        "OrgMfaCentral: Renamed (AWS::SNS::Topic) is new, and not listed as new",
        "OrgMfaCentral: Unlisted (AWS::CloudFormation::WaitConditionHandle) is new, and not listed as new",
      ]),
    );
    expect(found).toHaveLength(4);
    // Listed as new, the handle is allowed; the renamed topic is still reported gone (and new).
    const listed = {
      ...NEW.example,
      OrgMfaCentral: { ...HISTORY, Unlisted: "AWS::CloudFormation::WaitConditionHandle" },
    };
    expect(changes(fixture.example, now, listed)).toHaveLength(2);
  });
});
