import { describe, expect, it } from "vitest";
import {
  type DeployedSettings,
  functionEnvironment,
  functionSettingsSchema,
  readFunctionSettings,
} from "../src/pipeline/settings";

// The settings contract between the CDK app and the functions: what the app writes, the functions read.

const deployed: DeployedSettings = {
  REPORT_BUCKET: "orgmfa-reports",
  REPORT_PREFIX: "orgmfa",
  AUDIT_ROLE_NAME: "OrgMfaAuditRole",
  ORG_ROLE_ARN: "arn:aws:iam::111111111111:role/OrgMfaAuditRole",
  KMS_KEY_ID: "arn:aws:kms:eu-west-1:222222222222:key/k",
  DIGEST_TOPIC_ARN: "arn:aws:sns:eu-west-1:222222222222:digest",
  SECURITY_HUB: true,
  SNS_PER_ACCOUNT: false,
  ACCOUNT_CONCURRENCY: 10,
  ACCOUNT_TIMEOUT_MS: 300_000,
  ORGMFA_VERSION: "0.1.0",
  SCANNER_ROLE_ARN: "arn:aws:iam::222222222222:role/OrgMfaScanner",
};

describe("the functions' settings contract", () => {
  it("writes the environment as strings the functions read back as the same typed settings", () => {
    const own = { CONFIG_KEY: "orgmfa/config/scan-config.json", BATCH_SIZE: 25, MAP_WINDOW_SECONDS: 900 };
    const env = functionEnvironment({ ...deployed, ...own });
    expect(env).toMatchObject({
      SECURITY_HUB: "true",
      SNS_PER_ACCOUNT: "false",
      ACCOUNT_CONCURRENCY: "10",
      ACCOUNT_TIMEOUT_MS: "300000",
      BATCH_SIZE: "25",
      // Powertools' names and source maps, for every function.
      POWERTOOLS_SERVICE_NAME: "orgmfa",
      POWERTOOLS_METRICS_NAMESPACE: "orgmfa",
      NODE_OPTIONS: "--enable-source-maps",
    });
    expect(Object.values(env).every((v) => typeof v === "string")).toBe(true);
    // A setting not given is not written (the function's default applies), never written as "undefined".
    expect(env).not.toHaveProperty("EVIDENCE_RETENTION_DAYS");
    expect(readFunctionSettings({ ...env, AWS_REGION: "eu-west-1" })).toMatchObject({ ...deployed, ...own });
  });

  it("writes only variables the functions read, besides Powertools' and Node's", () => {
    const env = functionEnvironment({ ...deployed, EVIDENCE_RETENTION_DAYS: 365, ENFORCER_ROLE_NAME: "R" });
    const read = Object.keys(functionSettingsSchema.shape);
    const runtime = ["POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "NODE_OPTIONS"];
    expect(Object.keys(env).filter((k) => !read.includes(k) && !runtime.includes(k))).toEqual([]);
  });

  it("refuses at synth a value the functions would refuse, naming the setting", () => {
    expect(() => functionEnvironment({ ...deployed, ACCOUNT_CONCURRENCY: 65 })).toThrow(/ACCOUNT_CONCURRENCY/);
    expect(() => functionEnvironment({ ...deployed, MAP_WINDOW_SECONDS: 30 })).toThrow(/MAP_WINDOW_SECONDS/);
  });

  it("names a bad or missing variable when a function reads its environment", () => {
    expect(() => readFunctionSettings({ AWS_REGION: "eu-west-1", REPORT_BUCKET: "b", SECURITY_HUB: "yes" })).toThrow(
      /REPORT_BUCKET[\s\S]*SECURITY_HUB/,
    );
    expect(() => readFunctionSettings({ REPORT_BUCKET: "bucket", ACCOUNT_CONCURRENCY: "ten" })).toThrow(
      /AWS_REGION[\s\S]*ACCOUNT_CONCURRENCY: must be a whole number/,
    );
    // Empty is unset: the default applies.
    expect(readFunctionSettings({ AWS_REGION: "r", REPORT_BUCKET: "bucket", SNS_PER_ACCOUNT: "" })).toMatchObject({
      SNS_PER_ACCOUNT: false,
      SECURITY_HUB: true,
      ACCOUNT_CONCURRENCY: 10,
    });
  });

  it("makes a misspelt, mistyped or missing setting a compile error (tsc checks the expectations below)", () => {
    const { REPORT_BUCKET: _, ...withoutBucket } = deployed;
    const attempts = [
      // @ts-expect-error: no such setting
      () => functionEnvironment({ ...deployed, REPORT_BUKET: "b" }),
      // @ts-expect-error: a flag is a boolean, not the string the environment holds
      () => functionEnvironment({ ...deployed, SECURITY_HUB: "true" }),
      // @ts-expect-error: every function needs the report bucket
      () => functionEnvironment(withoutBucket),
      // @ts-expect-error: Lambda sets the region, the CDK app does not
      () => functionEnvironment({ ...deployed, AWS_REGION: "eu-west-1" }),
    ];
    expect(attempts).toHaveLength(4);
  });
});
