import { readFileSync } from "node:fs";
import path from "node:path";
import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { DISCOVER_LIMIT_MINUTES } from "../lib";
import { REPO_ROOT } from "../lib/paths";
import { CONFIGURATIONS, config, type Statement, statementsIn, synthTemplates, text } from "./helpers";

// The scan workflow (constructs/scan-workflow.ts): its states, retries and catches, and its role.

describe("CentralStack and ManagementAccountStack", () => {
  let central: Template;
  // biome-ignore lint/suspicious/noExplicitAny: Amazon States Language, checked field by field below.
  let definition: Record<string, any>;

  beforeAll(() => {
    ({ central, definition } = synthTemplates(config(CONFIGURATIONS.objectLock)));
  });
  const statementsOf = (role: string): Statement[] => statementsIn(central, role);

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

  it("lets the workflow's role read each run's targets object (the ItemReader), not the whole bucket", () => {
    const roleId = central.toJSON().Resources[
      Object.keys(central.findResources("AWS::StepFunctions::StateMachine"))[0] as string
    ].Properties.RoleArn["Fn::GetAtt"][0] as string;
    const reads = statementsOf(roleId).filter((st) => [st.Action].flat().includes("s3:GetObject"));
    expect(reads.map((st) => [st.Action, [st.Resource].flat().map(text)])).toEqual([
      ["s3:GetObject", ["<Reports.Arn>/orgmfa/runs/*/targets.json"]],
    ]);
  });
});
