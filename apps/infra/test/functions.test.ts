import { functionSettingsSchema, readFunctionSettings } from "@orgmfa/aws/settings";
import { discoverStatements, publishStatements, scanBatchStatements } from "@orgmfa/contract";
import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { CONFIGURATIONS, config, functionRolesOf, type Statement, statementsIn, synthTemplates, text } from "./helpers";

// The functions (constructs/scan-function.ts): their runtime, roles, statements and log groups.

describe("CentralStack and ManagementAccountStack", () => {
  let central: Template;

  beforeAll(() => {
    ({ central } = synthTemplates(config(CONFIGURATIONS.objectLock)));
  });
  /** Each function's role (logical id), by the function's construct id. */
  const functionRoles = () => functionRolesOf(central);
  const statementsOf = (role: string): Statement[] => statementsIn(central, role);

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
    expect(owners?.Properties).toMatchObject({ Timeout: 900, MemorySize: 512 });
  });

  it("gives each function an environment its handler reads back through the settings contract", () => {
    const known = [
      ...Object.keys(functionSettingsSchema.shape),
      "POWERTOOLS_SERVICE_NAME",
      "POWERTOOLS_METRICS_NAMESPACE",
      "NODE_OPTIONS",
    ];
    const fns = Object.entries(central.findResources("AWS::Lambda::Function")).filter(
      ([id]) => !id.startsWith("AWS679f53fa"),
    );
    expect(fns).toHaveLength(4);
    for (const [id, f] of fns) {
      const variables = f.Properties.Environment.Variables as Record<string, unknown>;
      // Only variables a handler reads (besides Powertools' and Node's), each as the handler decodes it.
      expect(
        Object.keys(variables).filter((k) => !known.includes(k)),
        id,
      ).toEqual([]);
      const env = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [k, typeof v === "string" ? v : text(v)]),
      );
      expect(readFunctionSettings({ ...env, AWS_REGION: "eu-west-1" }), id).toMatchObject({
        REPORT_PREFIX: "orgmfa",
        SECURITY_HUB: true,
        SNS_PER_ACCOUNT: false,
        ACCOUNT_CONCURRENCY: 10,
        ACCOUNT_TIMEOUT_MS: 300_000,
      });
    }
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
        "<Reports.Arn>/orgmfa/history/accounts/dt=*/*.jsonl.gz",
        "<Reports.Arn>/orgmfa/history/changes/dt=*/*.jsonl.gz",
        "<Reports.Arn>/orgmfa/history/findings/dt=*/*.jsonl.gz",
        "<Reports.Arn>/orgmfa/history/users/dt=*/*.jsonl.gz",
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

  it("names no log group, so a retained one never blocks the next deploy", () => {
    for (const g of Object.values(central.findResources("AWS::Logs::LogGroup")) as Array<{
      Properties: { LogGroupName?: unknown };
    }>)
      expect(g.Properties.LogGroupName).toBeUndefined();
  });
});
