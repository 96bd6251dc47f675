import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Template } from "aws-cdk-lib/assertions";
import { Topic } from "aws-cdk-lib/aws-sns";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../lib";
import { MEMBER_TEMPLATE } from "../lib/paths";
import { CONFIGURATIONS, config, NO_BUNDLING, synthTemplates } from "./helpers";

// The stacks as a whole: cdk-nag, cfn-lint, and what the central stack outputs.

describe("CentralStack and ManagementAccountStack", () => {
  let central: Template;
  let outdir: string;

  beforeAll(() => {
    ({ central, outdir } = synthTemplates(config(CONFIGURATIONS.objectLock)));
  });

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
});
