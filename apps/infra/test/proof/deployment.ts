import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DeploymentFacts, RunStateLayout } from "@orgmfa/contract";
import { accountOusKey, ownerTagCacheKey, paceKey, quarantineRecordKey, runKeys } from "@orgmfa/functions/run-store";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { buildApp, type DeploymentConfig, memberParameters } from "../../lib";
import { IAM_EVENTS_REGION, includeMemberTemplate, MEMBER_TEMPLATE } from "../../lib/paths";
import { NO_BUNDLING } from "../helpers";
import { type Resolved, resolveStack, type Template_ } from "./cloudformation";
import { buildWorld, type World } from "./world";

/** A member account of the example organization (besides the management and the scanning account). */
export const MEMBER = "333333333333";

// ── The facts the inventory needs, read from the resolved templates ──────────────────────────────────
export const LAYOUT: RunStateLayout = {
  run: runKeys,
  ownerTagCache: ownerTagCacheKey,
  accountOus: accountOusKey,
  pace: paceKey,
  quarantineRecord: quarantineRecordKey,
};

export interface Deployment {
  world: World;
  facts: DeploymentFacts;
  /** The central roles' ARNs, by the inventory's id. */
  centralRoles: Partial<Record<string, string>>;
  /** Problems finding what the inventory names (each is a failure). */
  missing: string[];
}

export function describeDeployment(
  c: DeploymentConfig,
  stacks: { central: Resolved; members: Resolved[] },
  world: World,
): Deployment {
  const missing: string[] = [];
  const central = stacks.central;
  const all = Object.entries(central.resources);
  const one = (type: string, test: (id: string, r: Resolved["resources"][string]) => boolean, what: string) => {
    const found = all.filter(([id, r]) => r.Type === type && test(id, r));
    if (found.length !== 1) {
      missing.push(`${what}: ${found.length} ${type} in the central template`);
      return undefined;
    }
    return found[0]?.[1];
  };
  const fn = (name: string) =>
    one("AWS::Lambda::Function", (id) => new RegExp(`^${name}[A-F0-9]{8}$`).test(id), `the ${name} function`);
  const logGroupOf = (f: Resolved["resources"][string] | undefined) => {
    const group = (f?.Properties.LoggingConfig as { LogGroup?: string } | undefined)?.LogGroup;
    const lg = all.find(([, r]) => r.Type === "AWS::Logs::LogGroup" && r.ref === group)?.[1];
    return (lg?.attrs.Arn ?? "<no log group>").replace(/:\*$/, "");
  };
  const fnFacts = (name: string) => {
    const f = fn(name);
    return { arn: f?.attrs.Arn ?? `<no ${name} function>`, logGroupArn: logGroupOf(f) };
  };
  const key = one("AWS::KMS::Key", () => true, "the key");
  const bucket = one(
    "AWS::S3::Bucket",
    (_id, r) =>
      Boolean(r.Properties.BucketEncryption && JSON.stringify(r.Properties.BucketEncryption).includes("aws:kms")),
    "the report bucket",
  );
  const topic = one("AWS::SNS::Topic", () => true, "the digest topic");
  const accessLogging = bucket?.Properties.LoggingConfiguration as
    | { DestinationBucketName?: string; LogFilePrefix?: string }
    | undefined;
  const accessLogsBucket = all.find(
    ([, r]) => r.Type === "AWS::S3::Bucket" && r.ref === accessLogging?.DestinationBucketName,
  )?.[1];
  if (!accessLogsBucket) missing.push("the report bucket has no server access-log bucket");
  const sm = one("AWS::StepFunctions::StateMachine", () => true, "the workflow");
  const schedule = one("AWS::Scheduler::Schedule", () => true, "the schedule");
  const scheduleTarget = schedule?.Properties.Target as
    | { RoleArn?: string; DeadLetterConfig?: { Arn?: string } }
    | undefined;
  if (!scheduleTarget?.DeadLetterConfig?.Arn) missing.push("the schedule has no dead-letter queue");
  const configResource = one("Custom::OrgMfaScanConfig", () => true, "the scan configuration writer");
  const configFn = all.find(
    ([, r]) => r.Type === "AWS::Lambda::Function" && r.attrs.Arn === configResource?.Properties.ServiceToken,
  )?.[1];
  const workflowLogs = (
    sm?.Properties.LoggingConfiguration as
      | { Destinations?: Array<{ CloudWatchLogsLogGroup?: { LogGroupArn?: string } }> }
      | undefined
  )?.Destinations?.[0]?.CloudWatchLogsLogGroup?.LogGroupArn;
  const definition = JSON.stringify(sm?.Properties.DefinitionString ?? "");
  const mapLabel = /\\"Label\\":\\"([^\\"]+)\\"/.exec(definition)?.[1] ?? "ScanAccounts";

  let quarantine: DeploymentFacts["quarantine"];
  const enforce = c.quarantine ? fnFacts("enforce") : undefined;
  if (c.quarantine) {
    const bus = one("AWS::Events::EventBus", () => true, "the IAM-event bus");
    const rule = one("AWS::Events::Rule", () => true, "the IAM-event rule");
    const target = (rule?.Properties.Targets as Array<{ DeadLetterConfig?: { Arn?: string } }> | undefined)?.[0];
    if (!target?.DeadLetterConfig?.Arn) missing.push("the IAM-event rule's target has no dead-letter queue");
    const forwarding: Record<string, { ruleArn: string; dlqArn: string }> = {};
    for (const m of stacks.members.filter((s) => s.region === IAM_EVENTS_REGION)) {
      const fwdRule = m.resources.ForwardIamEventsRule;
      if (!fwdRule) {
        missing.push(`${m.stack}: no ForwardIamEventsRule`);
        continue;
      }
      const dlq = (fwdRule.Properties.Targets as Array<{ DeadLetterConfig?: { Arn?: string } }>)?.[0]?.DeadLetterConfig
        ?.Arn;
      if (!dlq) missing.push(`${m.stack}: the forwarding rule has no dead-letter queue`);
      forwarding[m.account] = {
        ruleArn: fwdRule.attrs.Arn as string,
        dlqArn: dlq ?? `<no dead-letter queue in ${m.account}>`,
      };
    }
    quarantine = {
      eventBusArn: bus?.attrs.Arn ?? "<no bus>",
      enforceRuleArn: rule?.attrs.Arn ?? "<no rule>",
      enforceDlqArn: target?.DeadLetterConfig?.Arn ?? "<no dead-letter queue>",
      memberEnforcerRoleName: memberParameters(c, false).EnforcerRoleName as string,
      quarantineGroupName: memberParameters(c, false).QuarantineGroupName as string,
      forwarding,
    };
  }
  const facts: DeploymentFacts = {
    partition: "aws",
    region: c.region,
    organizationId: c.organizationId,
    scannerAccountId: c.scannerAccountId,
    managementAccountId: c.managementAccountId,
    memberAccountIds: [MEMBER, c.scannerAccountId],
    prefix: c.reportPrefix.replace(/^\/+|\/+$/g, ""),
    bucketArn: bucket?.attrs.Arn ?? "<no bucket>",
    keyArn: key?.attrs.Arn ?? "<no key>",
    topicArn: topic?.ref ?? "<no topic>",
    auditRoleName: c.auditRoleName,
    functions: {
      discover: fnFacts("discover"),
      owners: fnFacts("owners"),
      "scan-batch": fnFacts("scanbatch"),
      publish: fnFacts("publish"),
      ...(enforce ? { enforce } : {}),
    },
    scanConfigWriterLogGroupArn: logGroupOf(configFn),
    accessLogs: {
      bucketArn: accessLogsBucket?.attrs.Arn ?? "<no access-log bucket>",
      prefix: String(accessLogging?.LogFilePrefix ?? ""),
    },
    evidenceRetention: Boolean(
      (fn("publish")?.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables
        ?.EVIDENCE_RETENTION_DAYS,
    ),
    stateMachineArn: sm?.ref ?? "<no state machine>",
    mapLabel,
    workflowLogGroupArn: (workflowLogs ?? "<no workflow log group>").replace(/:\*$/, ""),
    scheduleGroupArn: `arn:aws:scheduler:${c.region}:${c.scannerAccountId}:schedule-group/${schedule?.Properties.GroupName ?? "default"}`,
    scheduleDlqArn: scheduleTarget?.DeadLetterConfig?.Arn ?? "<no schedule dead-letter queue>",
    alarmArns: all.filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm").map(([, r]) => r.attrs.Arn as string),
    ...(quarantine ? { quarantine } : {}),
    ...(c.scan.assumeRoot === true ? { rootAudit: true } : {}),
    keys: LAYOUT,
  };
  const roleOfFunction = (f: Resolved["resources"][string] | undefined) => f?.Properties.Role as string | undefined;
  const centralRoles: Deployment["centralRoles"] = {
    discover: roleOfFunction(fn("discover")),
    scanBatch: roleOfFunction(fn("scanbatch")),
    publish: roleOfFunction(fn("publish")),
    enforce: c.quarantine ? roleOfFunction(fn("enforce")) : undefined,
    scanConfigWriter: roleOfFunction(configFn),
    workflow: sm?.Properties.RoleArn as string | undefined,
    scheduler: scheduleTarget?.RoleArn,
  };
  // Owners runs as Discover's role: the inventory says so, the template must too.
  if (roleOfFunction(fn("owners")) !== centralRoles.discover) missing.push("Owners does not run as Discover's role");
  return { world, facts, centralRoles, missing };
}

export interface Templates {
  central: Template_;
  members: Template_;
  management: Template_;
  member: Template_;
}

// ── The deployments proven ──────────────────────────────────────────────────────────────────────────
export function loadMemberTemplate(file: string): Template_ {
  const stack = new Stack(new App(), "Member");
  includeMemberTemplate(stack, "Template", { templateFile: file });
  return Template.fromStack(stack).toJSON() as Template_;
}

export function deployment(c: DeploymentConfig, templates: Templates): Deployment {
  const central = resolveStack("OrgMfaCentral", templates.central, c.scannerAccountId, c.region);
  const management = resolveStack("OrgMfaManagement", templates.management, c.managementAccountId, c.region);
  // The StackSet's instances in each member account, with the parameters and regions the members stack
  // gives them (resolved as that stack deploys them).
  const membersStack = resolveStack("OrgMfaMembers", templates.members, c.scannerAccountId, c.region);
  const stackSet = Object.values(membersStack.resources).find((r) => r.Type === "AWS::CloudFormation::StackSet");
  if (!stackSet) throw new Error("the members stack has no StackSet");
  const params = Object.fromEntries(
    (stackSet.Properties.Parameters as Array<{ ParameterKey: string; ParameterValue: string }>).map((x) => [
      x.ParameterKey,
      x.ParameterValue,
    ]),
  );
  const regions = (stackSet.Properties.StackInstancesGroup as Array<{ Regions: string[] }>).flatMap((g) => g.Regions);
  const members = [MEMBER, c.scannerAccountId].flatMap((account) =>
    regions.map((region) => resolveStack(`StackSet-${account}-${region}`, templates.member, account, region, params)),
  );
  const world = buildWorld([central, management, ...members]);
  return describeDeployment(c, { central, members }, world);
}

export function synthesized(c: DeploymentConfig) {
  const outdir = mkdtempSync(path.join(tmpdir(), "orgmfa-proof-"));
  const built = buildApp(c, { outdir, context: NO_BUNDLING });
  built.app.synth();
  return {
    central: Template.fromStack(built.central).toJSON() as Template_,
    members: Template.fromStack(built.members).toJSON() as Template_,
    management: Template.fromStack(built.management).toJSON() as Template_,
    member: loadMemberTemplate(MEMBER_TEMPLATE),
  };
}

export function saved(dir: string, quarantine: boolean) {
  const read = (name: string) => JSON.parse(readFileSync(path.join(dir, name), "utf8")) as Template_;
  const q = quarantine ? "quarantine" : "plain";
  return {
    central: read(`central-${q}.json`),
    members: read(`members-${q}.json`),
    management: read(`management-${q}.json`),
    member: loadMemberTemplate(path.join(dir, "member-audit-role.yaml")),
  };
}
