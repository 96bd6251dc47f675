import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import {
  type CallPrincipal,
  callInventory,
  type DeploymentFacts,
  type InventoryCall,
  principalName,
  type RunStateLayout,
} from "@orgmfa/core";
import { accountOusKey, ownerTagCacheKey, paceKey, quarantineRecordKey, runKeys } from "@orgmfa/functions/run-store";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp, type DeploymentConfig, memberParameters, parseDeploymentConfig } from "../lib";
import { IAM_EVENTS_REGION, includeMemberTemplate, MEMBER_TEMPLATE, REPO_ROOT } from "../lib/paths";

// The deployment's permissions, proven: every call of the call inventory (packages/core/src/call-inventory.ts)
// evaluated by a real IAM policy engine (@cloud-copilot/iam-simulate) against everything AWS evaluates for
// it in the synthesized templates — the caller's identity policies, the resource's policy (bucket, topic,
// queue, event bus, the Lambda function's permissions), the KMS key policy, and the role's trust policy for
// sts:AssumeRole — with the request context AWS sends. Then each statement a call relies on is dropped in
// turn, and some call must be denied (no statement is decoration). docs/permissions.md says how to read a
// failure. ORGMFA_PROOF_TEMPLATES=<dir> also proves templates saved there (an earlier commit's).

const EXAMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, "apps/infra/orgmfa.config.example.json"), "utf8"));
const config = (over: Record<string, unknown> = {}): DeploymentConfig =>
  parseDeploymentConfig({ ...EXAMPLE, ...over }, "test config");
/** The deployments proven: with the quarantine (and the report bucket's Object Lock), and without. */
const variant = (quarantine: boolean) =>
  config(quarantine ? { quarantine, objectLock: { mode: "GOVERNANCE", days: 400 } } : { quarantine });
const NO_BUNDLING = { "aws:cdk:bundling-stacks": [] };
/** A member account of the example organization (besides the management and the scanning account). */
const MEMBER = "333333333333";

type Json = unknown;
type Doc = { Version?: string; Statement: Array<Record<string, Json>> };
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources, read field by field.
type Resources = Record<string, { Type: string; Properties?: any; Condition?: string }>;
interface Template_ {
  Parameters?: Record<string, { Default?: string }>;
  Conditions?: Record<string, Json>;
  Resources: Resources;
}

// ── CloudFormation, resolved as it deploys (physical names made up, deterministic) ─────────────────────
const NO_VALUE = Symbol("AWS::NoValue");

interface Resolved {
  stack: string;
  account: string;
  region: string;
  /** Resources whose condition holds, with resolved properties, Ref and attributes. */
  resources: Record<
    string,
    { Type: string; Properties: Record<string, Json>; ref: string; attrs: Record<string, string> }
  >;
}

function resolveStack(
  stack: string,
  template: Template_,
  account: string,
  region: string,
  params: Record<string, string> = {},
): Resolved {
  const partition = "aws";
  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(template.Parameters ?? {}))
    if (v.Default !== undefined) parameters[k] = v.Default;
  Object.assign(parameters, params);
  const pseudo: Record<string, string> = {
    "AWS::Partition": partition,
    "AWS::Region": region,
    "AWS::AccountId": account,
    "AWS::StackName": stack,
    "AWS::URLSuffix": "amazonaws.com",
  };
  const conditions: Record<string, boolean> = {};
  const condition = (name: string): boolean => {
    if (!(name in conditions)) conditions[name] = Boolean(resolve(template.Conditions?.[name]));
    return conditions[name] as boolean;
  };
  const physical: Record<string, { ref: string; attrs: Record<string, string> }> = {};
  const phys = (id: string) => {
    const cached = physical[id];
    if (cached) return cached;
    const r = template.Resources[id];
    if (!r) throw new Error(`${stack}: no resource ${id}`);
    const props = r.Properties ?? {};
    const named = (prop: string, fallback = `${stack}-${id}`) =>
      props[prop] !== undefined ? String(resolve(props[prop])) : fallback;
    const arn = (svc: string, rest: string, acct = account, reg = region) =>
      `arn:${partition}:${svc}:${reg}:${acct}:${rest}`;
    let out: { ref: string; attrs: Record<string, string> };
    switch (r.Type) {
      case "AWS::IAM::Role": {
        const name = named("RoleName");
        out = { ref: name, attrs: { Arn: `arn:${partition}:iam::${account}:role/${name}`, RoleId: `AROA${id}` } };
        break;
      }
      case "AWS::IAM::ManagedPolicy": {
        const a = `arn:${partition}:iam::${account}:policy/${named("ManagedPolicyName")}`;
        out = { ref: a, attrs: { PolicyArn: a } };
        break;
      }
      case "AWS::IAM::Group": {
        const name = named("GroupName");
        out = { ref: name, attrs: { Arn: `arn:${partition}:iam::${account}:group/${name}` } };
        break;
      }
      case "AWS::S3::Bucket": {
        const name = named("BucketName", `${stack}-${id}`.toLowerCase());
        out = { ref: name, attrs: { Arn: `arn:${partition}:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com` } };
        break;
      }
      case "AWS::SNS::Topic": {
        const name = named("TopicName");
        const a = arn("sns", name);
        out = { ref: a, attrs: { TopicArn: a, TopicName: name } };
        break;
      }
      case "AWS::SQS::Queue": {
        const name = named("QueueName");
        const url = `https://sqs.${region}.amazonaws.com/${account}/${name}`;
        out = { ref: url, attrs: { Arn: arn("sqs", name), QueueName: name, QueueUrl: url } };
        break;
      }
      case "AWS::KMS::Key": {
        const keyId = `00000000-0000-4000-8000-${id.slice(0, 12).toLowerCase().padEnd(12, "0")}`;
        out = { ref: keyId, attrs: { Arn: arn("kms", `key/${keyId}`), KeyId: keyId } };
        break;
      }
      case "AWS::Lambda::Function": {
        const name = named("FunctionName");
        out = { ref: name, attrs: { Arn: arn("lambda", `function:${name}`) } };
        break;
      }
      case "AWS::Logs::LogGroup": {
        const name = named("LogGroupName");
        out = { ref: name, attrs: { Arn: arn("logs", `log-group:${name}:*`) } };
        break;
      }
      case "AWS::StepFunctions::StateMachine": {
        const name = named("StateMachineName");
        const a = arn("states", `stateMachine:${name}`);
        out = { ref: a, attrs: { Arn: a, Name: name } };
        break;
      }
      case "AWS::Events::EventBus": {
        const name = named("Name");
        out = { ref: name, attrs: { Arn: arn("events", `event-bus/${name}`), Name: name } };
        break;
      }
      case "AWS::Events::Rule": {
        const name = named("Name");
        const bus = props.EventBusName !== undefined ? String(resolve(props.EventBusName)) : "default";
        const a = arn("events", `rule/${bus === "default" ? "" : `${bus.split("/").pop()}/`}${name}`);
        out = { ref: name, attrs: { Arn: a } };
        break;
      }
      case "AWS::Scheduler::Schedule": {
        const name = named("Name");
        out = { ref: name, attrs: { Arn: arn("scheduler", `schedule/${named("GroupName", "default")}/${name}`) } };
        break;
      }
      case "AWS::CloudWatch::Alarm": {
        const name = named("AlarmName");
        out = { ref: name, attrs: { Arn: arn("cloudwatch", `alarm:${name}`) } };
        break;
      }
      default:
        out = { ref: `${stack}-${id}`, attrs: {} };
    }
    physical[id] = out;
    return out;
  };
  const sub = (text: string, vars: Record<string, Json> = {}) =>
    text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
      if (name.startsWith("!")) return `\${${name.slice(1)}}`;
      if (name in vars) return String(resolve(vars[name]));
      if (name.includes(".")) {
        const [id, attr] = name.split(".") as [string, string];
        return getAtt(id, attr);
      }
      return String(ref(name));
    });
  const ref = (name: string): string => {
    if (name in pseudo) return pseudo[name] as string;
    if (name in parameters) return parameters[name] as string;
    if (template.Resources[name]) return phys(name).ref;
    throw new Error(`${stack}: unresolved Ref ${name}`);
  };
  const getAtt = (id: string, attr: string): string => {
    const v = phys(id).attrs[attr];
    if (v === undefined) throw new Error(`${stack}: unresolved GetAtt ${id}.${attr}`);
    return v;
  };
  function resolve(v: Json): Json {
    if (Array.isArray(v)) return v.map(resolve).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== "object") return v;
    const o = v as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const a = o[k];
      switch (k) {
        case "Ref":
          return a === "AWS::NoValue" ? NO_VALUE : ref(String(a));
        case "Fn::GetAtt": {
          const [id, attr] = typeof a === "string" ? (a.split(".") as [string, string]) : (a as [string, string]);
          return getAtt(id, attr);
        }
        case "Fn::Join": {
          const [sep, parts] = a as [string, Json[]];
          return (resolve(parts) as Json[]).join(sep);
        }
        case "Fn::Sub":
          return Array.isArray(a) ? sub(String(a[0]), a[1] as Record<string, Json>) : sub(String(a));
        case "Fn::Select": {
          const [i, list] = a as [Json, Json];
          return (resolve(list) as Json[])[Number(resolve(i))];
        }
        case "Fn::Split": {
          const [sep, s] = a as [string, Json];
          return String(resolve(s)).split(sep);
        }
        case "Fn::If": {
          const [c, yes, no] = a as [string, Json, Json];
          return resolve(condition(c) ? yes : no);
        }
        case "Fn::Equals": {
          const [x, y] = a as [Json, Json];
          return String(resolve(x)) === String(resolve(y));
        }
        case "Fn::And":
          return (a as Json[]).every((x) => resolve(x) === true);
        case "Fn::Or":
          return (a as Json[]).some((x) => resolve(x) === true);
        case "Fn::Not":
          return !(resolve((a as Json[])[0]) as boolean);
        case "Condition":
          return condition(String(a));
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(o)) {
      const r = resolve(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }
  const resources: Resolved["resources"] = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Condition && !condition(r.Condition)) continue;
    resources[id] = { Type: r.Type, Properties: resolve(r.Properties ?? {}) as Record<string, Json>, ...phys(id) };
  }
  return { stack, account, region, resources };
}

// ── The deployment: every principal's policies and every resource's, by ARN ─────────────────────────
interface PolicyRef {
  /** Where the statement lives, as a failure names it. */
  id: string;
  doc: Doc;
}
interface RoleFacts {
  arn: string;
  name: string;
  account: string;
  identity: PolicyRef[];
  trust: PolicyRef;
}
interface World {
  roles: Map<string, RoleFacts>;
  /** Resource policies by the ARN they govern (a bucket's also governs its objects). */
  resourcePolicies: Map<string, PolicyRef>;
  stacks: Resolved[];
}

/** The member template's policies are one template in every account: a statement is the same one in each. */
const templateStatement = (id: string) => id.replace(/^StackSet-\d{12}-[a-z0-9-]+\//, "StackSet/");

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function buildWorld(stacks: Resolved[]): World {
  const roles = new Map<string, RoleFacts>();
  const resourcePolicies = new Map<string, PolicyRef>();
  const addResourcePolicy = (arn: string, id: string, statements: Array<Record<string, Json>>) => {
    const existing = resourcePolicies.get(arn);
    if (existing) existing.doc.Statement.push(...statements);
    else resourcePolicies.set(arn, { id, doc: { Version: "2012-10-17", Statement: [...statements] } });
  };
  for (const s of stacks) {
    const all = Object.entries(s.resources);
    const byRef = (type: string, value: string) => all.find(([, r]) => r.Type === type && r.ref === value);
    for (const [id, r] of all) {
      const P = r.Properties;
      if (r.Type === "AWS::IAM::Role") {
        const identity: PolicyRef[] = [];
        for (const inline of asArray(P.Policies as Array<{ PolicyName: string; PolicyDocument: Doc }>))
          identity.push({ id: `${s.stack}/${id} inline ${inline.PolicyName}`, doc: inline.PolicyDocument });
        for (const [pid, pr] of all)
          if (
            (pr.Type === "AWS::IAM::Policy" || pr.Type === "AWS::IAM::ManagedPolicy") &&
            asArray(pr.Properties.Roles as string[]).includes(r.ref)
          )
            identity.push({ id: `${s.stack}/${pid}`, doc: pr.Properties.PolicyDocument as Doc });
        for (const managed of asArray(P.ManagedPolicyArns as string[])) {
          const found = all.find(([, pr]) => pr.Type === "AWS::IAM::ManagedPolicy" && pr.ref === managed);
          if (!found) throw new Error(`${s.stack}/${id}: managed policy ${managed} is not in the templates`);
          identity.push({ id: `${s.stack}/${found[0]}`, doc: found[1].Properties.PolicyDocument as Doc });
        }
        roles.set(r.attrs.Arn as string, {
          arn: r.attrs.Arn as string,
          name: r.ref,
          account: s.account,
          identity,
          trust: { id: `${s.stack}/${id} trust policy`, doc: P.AssumeRolePolicyDocument as Doc },
        });
      } else if (r.Type === "AWS::KMS::Key") {
        resourcePolicies.set(r.attrs.Arn as string, { id: `${s.stack}/${id} key policy`, doc: P.KeyPolicy as Doc });
      } else if (r.Type === "AWS::S3::BucketPolicy") {
        const bucket = byRef("AWS::S3::Bucket", String(P.Bucket));
        if (bucket)
          addResourcePolicy(bucket[1].attrs.Arn as string, `${s.stack}/${id}`, (P.PolicyDocument as Doc).Statement);
      } else if (r.Type === "AWS::SNS::TopicPolicy") {
        for (const topic of asArray(P.Topics as string[]))
          addResourcePolicy(topic, `${s.stack}/${id}`, (P.PolicyDocument as Doc).Statement);
      } else if (r.Type === "AWS::SQS::QueuePolicy") {
        for (const url of asArray(P.Queues as string[])) {
          const queue = byRef("AWS::SQS::Queue", url);
          if (queue)
            addResourcePolicy(queue[1].attrs.Arn as string, `${s.stack}/${id}`, (P.PolicyDocument as Doc).Statement);
        }
      } else if (r.Type === "AWS::Events::EventBusPolicy") {
        const bus = byRef("AWS::Events::EventBus", String(P.EventBusName));
        if (bus && P.Statement)
          addResourcePolicy(bus[1].attrs.Arn as string, `${s.stack}/${id}`, [P.Statement as Record<string, Json>]);
      } else if (r.Type === "AWS::Lambda::Permission") {
        const fn = String(P.FunctionName);
        const principal = String(P.Principal);
        const condition: Record<string, Record<string, string>> = {};
        if (P.SourceArn) condition.ArnLike = { "aws:SourceArn": String(P.SourceArn) };
        if (P.SourceAccount) condition.StringEquals = { "aws:SourceAccount": String(P.SourceAccount) };
        addResourcePolicy(fn, `${s.stack}/${id}`, [
          {
            Sid: id,
            Effect: "Allow",
            Principal: principal.endsWith(".amazonaws.com") ? { Service: principal } : { AWS: principal },
            Action: P.Action as string,
            Resource: fn,
            ...(Object.keys(condition).length ? { Condition: condition } : {}),
          },
        ]);
      }
    }
  }
  // A role's trust policy is the resource policy of sts:AssumeRole on it.
  for (const role of roles.values()) resourcePolicies.set(role.arn, role.trust);
  return { roles, resourcePolicies, stacks };
}

// ── The facts the inventory needs, read from the resolved templates ──────────────────────────────────
const LAYOUT: RunStateLayout = {
  run: runKeys,
  ownerTagCache: ownerTagCacheKey,
  accountOus: accountOusKey,
  pace: paceKey,
  quarantineRecord: quarantineRecordKey,
};

interface Deployment {
  world: World;
  facts: DeploymentFacts;
  /** The central roles' ARNs, by the inventory's id. */
  centralRoles: Partial<Record<string, string>>;
  /** Problems finding what the inventory names (each is a failure). */
  missing: string[];
}

function describeDeployment(
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

// ── One call, evaluated ───────────────────────────────────────────────────────────────────────────
type Outcome = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";
interface Evaluated {
  call: InventoryCall;
  outcome: Outcome | string;
  /** The statements the allowing decision used ("<policy id>#<index>"). */
  used: string[];
  /** The policies the call was evaluated against (their ids). */
  policies: string[];
}

const MEMBER_ROLE_IDS = { audit: "AuditRole", enforcer: "EnforcerRole", forwarder: "ForwardIamEventsRole" } as const;

function roleFor(d: Deployment, p: CallPrincipal): RoleFacts | string {
  if (p.kind === "central-role") {
    const arn = d.centralRoles[p.role];
    return (arn && d.world.roles.get(arn)) || `no role for ${p.role} in the central template`;
  }
  if (p.kind === "member-role") {
    const stack = d.world.stacks.find(
      (s) => s.account === p.account && s.resources[MEMBER_ROLE_IDS[p.role]] !== undefined,
    );
    const arn = stack?.resources[MEMBER_ROLE_IDS[p.role]]?.attrs.Arn;
    return (arn && d.world.roles.get(arn)) || `no ${MEMBER_ROLE_IDS[p.role]} in account ${p.account}`;
  }
  return `${p.service} is a service, not a role`;
}

function resourcePolicyFor(d: Deployment, resource: string): PolicyRef | undefined {
  const direct = d.world.resourcePolicies.get(resource);
  if (direct) return direct;
  // An object's policy is its bucket's.
  const s3 = /^(arn:[^:]+:s3:::[^/]+)\//.exec(resource);
  return s3 ? d.world.resourcePolicies.get(s3[1] as string) : undefined;
}

/**
 * iam-simulate (0.1.173) keeps a request's context key only when the action lists it; KMS's
 * `kms:EncryptionContext:<key>` is listed as a variable key it does not match (it matches only the
 * `…/<name>` form), so it would be dropped silently and a key policy conditioned on it could never be
 * satisfied. The proof renames that key — in the policies and in the request alike, operator and
 * values untouched — to a `/`-form key the engine keeps. Any other dropped key fails the evaluation.
 */
const EC = /^kms:EncryptionContext:(.+)$/i;
const ecKey = (k: string) => k.replace(EC, "aws:PrincipalTag/kms-encryption-context.$1");
function engineSafe(doc: Doc): Doc {
  return {
    ...doc,
    Statement: doc.Statement.map((st) =>
      st.Condition
        ? {
            ...st,
            Condition: Object.fromEntries(
              Object.entries(st.Condition as Record<string, Record<string, Json>>).map(([op, kv]) => [
                op,
                Object.fromEntries(Object.entries(kv).map(([k, v]) => [ecKey(k), v])),
              ]),
            ),
          }
        : st,
    ),
  };
}

async function evaluate(
  d: Deployment,
  call: InventoryCall,
  drop?: { policy: string; index: number },
): Promise<Evaluated> {
  const fail = (outcome: string): Evaluated => ({ call, outcome, used: [], policies: [] });
  const org = d.facts.organizationId;
  let principal: string;
  let identity: PolicyRef[] = [];
  const context: Record<string, string | string[]> = { "aws:SecureTransport": "true" };
  if (call.principal.kind === "service") {
    principal = call.principal.service;
  } else {
    const role = roleFor(d, call.principal);
    if (typeof role === "string") return fail(role);
    principal = `arn:aws:sts::${role.account}:assumed-role/${role.name}/orgmfa`;
    identity = role.identity;
    Object.assign(context, {
      "aws:PrincipalArn": role.arn,
      "aws:PrincipalAccount": role.account,
      "aws:PrincipalOrgID": org,
      "aws:PrincipalType": "AssumedRole",
    });
  }
  let resource = call.resource;
  if (call.assumes) {
    const role = roleFor(d, call.assumes);
    if (typeof role === "string") return fail(role);
    resource = role.arn;
  }
  if (resource.includes("<")) return fail(`the resource is missing from the templates: ${resource}`);
  if (resource !== "*")
    Object.assign(context, { "aws:ResourceAccount": call.resourceAccount, "aws:ResourceOrgID": org });
  Object.assign(context, call.context ?? {});
  const resourcePolicy = resource === "*" ? undefined : resourcePolicyFor(d, resource);
  const without = (ref: PolicyRef) =>
    engineSafe(
      drop && drop.policy === templateStatement(ref.id)
        ? { ...ref.doc, Statement: ref.doc.Statement.filter((_s, i) => i !== drop.index) }
        : ref.doc,
    );
  const r = await runSimulation(
    {
      request: {
        principal,
        action: call.action,
        resource: { resource, accountId: call.resourceAccount },
        contextVariables: Object.fromEntries(Object.entries(context).map(([k, v]) => [ecKey(k), v])),
      },
      identityPolicies: identity.map((p) => ({ name: p.id, policy: without(p) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy: without(resourcePolicy) } : {}),
    },
    {},
  );
  if (r.resultType === "error") return fail(`simulation error: ${JSON.stringify(r.errors)}`);
  const ignored = (r.resultType === "single" ? [r.result] : r.results).flatMap((x) => x.ignoredContextKeys ?? []);
  const notGlobal = ignored.filter((k) => !/^aws:(Principal|Resource)(Arn|Account|OrgID|Type)$/i.test(k));
  if (notGlobal.length) return fail(`the engine dropped context keys AWS sends: ${notGlobal.join(", ")}`);
  const used: string[] = [];
  const results = r.resultType === "single" ? [r.result] : r.results;
  for (const one of results) {
    const a = one.analysis;
    for (const s of a?.identityAnalysis?.allowStatements ?? [])
      used.push(`${templateStatement(s.policyId)}#${s.statement.index() - 1}`);
    if (resourcePolicy)
      for (const s of a?.resourceAnalysis?.allowStatements ?? [])
        used.push(`${templateStatement(resourcePolicy.id)}#${s.statement.index() - 1}`);
  }
  return {
    call,
    outcome: r.overallResult,
    used,
    policies: [...identity.map((p) => p.id), ...(resourcePolicy ? [resourcePolicy.id] : [])].map(templateStatement),
  };
}

const describeCall = (c: InventoryCall) =>
  `${principalName(c.principal)} ${c.action} on ${c.resource || `the ${c.assumes ? principalName(c.assumes) : "role"}`} — ${c.what} (${c.source})`;

interface Templates {
  central: Template_;
  members: Template_;
  management: Template_;
  member: Template_;
}

// ── The deployments proven ──────────────────────────────────────────────────────────────────────────
function loadMemberTemplate(file: string): Template_ {
  const stack = new Stack(new App(), "Member");
  includeMemberTemplate(stack, "Template", { templateFile: file });
  return Template.fromStack(stack).toJSON() as Template_;
}

function deployment(c: DeploymentConfig, templates: Templates): Deployment {
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

function synthesized(c: DeploymentConfig) {
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

function saved(dir: string, quarantine: boolean) {
  const read = (name: string) => JSON.parse(readFileSync(path.join(dir, name), "utf8")) as Template_;
  const q = quarantine ? "quarantine" : "plain";
  return {
    central: read(`central-${q}.json`),
    members: read(`members-${q}.json`),
    management: read(`management-${q}.json`),
    member: loadMemberTemplate(path.join(dir, "member-audit-role.yaml")),
  };
}

/** Every statement the allowing decisions used, dropped in turn: the calls denied without it. */
async function mutate(d: Deployment, allowed: Evaluated[]) {
  const usedBy = new Map<string, Evaluated[]>();
  for (const e of allowed) for (const u of new Set(e.used)) usedBy.set(u, [...(usedBy.get(u) ?? []), e]);
  const results: Array<{ statement: string; denied: string[] }> = [];
  for (const [statement, users] of usedBy) {
    const hash = statement.lastIndexOf("#");
    const drop = { policy: statement.slice(0, hash), index: Number(statement.slice(hash + 1)) };
    const denied: string[] = [];
    // Only the calls evaluated against that policy can change.
    for (const e of allowed.filter((x) => x.policies.includes(drop.policy))) {
      const m = await evaluate(d, e.call, drop);
      if (m.outcome !== "Allowed") denied.push(describeCall(e.call));
    }
    results.push({ statement, denied });
    void users;
  }
  return results;
}

/** Actions an identity policy grants that no inventory call of that role makes (reported, not failed). */
function unusedGrants(d: Deployment, evaluated: Evaluated[]): string[] {
  const out: string[] = [];
  const glob = (pattern: string) =>
    new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i");
  const used = new Set(evaluated.filter((e) => e.outcome === "Allowed").flatMap((e) => e.used));
  for (const role of d.world.roles.values())
    for (const p of role.identity)
      p.doc.Statement.forEach((s, i) => {
        if (s.Effect !== "Allow") return;
        const id = `${templateStatement(p.id)}#${i}`;
        if (used.has(id)) {
          const calls = evaluated.filter((e) => e.used.includes(id)).map((e) => e.call.action);
          for (const action of asArray(s.Action as string | string[]))
            if (!calls.some((a) => glob(action).test(a)))
              out.push(`${id} (${role.name}): ${action} is granted, no call makes it`);
        } else
          out.push(
            `${id} (${role.name}): ${JSON.stringify(s.Action)} on ${JSON.stringify(s.Resource)} — no call uses this statement`,
          );
      });
  for (const p of new Set(d.world.resourcePolicies.values()))
    p.doc.Statement.forEach((s, i) => {
      if (s.Effect === "Allow" && !used.has(`${templateStatement(p.id)}#${i}`))
        out.push(
          `${p.id}#${i}: ${JSON.stringify(s.Principal)} ${JSON.stringify(s.Action)} — no call uses this statement`,
        );
    });
  return [...new Set(out)];
}

function proof(name: string, c: DeploymentConfig, templates: () => Templates) {
  describe(name, () => {
    let d: Deployment;
    let calls: InventoryCall[];
    let evaluated: Evaluated[];

    beforeAll(async () => {
      d = deployment(c, templates());
      calls = callInventory(d.facts);
      evaluated = [];
      for (const call of calls) evaluated.push(await evaluate(d, call));
    });

    it("finds every resource and role the inventory names in the templates", () => {
      expect(d.missing).toEqual([]);
    });

    it("allows every call of the inventory (identity, resource, key and trust policies together)", () => {
      const denied = evaluated
        .filter((e) => e.outcome !== "Allowed")
        .map((e) => `${e.outcome}: ${describeCall(e.call)}`);
      expect([...new Set(denied)]).toEqual([]);
      expect(calls.length).toBeGreaterThan(100);
    });

    it("denies some call when any statement a call relies on is dropped (no statement is decoration)", async () => {
      const results = await mutate(
        d,
        evaluated.filter((e) => e.outcome === "Allowed"),
      );
      expect(results.length).toBeGreaterThan(20);
      const idle = results.filter((r) => r.denied.length === 0).map((r) => r.statement);
      expect(idle, "statements whose removal denies no call (another statement grants the same)").toEqual([]);
    });

    it("reports what is granted that no call needs", () => {
      const report = unusedGrants(d, evaluated);
      console.info(`${name} — granted, not used by any inventory call (${report.length}):\n  ${report.join("\n  ")}`);
      // Clearly excessive: an identity policy that allows every action.
      for (const role of d.world.roles.values())
        for (const p of role.identity)
          for (const s of p.doc.Statement)
            if (s.Effect === "Allow") expect(asArray(s.Action as string | string[]), `${p.id}`).not.toContain("*");
    });
  });
}

describe("the deployment's permissions, proven by IAM's evaluation rules", () => {
  it("takes every call from the inventory, and the code makes each call where the inventory says", () => {
    const calls = [false, true].flatMap((quarantine) => {
      const c = variant(quarantine);
      return callInventory(deployment(c, synthesized(c)).facts);
    });
    const problems: string[] = [];
    for (const call of calls) {
      const file = path.join(REPO_ROOT, call.source);
      if (!existsSync(file)) problems.push(`${call.source} does not exist (${call.what})`);
      else if (call.code && !readFileSync(file, "utf8").includes(call.code))
        problems.push(`${call.source} does not contain ${JSON.stringify(call.code)} (${call.what})`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  for (const quarantine of [false, true]) {
    const c = variant(quarantine);
    proof(`synthesized, quarantine ${quarantine ? "on" : "off"}`, c, () => synthesized(c));
  }

  const dir = process.env.ORGMFA_PROOF_TEMPLATES;
  if (dir)
    for (const quarantine of [false, true]) {
      const c = variant(quarantine);
      proof(`saved in ${dir}, quarantine ${quarantine ? "on" : "off"}`, c, () => saved(dir, quarantine));
    }
});
