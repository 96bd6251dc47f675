import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { parseDeploymentConfig } from "../lib";
import { REPO_ROOT } from "../lib/paths";
import { config, EXAMPLE, synth, text } from "./helpers";

// The deployment configuration (lib/config.ts): every bad value named, at synth too.
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
