import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  discoverStatements,
  operatorStatements,
  publishStatements,
  QUARANTINE_IAM_EVENTS,
  scanBatchStatements,
} from "@orgmfa/core";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Topic } from "aws-cdk-lib/aws-sns";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp, type DeploymentConfig, DISCOVER_LIMIT_MINUTES, parseDeploymentConfig } from "../lib";
import { includeMemberTemplate, MEMBER_TEMPLATE, REPO_ROOT } from "../lib/paths";

const EXAMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, "apps/infra/orgmfa.config.example.json"), "utf8"));
const config = (over: Record<string, unknown> = {}): DeploymentConfig =>
  parseDeploymentConfig({ ...EXAMPLE, ...over }, "test config");
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a JS template.
const PARTITION = "${AWS::Partition}";
/** The template's `!Sub "arn:${AWS::Partition}:iam::…"`. */
const iamSub = (rest: string) => ({ "Fn::Sub": `arn:${PARTITION}:iam::${rest}` });
// Lambda bundling is skipped in tests (STYLE.md 11); `npx cdk synth` bundles for real.
const NO_BUNDLING = { "aws:cdk:bundling-stacks": [] };

/** A template value as text: tokens as <Reports.Arn>, <AWS::Partition>, other references as <token>. */
const text = (v: unknown): string => {
  if (typeof v === "string") return v;
  const o = v as Record<string, unknown>;
  if (o["Fn::Join"]) return (o["Fn::Join"] as [string, unknown[]])[1].map(text).join("");
  if (o.Ref) return String(o.Ref).startsWith("AWS::") ? `<${o.Ref}>` : "<token>";
  const att = o["Fn::GetAtt"] as [string, string] | undefined;
  if (att) return att[0].startsWith("Reports") ? `<Reports.${att[1]}>` : "<token>";
  return JSON.stringify(v);
};

function synth(c: DeploymentConfig) {
  const outdir = mkdtempSync(path.join(tmpdir(), "orgmfa-cdk-"));
  const built = buildApp(c, { outdir, context: NO_BUNDLING });
  const assembly = built.app.synth(); // throws when cdk-nag reports an unacknowledged violation
  return { ...built, outdir, assembly };
}

describe("CentralStack and ManagementAccountStack", () => {
  let central: Template;
  let members: Template;
  let management: Template;
  let outdir: string;
  // biome-ignore lint/suspicious/noExplicitAny: Amazon States Language, checked field by field below.
  let definition: Record<string, any>;

  beforeAll(() => {
    const s = synth(config({ objectLock: { mode: "GOVERNANCE", days: 400 } }));
    central = Template.fromStack(s.central);
    members = Template.fromStack(s.members);
    management = Template.fromStack(s.management);
    outdir = s.outdir;
    const sm = Object.values(central.findResources("AWS::StepFunctions::StateMachine"))[0];
    const parts = sm?.Properties.DefinitionString["Fn::Join"][1] as unknown[];
    // Tokens (ARNs, Refs) sit inside JSON strings; a placeholder keeps the document parseable.
    definition = JSON.parse(parts.map((p) => (typeof p === "string" ? p : "TOKEN")).join(""));
  });

  type Statement = { Sid?: string; Action: unknown; Resource: unknown; Condition?: unknown };
  /** Each function's role (logical id), by the function's construct id. */
  const functionRoles = () => {
    const out: Record<string, string> = {};
    for (const [id, f] of Object.entries(central.findResources("AWS::Lambda::Function")))
      if (/^(discover|scanbatch|publish)[A-F0-9]{8}$/.test(id))
        out[id.replace(/[A-F0-9]{8}$/, "")] = f.Properties.Role["Fn::GetAtt"][0];
    return out as { discover: string; scanbatch: string; publish: string };
  };
  const statementsOf = (role: string): Statement[] =>
    Object.values(central.findResources("AWS::IAM::Policy"))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);

  it("passes cdk-nag AwsSolutions with no unacknowledged violation", () => {
    // synth() in beforeAll throws on an unacknowledged violation; the report it writes is empty.
    const report = JSON.parse(readFileSync(path.join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: Array<{ violations: unknown[] }>;
    };
    expect(report.pluginReports.flatMap((r) => r.violations)).toEqual([]);
  });

  it("would fail synth on a resource cdk-nag rejects (the pack is really wired in)", () => {
    const outdir = mkdtempSync(path.join(tmpdir(), "orgmfa-cdk-nag-"));
    const { app, central } = buildApp(config(), { outdir, context: NO_BUNDLING });
    new Topic(central, "UnencryptedTopic");
    expect(() => app.synth()).toThrow(/SNS Topic does not (require|have)/);
  });

  it("is clean under cfn-lint, like the member template", () => {
    const templates = readdirSync(outdir)
      .filter((f) => f.endsWith(".template.json"))
      .map((f) => path.join(outdir, f));
    expect(templates).toHaveLength(3);
    // W3005: CDK adds a DependsOn beside the GetAtt that already orders a function after its role.
    // W8003, W1028, W1020 (management stack only): this deployment's values are written into the
    // member template there, so the conditions they drive are constants and a Sub may have no variable left.
    const management = templates.filter((t) => t.endsWith("OrgMfaManagement.template.json"));
    const others = templates.filter((t) => !management.includes(t));
    execFileSync("cfn-lint", ["--ignore-checks", "W3005", "--", ...others, MEMBER_TEMPLATE], { stdio: "pipe" });
    execFileSync("cfn-lint", ["--ignore-checks", "W3005", "W8003", "W1028", "W1020", "--", ...management], {
      stdio: "pipe",
    });
  });

  it("encrypts with one rotating key and keeps the report bucket private, TLS-only, versioned, logged, locked", () => {
    central.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    central.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: Match.anyValue() },
            BucketKeyEnabled: true,
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: "Enabled" },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: "reports/" },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: "Enabled",
        Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 400 } },
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: "orgmfa/scans/",
            Transitions: Match.arrayWith([Match.objectLike({ StorageClass: "STANDARD_IA", TransitionInDays: 90 })]),
          }),
          Match.objectLike({ Prefix: "orgmfa/runs/", ExpirationInDays: 7 }),
        ]),
      },
    });
    central.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("has a KMS-encrypted digest topic with the configured e-mail subscription and TLS-only policy", () => {
    central.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    central.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "security-team@example.com",
    });
    central.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Condition: { Bool: { "aws:SecureTransport": "false" } } })]),
      },
    });
  });

  it("runs four arm64 Node.js functions, each as a role of its own but Owners, which reads the organization as Discover does", () => {
    const fns = Object.fromEntries(
      Object.entries(central.findResources("AWS::Lambda::Function")).filter(([id]) => !id.startsWith("AWS679f53fa")),
    );
    expect(Object.keys(fns)).toHaveLength(4);
    for (const f of Object.values(fns)) {
      expect(f.Properties.Architectures).toEqual(["arm64"]);
      expect(Number(/nodejs(\d+)/.exec(f.Properties.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
      expect(f.Properties.TracingConfig).toEqual({ Mode: "Active" });
      expect(f.Properties.LoggingConfig).toMatchObject({ LogFormat: "JSON" });
      expect(f.Properties.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: "orgmfa",
        AUDIT_ROLE_NAME: "OrgMfaAuditRole",
        ORG_ROLE_ARN: {
          "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::111111111111:role/OrgMfaAuditRole"]],
        },
      });
    }
    const roles = central.findResources("AWS::IAM::Role");
    const fnRoles = Object.values(functionRoles());
    expect(new Set(fnRoles).size).toBe(3);
    for (const id of fnRoles)
      expect(roles[id]?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" } },
      ]);
    // ScanBatch's is the role the member audit roles trust by name; Discover's, the management account's.
    expect(roles[functionRoles().scanbatch]?.Properties.RoleName).toBe("OrgMfaScanner");
    expect(roles[functionRoles().discover]?.Properties.RoleName).toBe("OrgMfaDiscover");
    expect(roles[functionRoles().publish]?.Properties.RoleName).toBeUndefined();
    // The management account's audit role trusts Discover's role by name: Owners runs as it.
    const owners = Object.entries(fns).find(([id]) => /^owners[A-F0-9]{8}$/.test(id))?.[1];
    expect(owners?.Properties.Role["Fn::GetAtt"][0]).toBe(functionRoles().discover);
    expect(owners?.Properties).toMatchObject({ Timeout: 900, MemorySize: 256 });
  });

  it("gives each role exactly its statements of policies.ts, plus X-Ray and its own log group", () => {
    const input = {
      partition: "aws",
      accountId: "222222222222",
      region: "eu-west-1",
      organizationId: "o-exampleorg1",
      managementAccountId: "111111111111",
      auditRoleName: "OrgMfaAuditRole",
      bucketArn: "arn:aws:s3:::bucket",
      prefix: "orgmfa",
      kmsKeyArn: "arn:aws:kms:eu-west-1:222222222222:key/k",
      topicArn: "arn:aws:sns:eu-west-1:222222222222:digest",
    };
    const expected = {
      discover: discoverStatements(input),
      scanbatch: scanBatchStatements(input),
      publish: publishStatements(input),
    };
    for (const [fn, role] of Object.entries(functionRoles()) as Array<[keyof typeof expected, string]>) {
      const statements = statementsOf(role);
      const own = statements.filter((st) => st.Sid);
      expect(
        own.map((st) => [st.Sid, st.Action]),
        fn,
      ).toEqual(expected[fn].map((st) => [st.Sid, st.Action]));
      // Every resource as policies.ts writes it (tokens aside).
      expect(
        own.map((st) => [st.Resource].flat().map(text)),
        fn,
      ).toEqual(
        expected[fn].map((st) =>
          [st.Resource].flat().map((r) =>
            r
              .replace("arn:aws:s3:::bucket", "<Reports.Arn>")
              .replace(/^arn:aws:(kms|sns):.*/, "<token>")
              .replace(/^arn:aws:/, "arn:<AWS::Partition>:")
              .replace(":eu-west-1:222222222222:", ":<AWS::Region>:<AWS::AccountId>:")
              .replace("product/222222222222/", "product/<AWS::AccountId>/"),
          ),
        ),
      );
      const others = statements.filter((st) => !st.Sid).map((st) => st.Action);
      expect(others, fn).toEqual(
        expect.arrayContaining([
          ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
          ["logs:CreateLogStream", "logs:PutLogEvents"],
        ]),
      );
      // One log-group grant per function that runs as the role (Discover's role runs Owners too).
      expect(others, fn).toHaveLength(fn === "discover" ? 3 : 2);
    }
  });

  it("lets ScanBatch assume every audit role, Discover the management account's only, Publish none", () => {
    const assumes = (role: string) =>
      statementsOf(role)
        .filter((st) => [st.Action].flat().some((a) => String(a).startsWith("sts:")))
        .map((st) => ({ resource: text(st.Resource), condition: st.Condition }));
    const r = functionRoles();
    expect(assumes(r.scanbatch)).toEqual([
      {
        resource: "arn:<AWS::Partition>:iam::*:role/OrgMfaAuditRole",
        condition: { StringEquals: { "aws:ResourceOrgID": "o-exampleorg1" } },
      },
    ]);
    expect(assumes(r.discover)).toEqual([
      { resource: "arn:<AWS::Partition>:iam::111111111111:role/OrgMfaAuditRole", condition: undefined },
    ]);
    expect(assumes(r.publish)).toEqual([]);
    // Only Publish delivers: the digest, its own hub, the reports.
    const actions = (role: string) => statementsOf(role).flatMap((st) => [st.Action].flat().map(String));
    for (const role of [r.scanbatch, r.discover]) {
      expect(actions(role)).not.toContain("sns:Publish");
      expect(actions(role).filter((a) => a.startsWith("securityhub:"))).toEqual([]);
      const resources = statementsOf(role).flatMap((st) => [st.Resource].flat().map(text));
      expect(resources.filter((x) => /\/orgmfa\/(scans|latest)\/\*/.test(x))).toEqual([]);
    }
    expect(actions(r.publish)).toEqual(expect.arrayContaining(["sns:Publish", "securityhub:BatchImportFindings"]));
  });

  it("grants no wildcard resource but the acknowledged ones (audit roles, run state, report folders, X-Ray)", () => {
    const wildcards = new Set<string>();
    for (const role of Object.values(functionRoles()))
      for (const st of statementsOf(role))
        for (const r of [st.Resource].flat().map(text)) if (r.includes("*")) wildcards.add(r);
    expect([...wildcards].sort()).toEqual(
      [
        "*",
        "arn:<AWS::Partition>:iam::*:role/OrgMfaAuditRole",
        "<Reports.Arn>/orgmfa/latest/*",
        "<Reports.Arn>/orgmfa/runs/*/console-without-mfa.json",
        "<Reports.Arn>/orgmfa/runs/*/context.json",
        "<Reports.Arn>/orgmfa/runs/*/ledger.json",
        "<Reports.Arn>/orgmfa/runs/*/owners.json",
        "<Reports.Arn>/orgmfa/runs/*/previous-report.json",
        "<Reports.Arn>/orgmfa/runs/*/results/*",
        "<Reports.Arn>/orgmfa/runs/*/targets.json",
        "<Reports.Arn>/orgmfa/scans/*",
      ].sort(),
    );
    // "*" only for X-Ray, which has no resource-level permissions.
    for (const role of Object.values(functionRoles()))
      for (const st of statementsOf(role))
        if ([st.Resource].flat().map(text).includes("*"))
          expect([st.Action].flat().every((a) => String(a).startsWith("xray:"))).toBe(true);
  });

  it("lets each function write its own log group (a role CDK did not create gets no logs permission by itself)", () => {
    const fns = Object.values(central.findResources("AWS::Lambda::Function")) as Array<{
      Properties: { Role: { "Fn::GetAtt": [string, string] }; LoggingConfig: { LogGroup: { Ref: string } } };
    }>;
    const policies = Object.values(central.findResources("AWS::IAM::Policy")) as Array<{
      Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Array<Record<string, unknown>> } };
    }>;
    for (const f of fns) {
      const role = f.Properties.Role["Fn::GetAtt"][0];
      const group = f.Properties.LoggingConfig.LogGroup.Ref;
      const statements = policies
        .filter((p) => p.Properties.Roles.some((r) => r.Ref === role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: { "Fn::GetAtt": [group, "Arn"] },
        }),
      );
    }
  });

  it("defines Discover → Parallel(Distributed Map (S3 ItemReader, batches, concurrency, tolerance), Owners) → Publish, with retries", () => {
    expect(definition.StartAt).toBe("Discover");
    expect(definition.States.Discover.Next).toBe("ScanAndReadOwners");
    const parallel = definition.States.ScanAndReadOwners;
    expect(parallel).toMatchObject({ Type: "Parallel", Next: "Publish", ResultPath: null });
    const [scan, owners] = parallel.Branches;
    expect(owners).toMatchObject({ StartAt: "Owners" });
    const map = scan.States.ScanAccounts;
    expect(scan.StartAt).toBe("ScanAccounts");
    expect(map).toMatchObject({
      Type: "Map",
      End: true,
      ResultPath: null,
      MaxConcurrencyPath: "$.mapConcurrency",
      ToleratedFailurePercentage: 10,
      ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" }, StartAt: "ScanBatch" },
      ItemReader: { ReaderConfig: { InputType: "JSON" }, Parameters: { "Key.$": "$.targetsKey" } },
      ItemBatcher: {
        MaxItemsPerBatch: 10,
        BatchInput: { "bucket.$": "$.bucket", "scanId.$": "$.scanId", "contextKey.$": "$.contextKey" },
      },
    });
    expect(map.ItemReader.Resource).toContain(":states:::s3:getObject");
    expect(map.MaxConcurrency).toBeUndefined();
    // Discover derives that concurrency from the last run's pace, within what the deployment allows.
    const discover = Object.entries(central.findResources("AWS::Lambda::Function")).find(([fid]) =>
      fid.startsWith("discover"),
    )?.[1];
    expect(discover?.Properties.Environment.Variables).toMatchObject({
      BATCH_SIZE: "10",
      MAP_MAX_CONCURRENCY: "20",
      MAP_WINDOW_SECONDS: "900",
    });
    for (const state of [
      definition.States.Discover,
      map.ItemProcessor.States.ScanBatch,
      owners.States.Owners,
      definition.States.Publish,
    ]) {
      expect(state.Retry[0].ErrorEquals).toEqual(
        expect.arrayContaining(["Lambda.ServiceException", "Lambda.TooManyRequestsException"]),
      );
      expect(state.Retry[0]).toMatchObject({ MaxAttempts: 6, BackoffRate: 2 });
    }
    central.hasResourceProperties("AWS::StepFunctions::StateMachine", {
      StateMachineType: "STANDARD",
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: "ALL" },
    });
  });

  it("stores the scan configuration in the bucket at deploy time, by a function that may put only that object", () => {
    const [id, written] = Object.entries(central.findResources("Custom::OrgMfaScanConfig"))[0] ?? [];
    const call = JSON.parse(text(written?.Properties.Update));
    expect(call).toMatchObject({
      service: "S3",
      action: "putObject",
      parameters: { Bucket: "<token>", Key: "orgmfa/config/scan-config.json", ContentType: "application/json" },
    });
    expect(JSON.parse(call.parameters.Body)).toEqual(config().scan);
    expect(JSON.parse(text(written?.Properties.Create))).toEqual(call); // created and updated alike
    expect(written?.Properties.Delete).toBeUndefined(); // a stack deletion leaves every version
    // The writer's role: PutObject on that key, GenerateDataKey on the key, its own log group. Nothing else.
    const writer = Object.entries(central.findResources("AWS::Lambda::Function")).find(([fid]) =>
      fid.startsWith("AWS679f53fa"),
    )?.[1];
    const role = writer?.Properties.Role["Fn::GetAtt"][0] as string;
    const granted = statementsOf(role).map((st) => [st.Action, [st.Resource].flat().map(text)]);
    expect(granted).toEqual(
      expect.arrayContaining([
        ["s3:PutObject", ["<Reports.Arn>/orgmfa/config/scan-config.json"]],
        ["kms:GenerateDataKey", ["<token>"]],
        [["logs:CreateLogStream", "logs:PutLogEvents"], ["<token>"]],
      ]),
    );
    expect(granted).toHaveLength(3);
    expect(central.findResources("AWS::IAM::Role")[role]?.Properties.ManagedPolicyArns).toBeUndefined();
    // Discover reads it (its key in the environment, GetObject on it), and is created after it.
    const fns = central.findResources("AWS::Lambda::Function");
    const [discoverId, discover] = Object.entries(fns).find(([fid]) => fid.startsWith("discover")) ?? [];
    expect(discover?.Properties.Environment.Variables.CONFIG_KEY).toBe("orgmfa/config/scan-config.json");
    for (const [fid, f] of Object.entries(fns))
      if (fid !== discoverId) expect(f.Properties.Environment?.Variables?.CONFIG_KEY, fid).toBeUndefined();
    expect(discover?.DependsOn).toEqual(expect.arrayContaining([id]));
    expect(
      statementsOf(functionRoles().discover).find(
        (st) => st.Sid === "ReadScanConfigLatestReportTargetsOwnerTagCacheAndPace",
      )?.Resource,
    ).toBeDefined();
    expect(central.toJSON().Outputs.ScanConfigUri).toBeDefined();
  });

  it("alarms on failed, timed-out or aborted runs to the digest topic, and runs on the schedule", () => {
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [Match.anyValue()],
      Metrics: Match.arrayWith([Match.objectLike({ Expression: "failed + timedOut + aborted" })]),
    });
    central.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "cron(0 6 * * ? *)",
      ScheduleExpressionTimezone: "UTC",
      // Discover reads the stored scan configuration: the schedule passes nothing.
      Target: { Arn: Match.anyValue(), Input: "{}" },
    });
  });

  it("lets CloudWatch publish this stack's alarms to the digest topic, whose policy replaces SNS's default", () => {
    central.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Condition: {
              StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
              ArnLike: { "aws:SourceArn": Match.anyValue() },
            },
          }),
        ]),
      },
    });
    // Every alarm's name starts with the prefix the topic policy admits, and every alarm reaches the topic.
    const topicId = Object.keys(central.findResources("AWS::SNS::Topic"))[0];
    const alarms = Object.values(central.findResources("AWS::CloudWatch::Alarm")) as Array<{
      Properties: { AlarmName: string; AlarmActions: unknown[] };
    }>;
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    for (const a of alarms) {
      expect(a.Properties.AlarmName).toMatch(/^OrgMfaCentral-/);
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  it("alarms when no run succeeded in 26 hours, on coverage below 100%, on failed accounts and on schedule dead letters", () => {
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ExecutionsSucceeded",
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    });
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "orgmfa",
      MetricName: "Coverage",
      Dimensions: [{ Name: "service", Value: "orgmfa" }],
      Threshold: 100,
      ComparisonOperator: "LessThanThreshold",
    });
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "orgmfa",
      MetricName: "AccountsFailed",
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    central.hasResourceProperties("AWS::Scheduler::Schedule", {
      Target: Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } }),
    });
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Namespace: "AWS/SQS",
    });
  });

  it("lets the schedule write its dead letters to the encrypted queue: its role may use the key, through SQS only", () => {
    const schedule = Object.values(central.findResources("AWS::Scheduler::Schedule"))[0];
    const roleId = schedule?.Properties.Target.RoleArn["Fn::GetAtt"][0] as string;
    const dlqId = schedule?.Properties.Target.DeadLetterConfig.Arn["Fn::GetAtt"][0] as string;
    const queue = central.toJSON().Resources[dlqId];
    const keyId = queue.Properties.KmsMasterKeyId["Fn::GetAtt"][0] as string;
    const statements = statementsOf(roleId);
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: "sqs:SendMessage", Resource: { "Fn::GetAtt": [dlqId, "Arn"] } }),
    );
    const kms = statements.filter((st) => [st.Action].flat().some((a) => String(a).startsWith("kms:")));
    expect(kms).toEqual([
      expect.objectContaining({
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: { "Fn::GetAtt": [keyId, "Arn"] },
        Condition: {
          StringEquals: { "kms:ViaService": { "Fn::Join": ["", ["sqs.", { Ref: "AWS::Region" }, ".amazonaws.com"]] } },
        },
      }),
    ]);
    // The alarm on that queue reaches the digest topic.
    const topicId = Object.keys(central.findResources("AWS::SNS::Topic"))[0];
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "OrgMfaCentral-ScheduleUndelivered",
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it("deploys no Enforce, its alarms or EventBridge's use of the key without quarantine", () => {
    const alarms = Object.values(central.findResources("AWS::CloudWatch::Alarm")).map((a) => a.Properties.AlarmName);
    expect(alarms).not.toContain("OrgMfaCentral-EnforceErrors");
    expect(alarms).not.toContain("OrgMfaCentral-EnforceUndelivered");
    expect(alarms).not.toContain("OrgMfaCentral-ForwardingUndelivered");
    const [key] = Object.values(central.findResources("AWS::KMS::Key"));
    const principals = key?.Properties.KeyPolicy.Statement.map((st: { Principal?: unknown }) => st.Principal);
    expect(principals).not.toContainEqual({ Service: "events.amazonaws.com" });
  });

  it("reads owners in rounds: Owners again while it answers more, its answer beside the run's reference", () => {
    const [, owners] = definition.States.ScanAndReadOwners.Branches;
    expect(owners.States.Owners).toMatchObject({ ResultPath: "$.owners", Next: "MoreOwners" });
    expect(owners.States.MoreOwners).toEqual({
      Type: "Choice",
      Choices: [
        { Variable: "$.owners.more", IsPresent: false, Next: "OwnersRead" },
        { Variable: "$.owners.more", BooleanEquals: true, Next: "Owners" },
      ],
      Default: "OwnersDone",
    });
    for (const end of ["OwnersRead", "OwnersDone"])
      expect(owners.States[end]).toMatchObject({ Type: "Pass", End: true });
  });

  it("goes on to Publish when the Distributed Map or Owners fails, so the accounts without a result are reported FAILED", () => {
    const parallel = definition.States.ScanAndReadOwners;
    const [scan, owners] = parallel.Branches;
    // Each branch catches its own failure and ends; the Parallel state then always goes to Publish.
    expect(scan.States.ScanAccounts.Catch).toEqual([
      { ErrorEquals: ["States.ALL"], Next: "ScanAccountsFailed", ResultPath: "$.scanAccountsError" },
    ]);
    expect(scan.States.ScanAccountsFailed).toMatchObject({ Type: "Pass", End: true });
    expect(owners.States.Owners.Catch).toEqual([
      { ErrorEquals: ["States.ALL"], Next: "OwnersFailed", ResultPath: "$.ownersError" },
    ]);
    expect(owners.States.OwnersFailed).toMatchObject({ Type: "Pass", End: true });
    expect(parallel.Catch).toEqual([{ ErrorEquals: ["States.ALL"], Next: "Publish", ResultPath: "$.scanError" }]);
  });

  it("goes on to Publish when Discover fails or times out, with the error beside the input, and alarms on it", () => {
    // A run that could not list the organization still ends in a report and a digest that say so.
    expect(definition.States.Discover.Catch).toEqual([
      { ErrorEquals: ["States.ALL"], Next: "Publish", ResultPath: "$.discoveryError" },
    ]);
    // Discover's limit: at least twice the walk the workflow simulation measured at 10,000 accounts.
    const bench = JSON.parse(readFileSync(path.join(REPO_ROOT, "bench/results/pipeline.json"), "utf8")) as {
      accounts: number;
      discover: { seconds: number };
    };
    expect(bench.accounts).toBeGreaterThanOrEqual(10_000);
    const discover = Object.entries(central.findResources("AWS::Lambda::Function")).find(([fid]) =>
      fid.startsWith("discover"),
    )?.[1];
    expect(discover?.Properties.Timeout).toBe(DISCOVER_LIMIT_MINUTES * 60);
    expect(discover?.Properties.Timeout).toBeGreaterThanOrEqual(2 * bench.discover.seconds);
    expect(discover?.Properties.Timeout).toBeLessThanOrEqual(900); // Lambda's maximum
    const topicId = Object.keys(central.findResources("AWS::SNS::Topic"))[0];
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "OrgMfaCentral-DiscoveryFailed",
      Namespace: "orgmfa",
      MetricName: "DiscoveryFailed",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it("locks each scan's files: Object Lock on, retention set per object by Publish, never a default for the whole bucket", () => {
    const { central: stack } = synth(config());
    const t = Template.fromStack(stack);
    const [bucket] = Object.entries(t.findResources("AWS::S3::Bucket")).filter(
      ([, b]) => b.Properties.ObjectLockEnabled !== undefined,
    );
    expect(bucket?.[1].Properties.ObjectLockEnabled).toBe(true);
    // A bucket default would lock the run state (a result object per account a day), latest/ and the config.
    expect(bucket?.[1].Properties.ObjectLockConfiguration).toBeUndefined();
    const rules = bucket?.[1].Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
    const rule = (id: string) => rules.find((r) => r.Id === id);
    // A past version of a scan's file is kept at least as long as its lock (lifecycle cannot delete a locked one).
    expect(rule("reports-to-cheaper-storage")).toMatchObject({
      Prefix: "orgmfa/scans/",
      NoncurrentVersionExpiration: { NoncurrentDays: 365 },
    });
    expect(rule("reports-to-cheaper-storage")?.ExpirationInDays).toBeUndefined();
    // latest/ is rewritten every run: its past versions (copies of scans/) go after a week.
    expect(rule("expire-past-latest")).toMatchObject({
      Prefix: "orgmfa/latest/",
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
      Status: "Enabled",
    });
    expect(rule("expire-past-latest")?.ExpirationInDays).toBeUndefined();
    // Publish sets the retention: the days in its environment, s3:PutObjectRetention on scans/ only.
    const publish = Object.entries(t.findResources("AWS::Lambda::Function")).find(([fid]) =>
      fid.startsWith("publish"),
    )?.[1];
    expect(publish?.Properties.Environment.Variables.EVIDENCE_RETENTION_DAYS).toBe("365");
    const lock = statementsOf(functionRoles().publish).filter((st) =>
      [st.Action].flat().includes("s3:PutObjectRetention"),
    );
    expect(lock.map((st) => [st.Action, [st.Resource].flat().map(text)])).toEqual([
      ["s3:PutObjectRetention", ["<Reports.Arn>/orgmfa/scans/*"]],
    ]);
    // Nobody of orgmfa may bypass or shorten a lock.
    for (const role of Object.values(functionRoles()))
      expect(statementsOf(role).flatMap((st) => [st.Action].flat())).not.toContain("s3:BypassGovernanceRetention");
    // The configured days reach Publish and the scans/ rule; a bucket default only when asked for.
    const longer = Template.fromStack(synth(config({ evidenceRetentionDays: 2555 })).central);
    const locked = Object.values(longer.findResources("AWS::S3::Bucket")).find(
      (b) => b.Properties.ObjectLockEnabled !== undefined,
    );
    const lockedRules = (locked?.Properties.LifecycleConfiguration.Rules ?? []) as Array<Record<string, unknown>>;
    expect(lockedRules.find((r) => r.Id === "reports-to-cheaper-storage")).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: 2555 },
    });
    expect(() => config({ evidenceRetentionDays: 0 })).toThrow(/evidenceRetentionDays/);
  });

  it("names no log group, so a retained one never blocks the next deploy", () => {
    for (const g of Object.values(central.findResources("AWS::Logs::LogGroup")) as Array<{
      Properties: { LogGroupName?: unknown };
    }>)
      expect(g.Properties.LogGroupName).toBeUndefined();
  });

  it("outputs what an operator needs to run and read a scan", () => {
    expect(Object.keys(central.toJSON().Outputs)).toEqual(
      expect.arrayContaining([
        "StateMachineArn",
        "ScheduleName",
        "ReportBucket",
        "DigestTopicArn",
        "KeyArn",
        "ScannerRoleArn",
        "DiscoverRoleArn",
        "PublishRoleArn",
        "WorkflowLogGroup",
        "DiscoverLogGroup",
        "ScanBatchLogGroup",
        "PublishLogGroup",
        "OwnersLogGroup",
      ]),
    );
  });

  it("deploys the member template through a service-managed StackSet in a stack of its own, read from stacksets/", () => {
    // A StackSet failure beyond its tolerance rolls back only the members stack, never the scanner.
    expect(Object.keys(central.findResources("AWS::CloudFormation::StackSet"))).toEqual([]);
    members.hasResourceProperties("AWS::CloudFormation::StackSet", {
      PermissionModel: "SERVICE_MANAGED",
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: "DELEGATED_ADMIN",
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      OperationPreferences: Match.objectLike({ FailureTolerancePercentage: 10, MaxConcurrentPercentage: 25 }),
      StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: ["r-exam"] }, Regions: ["eu-west-1"] }],
      TemplateBody: readFileSync(MEMBER_TEMPLATE, "utf8"),
      Parameters: Match.arrayWith([
        { ParameterKey: "ScannerAccountId", ParameterValue: "222222222222" },
        { ParameterKey: "DiscoverRoleName", ParameterValue: "OrgMfaDiscover" },
        { ParameterKey: "EnableOrganizationsRead", ParameterValue: "false" },
      ]),
    });
  });

  it("rolls the StackSet out at organization scale: both regions at once, a quarter of the accounts, soft failure tolerance", () => {
    const [set] = Object.values(members.findResources("AWS::CloudFormation::StackSet"));
    expect(set?.Properties.OperationPreferences).toEqual({
      RegionConcurrencyType: "PARALLEL",
      MaxConcurrentPercentage: 25,
      FailureTolerancePercentage: 10,
      ConcurrencyMode: "SOFT_FAILURE_TOLERANCE",
    });
    // CreateStackInstances takes at most 50 OUs: synth refuses more, rather than a deploy that fails.
    const ous = (n: number) => Array.from({ length: n }, (_, i) => `ou-exam-${String(i).padStart(8, "0")}`);
    expect(() => config({ stackSetTargetOus: ous(50) })).not.toThrow();
    expect(() => config({ stackSetTargetOus: ous(51) })).toThrow(
      /stackSetTargetOus: must list at most 50 OUs \(CloudFormation's limit per CreateStackInstances operation\)/,
    );
  });

  it("lets the workflow's role read each run's targets object (the ItemReader), not the whole bucket", () => {
    const roleId = central.toJSON().Resources[
      Object.keys(central.findResources("AWS::StepFunctions::StateMachine"))[0] as string
    ].Properties.RoleArn["Fn::GetAtt"][0] as string;
    const reads = statementsOf(roleId).filter((st) => [st.Action].flat().includes("s3:GetObject"));
    expect(reads.map((st) => [st.Action, [st.Resource].flat().map(text)])).toEqual([
      ["s3:GetObject", ["<Reports.Arn>/orgmfa/runs/*/targets.json"]],
    ]);
  });

  it("puts the same template in the management account with Organizations read on, the config's values baked in", () => {
    // Values, not parameter defaults: `cdk deploy` applies a changed config to the existing stack.
    const params = management.toJSON().Parameters ?? {};
    for (const name of [
      "ScannerAccountId",
      "ScannerRoleName",
      "DiscoverRoleName",
      "OperatorRoleName",
      "OrganizationId",
      "AuditRoleName",
    ])
      expect(params[name], name).toBeUndefined();
    expect(params.EnableOrganizationsRead.Default).toBe("true");
    management.hasResourceProperties("AWS::IAM::Role", {
      RoleName: "OrgMfaAuditRole",
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [
          Match.objectLike({
            Principal: { AWS: iamSub("222222222222:root") },
            Condition: {
              StringEquals: { "aws:PrincipalOrgID": "o-exampleorg1" },
              ArnLike: {
                // The scanner (ScanBatch, or an Identity Center role of that name), here only Discover,
                // and the operator (operatorRoleName) in both forms: it discovers through this role too.
                "aws:PrincipalArn": [
                  iamSub("222222222222:role/OrgMfaScanner"),
                  iamSub("222222222222:role/aws-reserved/sso.amazonaws.com/*OrgMfaScanner"),
                  {
                    "Fn::If": [
                      "OrganizationsRead",
                      iamSub("222222222222:role/OrgMfaDiscover"),
                      { Ref: "AWS::NoValue" },
                    ],
                  },
                  {
                    "Fn::If": [
                      "Operator",
                      iamSub("222222222222:role/AWSReservedSSO_OrgMfaOperator_0123456789abcdef"),
                      { Ref: "AWS::NoValue" },
                    ],
                  },
                  {
                    "Fn::If": [
                      "Operator",
                      iamSub(
                        "222222222222:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_OrgMfaOperator_0123456789abcdef",
                      ),
                      { Ref: "AWS::NoValue" },
                    ],
                  },
                ],
              },
            },
          }),
        ],
      }),
    });
    management.hasResource("AWS::IAM::ManagedPolicy", { Condition: "OrganizationsRead" });
    // The operator's condition holds: its name is written in.
    expect(management.toJSON().Conditions.Operator).toEqual({
      "Fn::Not": [{ "Fn::Equals": ["AWSReservedSSO_OrgMfaOperator_0123456789abcdef", ""] }],
    });
  });

  it("passes operatorRoleName to the member StackSet as OperatorRoleName, and deploys the operator's policy from policies.ts", () => {
    const [set] = Object.values(members.findResources("AWS::CloudFormation::StackSet"));
    expect(set?.Properties.Parameters).toContainEqual({
      ParameterKey: "OperatorRoleName",
      ParameterValue: "AWSReservedSSO_OrgMfaOperator_0123456789abcdef",
    });
    // The customer managed policy an Identity Center permission set references by name (or an IAM role
    // attaches): exactly operatorStatements, attached to nothing here, and no role made for the operator.
    const policies = Object.entries(central.findResources("AWS::IAM::ManagedPolicy")).filter(
      ([, p]) => p.Properties.ManagedPolicyName === "OrgMfaOperatorPolicy",
    );
    expect(policies).toHaveLength(1);
    const [id, policy] = policies[0] as [string, { Properties: Record<string, unknown> }];
    expect(policy.Properties.Roles ?? policy.Properties.Users ?? policy.Properties.Groups).toBeUndefined();
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const expected = operatorStatements({
      partition: "aws",
      organizationId: "o-exampleorg1",
      auditRoleName: "OrgMfaAuditRole",
    });
    expect(statements.map((st) => [st.Sid, st.Action, st.Condition])).toEqual(
      expected.map((st) => [st.Sid, st.Action, st.Condition]),
    );
    expect(statements.map((st) => text(st.Resource))).toEqual([
      "arn:<AWS::Partition>:iam::*:role/OrgMfaAuditRole",
      "*",
    ]);
    expect(
      Object.values(central.findResources("AWS::IAM::Role")).filter((r) =>
        String(r.Properties.RoleName ?? "").includes("Operator"),
      ),
    ).toEqual([]);
    expect(central.toJSON().Outputs.OperatorPolicyArn.Value).toEqual({ Ref: id });
  });
});

describe("deployment configuration", () => {
  it("names every wrong or missing value", () => {
    const { organizationId: _, ...missing } = EXAMPLE;
    expect(() =>
      parseDeploymentConfig({ ...missing, region: "mars", batchSize: 0, scan: { exemptions: [{}] } }, "cfg"),
    ).toThrow(
      /organizationId: [\s\S]*region: must be an AWS region[\s\S]*batchSize:[\s\S]*scan\.exemptions\[0\]\.reason/,
    );
    expect(() => config({ stackSetTargetOus: [] })).toThrow(/stackSetTargetOus: must list at least one OU/);
    expect(() => config({ schedule: "daily" })).toThrow(/schedule: must be an EventBridge Scheduler expression/);
    expect(() => config({ discoverRoleName: "OrgMfaScanner" })).toThrow(
      /discoverRoleName: must differ from scannerRoleName/,
    );
    expect(() => config({ operatorRoleName: "OrgMfaScanner" })).toThrow(
      /operatorRoleName: must differ from scannerRoleName and discoverRoleName/,
    );
    expect(() => config({ operatorRoleName: "role/AWSReservedSSO_X" })).toThrow(
      /operatorRoleName: must be an IAM role name/,
    );
    expect(() => config({ batchSize: 50, accountConcurrency: 10 })).toThrow(
      /batchSize: is too large for accountConcurrency/,
    );
    // Two waves of 5-minute accounts would be 10 of ScanBatch's 15 minutes: more than half.
    expect(() => config({ batchSize: 11, accountConcurrency: 10 })).toThrow(/keep batchSize ≤ accountConcurrency/);
    expect(() => config({ batchSize: 25, accountConcurrency: 25 })).not.toThrow();
  });

  it("fails synth of the CDK app with the bad field named", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-badcfg-"));
    const file = path.join(dir, "orgmfa.config.json");
    writeFileSync(file, JSON.stringify({ ...EXAMPLE, scannerAccountId: "12345", digestEmail: "not-an-address" }));
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "apps/infra/bin/app.ts")], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ "orgmfa:configFile": file }),
        CDK_OUTDIR: dir,
        // As the cdk CLI runs the app: without the SDK's Node 22 notice (its documented switch).
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/scannerAccountId: must be a 12-digit account id/);
    expect(r.stderr).toMatch(/digestEmail: must be an e-mail address/);
  });

  it("deploys a scan configuration far over the schedule's 8 KB input limit (it is an S3 object)", () => {
    const exemptions = Array.from({ length: 200 }, (_, i) => ({
      account: "*",
      principal: `user-${i}-${"x".repeat(40)}`,
      checks: "*",
      reason: "a reason long enough to add up over many entries",
      expires: "2030-01-01",
    }));
    const { central } = synth(config({ scan: { exemptions } }));
    const written = Object.values(Template.fromStack(central).findResources("Custom::OrgMfaScanConfig"))[0];
    const body = JSON.parse(text(written?.Properties.Update)).parameters.Body as string;
    expect(body.length).toBeGreaterThan(8192);
    expect(JSON.parse(body).exemptions).toHaveLength(200);
  });
});

describe("quarantine (quarantine: true)", () => {
  let central: Template;
  let members: Template;
  let management: Template;
  let outdir: string;
  beforeAll(() => {
    // Without operatorRoleName (the default): no operator anywhere.
    const s = synth(
      config({
        quarantine: true,
        enforcerOperatorRoleName: "AWSReservedSSO_SecurityAdmin",
        operatorRoleName: undefined,
      }),
    );
    central = Template.fromStack(s.central);
    members = Template.fromStack(s.members);
    management = Template.fromStack(s.management);
    outdir = s.outdir;
  });

  it("without operatorRoleName (the default) trusts no operator: no OperatorRoleName given, its empty default kept; the policy to attach is still deployed", () => {
    const [set] = Object.values(members.findResources("AWS::CloudFormation::StackSet"));
    const keys = ((set?.Properties.Parameters ?? []) as Array<{ ParameterKey: string }>).map((p) => p.ParameterKey);
    expect(keys).toContain("ScannerRoleName");
    expect(keys).not.toContain("OperatorRoleName");
    expect(management.toJSON().Parameters.OperatorRoleName).toMatchObject({ Default: "" });
    expect(management.toJSON().Conditions.Operator).toEqual({
      "Fn::Not": [{ "Fn::Equals": [{ Ref: "OperatorRoleName" }, ""] }],
    });
    // An Identity Center permission set can reference it only once it exists in the account, and the
    // operator's role name (with its suffix) is known only after that: so it exists before the name is set.
    expect(
      Object.values(central.findResources("AWS::IAM::ManagedPolicy")).filter(
        (p) => p.Properties.ManagedPolicyName === "OrgMfaOperatorPolicy",
      ),
    ).toHaveLength(1);
    expect(central.toJSON().Outputs.OperatorPolicyArn.Description).toMatch(/not set, so no audit role trusts one yet/);
  });

  it("is clean under cdk-nag and cfn-lint", () => {
    // synth() threw on any unacknowledged cdk-nag finding.
    const templates = readdirSync(outdir)
      .filter((f) => f.endsWith(".template.json") && !f.startsWith("OrgMfaManagement"))
      .map((f) => path.join(outdir, f));
    execFileSync("cfn-lint", ["--ignore-checks", "W3005", "--", ...templates], { stdio: "pipe" });
  });

  it("has an event bus that only the organization's accounts may put events on", () => {
    const [bus] = Object.values(central.findResources("AWS::Events::EventBus"));
    expect(bus?.Properties.Name).toBe("orgmfa-iam-events");
    const [policy] = Object.values(central.findResources("AWS::Events::EventBusPolicy"));
    expect(policy?.Properties.Statement).toMatchObject({
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "events:PutEvents",
      Condition: { StringEquals: { "aws:PrincipalOrgID": "o-exampleorg1" } },
    });
  });

  it("accepts on the bus only IAM's CloudTrail events, every entry of a PutEvents call, and never a call without them", () => {
    const [policy] = Object.values(central.findResources("AWS::Events::EventBusPolicy"));
    expect(policy?.Properties.Statement.Condition).toEqual({
      StringEquals: { "aws:PrincipalOrgID": "o-exampleorg1" },
      "ForAllValues:StringEquals": {
        "events:source": ["aws.iam"],
        "events:detail-type": ["AWS API Call via CloudTrail"],
      },
      Null: { "events:source": "false", "events:detail-type": "false" },
    });
  });

  it("lets EventBridge write Enforce's dead letters to the encrypted queue: the key, for this bus's rules of this account", () => {
    const [rule] = Object.values(central.findResources("AWS::Events::Rule")).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === "aws.iam",
    );
    const dlqId = rule?.Properties.Targets[0].DeadLetterConfig.Arn["Fn::GetAtt"][0] as string;
    const queue = central.toJSON().Resources[dlqId];
    const keyId = queue.Properties.KmsMasterKeyId["Fn::GetAtt"][0] as string;
    const keyPolicy = central.toJSON().Resources[keyId].Properties.KeyPolicy.Statement as Array<
      Record<string, unknown> & { Principal?: unknown; Condition?: Record<string, Record<string, unknown>> }
    >;
    const forEvents = keyPolicy.filter((st) => JSON.stringify(st.Principal) === '{"Service":"events.amazonaws.com"}');
    expect(forEvents).toHaveLength(1);
    expect(forEvents[0]).toMatchObject({
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
    });
    expect(text(forEvents[0]?.Condition?.ArnLike?.["aws:SourceArn"])).toBe(
      "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/orgmfa-iam-events/*",
    );
    // The queue policy CDK adds: EventBridge may send, for this rule only.
    const queuePolicy = Object.values(central.findResources("AWS::SQS::QueuePolicy")).find((p) =>
      p.Properties.Queues.some((q: { Ref: string }) => q.Ref === dlqId),
    );
    const ruleId = Object.entries(central.findResources("AWS::Events::Rule")).find(([, r]) => r === rule)?.[0];
    expect(queuePolicy?.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } },
      }),
    );
  });

  it("alarms to the digest topic on Enforce's dead letters and on its errors", () => {
    const topicId = Object.keys(central.findResources("AWS::SNS::Topic"))[0];
    const [rule] = Object.values(central.findResources("AWS::Events::Rule")).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === "aws.iam",
    );
    const dlqId = rule?.Properties.Targets[0].DeadLetterConfig.Arn["Fn::GetAtt"][0] as string;
    const enforceId = rule?.Properties.Targets[0].Arn["Fn::GetAtt"][0] as string;
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "OrgMfaCentral-EnforceUndelivered",
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [{ Ref: topicId }],
    });
    central.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "OrgMfaCentral-EnforceErrors",
      Namespace: "AWS/Lambda",
      MetricName: "Errors",
      Dimensions: [{ Name: "FunctionName", Value: { Ref: enforceId } }],
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it("alarms to the digest topic when the sweep counts IAM events a member account could not forward", () => {
    const topicId = Object.keys(central.findResources("AWS::SNS::Topic"))[0];
    const [alarm, ...more] = Object.values(central.findResources("AWS::CloudWatch::Alarm")).filter(
      (a) => a.Properties.AlarmName === "OrgMfaCentral-ForwardingUndelivered",
    );
    expect(more).toEqual([]);
    // The metric the sweep publishes every day (Powertools: namespace orgmfa, dimension service=orgmfa):
    // any event waiting breaches; no datapoint (no sweep that hour) does not.
    expect(alarm?.Properties).toMatchObject({
      Namespace: "orgmfa",
      MetricName: "IamEventsNotForwarded",
      Dimensions: [{ Name: "service", Value: "orgmfa" }],
      Statistic: "Maximum",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      EvaluationPeriods: 1,
      TreatMissingData: "notBreaching",
      AlarmActions: [{ Ref: topicId }],
    });
    expect(alarm?.Properties.AlarmDescription).toMatch(/then purge each account's orgmfa-forward-iam-events-dlq/);
  });

  it("reserves Enforce's concurrency (5 unless configured)", () => {
    const [rule] = Object.values(central.findResources("AWS::Events::Rule")).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === "aws.iam",
    );
    const enforceId = rule?.Properties.Targets[0].Arn["Fn::GetAtt"][0] as string;
    expect(central.toJSON().Resources[enforceId].Properties.ReservedConcurrentExecutions).toBe(5);
    // The sweep over 10,000 accounts is CPU-bound: 1024 MB buys the CPU to end it within a third of its limit.
    expect(central.toJSON().Resources[enforceId].Properties).toMatchObject({ MemorySize: 1024, Timeout: 900 });
    const others = Object.entries(central.findResources("AWS::Lambda::Function")).filter(([id]) => id !== enforceId);
    for (const [, f] of others) expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(() => config({ quarantine: true, enforceReservedConcurrency: 0 })).toThrow(/enforceReservedConcurrency/);
  });

  it("sends exactly the followed IAM changes to Enforce, with retries and a dead-letter queue", () => {
    const [rule] = Object.values(central.findResources("AWS::Events::Rule")).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === "aws.iam",
    );
    expect(rule?.Properties.EventPattern).toEqual({
      source: ["aws.iam"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: { eventSource: ["iam.amazonaws.com"], eventName: [...QUARANTINE_IAM_EVENTS] },
    });
    const target = rule?.Properties.Targets[0];
    expect(text(target.Arn)).toBe("<token>");
    expect(target.DeadLetterConfig).toBeDefined();
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 8 });
    // The member template forwards the very same calls.
    const stack = new Stack(new App(), "Member");
    includeMemberTemplate(stack, "Template");
    const forward = Template.fromStack(stack).toJSON().Resources.ForwardIamEventsRule;
    expect(forward.Properties.EventPattern.detail.eventName).toEqual([...QUARANTINE_IAM_EVENTS]);
  });

  it("keeps what the member accounts could not forward in a dead-letter queue only that forwarding rule may write to", () => {
    const stack = new Stack(new App(), "Member");
    includeMemberTemplate(stack, "Template");
    const r = Template.fromStack(stack).toJSON().Resources;
    const target = r.ForwardIamEventsRule.Properties.Targets[0];
    // A GetAtt as the template writes it (`!GetAtt X.Arn`), or in its long form.
    const getAtt = (v: { "Fn::GetAtt": string | string[] }) => [v["Fn::GetAtt"]].flat().join(".");
    expect(Object.keys(target.DeadLetterConfig)).toEqual(["Arn"]);
    expect(getAtt(target.DeadLetterConfig.Arn)).toBe("ForwardIamEventsDeadLetters.Arn");
    // Without a KMS key in every member account: SQS's own encryption, which EventBridge writes with no key permission.
    // A fixed name: the sweep reaches it in every account by its ARN (one queue per account, us-east-1 only).
    expect(r.ForwardIamEventsDeadLetters).toMatchObject({
      Type: "AWS::SQS::Queue",
      Condition: "ForwardIamEvents",
      Properties: {
        QueueName: "orgmfa-forward-iam-events-dlq",
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
      },
    });
    const policy = r.ForwardIamEventsDeadLettersPolicy;
    expect(policy.Condition).toBe("ForwardIamEvents");
    expect(policy.Properties.Queues).toEqual([{ Ref: "ForwardIamEventsDeadLetters" }]);
    const allows = policy.Properties.PolicyDocument.Statement.filter((st: { Effect: string }) => st.Effect === "Allow");
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Condition: { ArnEquals: { "aws:SourceArn": expect.anything() } },
      }),
    ]);
    expect(getAtt(allows[0].Condition.ArnEquals["aws:SourceArn"])).toBe("ForwardIamEventsRule.Arn");
  });

  it("lets the member enforcer role count that queue's messages, and nothing else of SQS", () => {
    const stack = new Stack(new App(), "Member");
    includeMemberTemplate(stack, "Template");
    const r = Template.fromStack(stack).toJSON().Resources;
    const statements = r.EnforcerPolicy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    const sqs = statements.filter((st) => [st.Action].flat().some((a) => String(a).startsWith("sqs:")));
    // The role is made in the primary region, the queue in us-east-1: its ARN from its name, not a GetAtt.
    expect(sqs).toEqual([
      {
        Sid: "CountUndeliveredIamEvents",
        Effect: "Allow",
        Action: "sqs:GetQueueAttributes",
        Resource: { "Fn::Sub": `arn:${PARTITION}:sqs:us-east-1:\${AWS::AccountId}:orgmfa-forward-iam-events-dlq` },
      },
    ]);
  });

  it("runs Enforce as OrgMfaEnforcer, which may assume only the member enforcer roles of this organization", () => {
    const roles = central.findResources("AWS::IAM::Role");
    const [roleId] = Object.entries(roles).find(([, r]) => r.Properties.RoleName === "OrgMfaEnforcer") ?? [];
    const statements = Object.values(central.findResources("AWS::IAM::Policy"))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const assume = statements.filter((st: { Action: unknown }) => [st.Action].flat().includes("sts:AssumeRole"));
    expect(assume).toHaveLength(1);
    expect(text(assume[0].Resource)).toBe("arn:<AWS::Partition>:iam::*:role/OrgMfaQuarantineRole");
    expect(assume[0].Condition).toEqual({ StringEquals: { "aws:ResourceOrgID": "o-exampleorg1" } });
    expect(statements.flatMap((st: { Action: unknown }) => [st.Action].flat())).not.toContain("iam:AddUserToGroup");
  });

  it("sweeps after Publish, the run's reference kept beside Publish's result", () => {
    const sm = Object.values(central.findResources("AWS::StepFunctions::StateMachine"))[0];
    const parts = sm?.Properties.DefinitionString["Fn::Join"][1] as unknown[];
    const definition = JSON.parse(parts.map((p) => (typeof p === "string" ? p : "TOKEN")).join(""));
    expect(definition.States.Publish).toMatchObject({ Next: "QuarantineSweep", ResultPath: "$.published" });
    expect(definition.States.QuarantineSweep).toMatchObject({
      End: true,
      ResultPath: "$.quarantine",
      // Invoked with the payload as its input (payloadResponseOnly): { sweep: <the run's reference> }.
      Parameters: { "sweep.$": "$" },
    });
  });

  it("deploys the member side with the bus and the enforcer roles' trust", () => {
    const [set] = Object.values(members.findResources("AWS::CloudFormation::StackSet"));
    const params = Object.fromEntries(
      ((set?.Properties.Parameters ?? []) as Array<{ ParameterKey: string; ParameterValue: unknown }>).map((p) => [
        p.ParameterKey,
        text(p.ParameterValue),
      ]),
    );
    // An instance in us-east-1 (IAM's events arrive there), the IAM resources only in the deployment's region.
    expect(set?.Properties.StackInstancesGroup[0].Regions).toEqual(["eu-west-1", "us-east-1"]);
    expect(params).toMatchObject({
      PrimaryRegion: "eu-west-1",
      EnableQuarantine: "true",
      QuarantineGroupName: "OrgMfaQuarantine",
      EnforcerRoleName: "OrgMfaQuarantineRole",
      CentralEnforcerRoleName: "OrgMfaEnforcer",
      EnforcerOperatorRoleName: "AWSReservedSSO_SecurityAdmin",
      CentralEventBusArn: "arn:<AWS::Partition>:events:eu-west-1:222222222222:event-bus/orgmfa-iam-events",
    });
  });
});
