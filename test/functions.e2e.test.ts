import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import type { AccountTarget, ScanReport } from "@orgmfa/core";
import {
  DEMO_ORG,
  DeliveryReader,
  type Emulator,
  type SeededDelivery,
  type SeededOrg,
  scannerCredentials,
  seedDelivery,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import type { ScanBatchEvent } from "@orgmfa/functions/scan-batch";
import { buildApp, parseDeploymentConfig, REPO_ROOT } from "@orgmfa/infra";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, scannerEnv } from "./helpers";

// The three Lambda handlers, invoked in this process exactly as Step Functions invokes them, as
// the scanner role with IAM enforcement on. The environment is what the CDK app sets.
let emu: Emulator;
let org: SeededOrg;
let delivery: SeededDelivery;
let env: Record<string, string>;
const saved = { ...process.env };

const CONFIG = {
  ownerTag: "owner",
  exemptions: [
    {
      account: "*",
      principal: "heidi",
      checks: ["USER_CONSOLE_NO_MFA"],
      reason: "key on order",
      expires: "2099-12-31",
    },
  ],
};

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, DEMO_ORG);
  delivery = await seedDelivery(emu.endpoint, org);
  const creds = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  await emu.setIamEnforcement(true);
  env = scannerEnv(emu.endpoint, creds);
  Object.assign(process.env, env, {
    REPORT_BUCKET: delivery.bucket,
    REPORT_PREFIX: delivery.prefix,
    AUDIT_ROLE_NAME: "OrgMfaAuditRole",
    ORG_ROLE_ARN: org.orgRoleArn,
    KMS_KEY_ID: delivery.kmsKeyArn,
    DIGEST_TOPIC_ARN: delivery.topicArn,
    SECURITY_HUB: "true",
    SNS_PER_ACCOUNT: "false",
    ACCOUNT_CONCURRENCY: "3",
    ORGMFA_VERSION: "0.1.0",
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
});
afterAll(async () => {
  process.env = saved;
  await emu?.stop();
});

/** Splits items as the Distributed Map's ItemBatcher does (MaxItemsPerBatch). */
const batches = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

const comparable = (r: ScanReport) => ({
  ...r,
  scanId: "-",
  startedAt: "-",
  finishedAt: "-",
  changes: null,
  // The CLI hashes the config file's bytes, the workflow its JSON input: both present, not equal.
  run: r.run ? { ...r.run, configSha256: r.run.configSha256 ? "sha256" : null } : undefined,
  accounts: r.accounts.map((a) => ({
    ...a,
    credentialReportGeneratedAt: a.credentialReportGeneratedAt ? "-" : null,
    users: a.users.map((u) => ({ ...u, verdictAsOf: u.verdictAsOf ? "-" : null })),
  })),
});

interface Handlers {
  discover: typeof import("@orgmfa/functions/discover").handler;
  scanBatch: typeof import("@orgmfa/functions/scan-batch").handler;
  publish: typeof import("@orgmfa/functions/publish").handler;
}

const sources = async (): Promise<Handlers> => ({
  discover: (await import("@orgmfa/functions/discover")).handler,
  scanBatch: (await import("@orgmfa/functions/scan-batch")).handler,
  publish: (await import("@orgmfa/functions/publish")).handler,
});

/** The bundles `npx cdk synth` deploys (esbuild, ESM, everything inlined), loaded from the assembly. */
async function bundles(): Promise<Handlers> {
  const outdir = mkdtempSync(path.join(tmpdir(), "orgmfa-bundles-"));
  const config = parseDeploymentConfig(
    JSON.parse(readFileSync(path.join(REPO_ROOT, "apps/infra/orgmfa.config.example.json"), "utf8")),
    "example",
  );
  const { central, app } = buildApp(config, { outdir });
  app.synth();
  const template = Template.fromStack(central).findResources("AWS::Lambda::Function");
  const load = async (prefix: string) => {
    const fn = Object.entries(template).find(([id]) => id.startsWith(prefix))?.[1];
    // The function's code object is named by its asset hash; the assembly holds it as asset.<hash>/.
    const hash = String(fn?.Properties?.Code?.S3Key ?? "").replace(/\.zip$/, "");
    return (await import(pathToFileURL(path.join(outdir, `asset.${hash}`, "index.mjs")).href)).handler;
  };
  return { discover: await load("discover"), scanBatch: await load("scanbatch"), publish: await load("publish") };
}

/** The workflow, step by step: Discover → Distributed Map (ItemReader, ItemBatcher) → Publish. */
async function runWorkflow(h: Handlers, batchSize: number) {
  // The schedule's input is the workflow's input: { config }.
  const ref = await h.discover({ config: CONFIG });
  expect(ref).toMatchObject({ bucket: delivery.bucket, inScope: 7 });
  expect(ref.targetsKey).toBe(`orgmfa/runs/${ref.scanId}/targets.json`);

  // The Map's ItemReader reads the targets object; the ItemBatcher sends { Items, BatchInput }.
  const s3 = new S3Client({ endpoint: emu.endpoint, region: "us-east-1", forcePathStyle: true });
  const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.targetsKey }));
  const items = JSON.parse((await object.Body?.transformToString()) ?? "[]") as AccountTarget[];
  s3.destroy();
  expect(items).toHaveLength(7);
  const results = [];
  for (const Items of batches(items, batchSize)) {
    const event: ScanBatchEvent = {
      Items,
      BatchInput: { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey },
    };
    results.push(await h.scanBatch(event));
  }
  expect(results.reduce((n, r) => n + r.scanned, 0)).toBe(7);
  expect(results.reduce((n, r) => n + r.failed, 0)).toBe(1); // legacy-unmanaged: no audit role

  // The Map's ResultPath is null: Publish receives Discover's output.
  const published = await h.publish(ref);
  expect(published.reportUri).toMatch(
    new RegExp(`^s3://${delivery.bucket}/orgmfa/scans/.*/${ref.scanId}/report.html$`),
  );

  await emu.setIamEnforcement(false);
  const reader = new DeliveryReader(emu.endpoint, delivery, org);
  const report = JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport;
  const digest = (await reader.messages()).at(-1);
  const scannerHub = await reader.findings(org.scannerAccountId);
  await emu.setIamEnforcement(true);
  expect(report.scanId).toBe(ref.scanId);
  expect(digest?.Subject).toMatch(
    /^orgmfa: 8 users without MFA \(1 exempted\) in 4 of 7 accounts( \(0 new\))?, 1 not audited$/,
  );
  expect(scannerHub.some((f) => f.GeneratorId === "orgmfa/ACCOUNT_NOT_AUDITED")).toBe(true);
  return report;
}

describe("the Lambda handlers with Step Functions' event shapes", () => {
  it("discover → scan-batch over every batch → publish gives the report `orgmfa scan` gives", async () => {
    const fromLambda = await runWorkflow(await sources(), 3);

    const configFile = path.join(mkdtempSync(path.join(tmpdir(), "orgmfa-fn-")), "config.json");
    writeFileSync(configFile, JSON.stringify(CONFIG));
    const cli = await runCli(
      ["scan", "--org-role-arn", org.orgRoleArn, "--config", configFile, "--format", "json", "--quiet"],
      env,
    );
    expect(cli.code).toBe(4);
    expect(comparable(fromLambda)).toEqual(comparable(JSON.parse(cli.stdout) as ScanReport));
  });

  it("runs the same from the esbuild bundles `npx cdk synth` deploys", async () => {
    const fromBundles = await runWorkflow(await bundles(), 10);
    expect(fromBundles.summary.findings.open).toBe(10);
  });

  it("reports an account whose batch never wrote a result as FAILED, not as clean", async () => {
    const { handler: discover } = await import("@orgmfa/functions/discover");
    const { handler: scanBatch } = await import("@orgmfa/functions/scan-batch");
    const { handler: publish } = await import("@orgmfa/functions/publish");
    const ref = await discover({ config: CONFIG });
    const s3 = new S3Client({ endpoint: emu.endpoint, region: "us-east-1", forcePathStyle: true });
    const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.targetsKey }));
    const items = JSON.parse((await object.Body?.transformToString()) ?? "[]") as AccountTarget[];
    s3.destroy();
    // The batch holding prod-payments is lost (its Lambda timed out; the Map tolerated it).
    const lost = items.find((t) => t.accountName === "prod-payments");
    await scanBatch({
      Items: items.filter((t) => t !== lost),
      BatchInput: { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey },
    });
    await publish(ref);
    await emu.setIamEnforcement(false);
    const reader = new DeliveryReader(emu.endpoint, delivery, org);
    const report = JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport;
    await emu.setIamEnforcement(true);
    expect(report.accounts.find((a) => a.accountId === lost?.accountId)).toMatchObject({
      status: "FAILED",
      reason: "ERROR",
      error: { code: "NoOutcome" },
    });
    expect(report.findings.some((f) => f.checkId === "ACCOUNT_NOT_AUDITED" && f.accountId === lost?.accountId)).toBe(
      true,
    );
  });

  it("a retried Publish compares with the scan before this run, not with the report it wrote itself", async () => {
    const h = await sources();
    const scanOnce = async () => {
      const ref = await h.discover({ config: CONFIG });
      const s3 = new S3Client({ endpoint: emu.endpoint, region: "us-east-1", forcePathStyle: true });
      const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.targetsKey }));
      const items = JSON.parse((await object.Body?.transformToString()) ?? "[]") as AccountTarget[];
      s3.destroy();
      await h.scanBatch({
        Items: items,
        BatchInput: { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey },
      });
      return ref;
    };
    const before = await scanOnce();
    await h.publish(before); // whatever ran before: now the latest report
    const ref = await scanOnce();
    const latest = async () => {
      await emu.setIamEnforcement(false);
      const reader = new DeliveryReader(emu.endpoint, delivery, org);
      const r = JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport;
      const digest = (await reader.messages()).at(-1);
      await emu.setIamEnforcement(true);
      return { report: r, digest };
    };
    await h.publish(ref);
    const first = await latest();
    await h.publish(ref); // Step Functions retried it, or an operator redrove the execution
    const second = await latest();
    expect(first.report.changes?.previousScanId).toBe(before.scanId);
    expect(second.report.changes).toEqual(first.report.changes);
    expect({ ...second.report, finishedAt: "-" }).toEqual({ ...first.report, finishedAt: "-" });
    expect(second.digest?.Subject).toBe(first.digest?.Subject);
  });

  it("runs under the deployed scanner policy: it may list the run state, not the reports", async () => {
    const s3 = new S3Client({ endpoint: emu.endpoint, region: "us-east-1", forcePathStyle: true });
    try {
      await expect(
        s3.send(new ListObjectsV2Command({ Bucket: delivery.bucket, Prefix: "orgmfa/runs/" })),
      ).resolves.toBeDefined();
      await expect(
        s3.send(new ListObjectsV2Command({ Bucket: delivery.bucket, Prefix: "orgmfa/scans/" })),
      ).rejects.toMatchObject({ name: "AccessDenied" });
      await expect(s3.send(new ListObjectsV2Command({ Bucket: delivery.bucket }))).rejects.toMatchObject({
        name: "AccessDenied",
      });
    } finally {
      s3.destroy();
    }
  });

  it("an account without Security Hub is still audited; the problem is in the report and the digest, and the run succeeds", async () => {
    const h = await sources();
    const ref = await h.discover({ config: CONFIG });
    const s3 = new S3Client({ endpoint: emu.endpoint, region: "us-east-1", forcePathStyle: true });
    const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.targetsKey }));
    const items = JSON.parse((await object.Body?.transformToString()) ?? "[]") as AccountTarget[];
    s3.destroy();
    const payments = items.find((t) => t.accountName === "prod-payments") as AccountTarget;
    await emu.setSecurityHubDisabled([payments.accountId]);
    try {
      await h.scanBatch({
        Items: items,
        BatchInput: { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey },
      });
      await expect(h.publish(ref)).resolves.toMatchObject({ scanId: ref.scanId });
    } finally {
      await emu.setSecurityHubDisabled([]);
    }
    await emu.setIamEnforcement(false);
    const reader = new DeliveryReader(emu.endpoint, delivery, org);
    const report = JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport;
    const digest = (await reader.messages()).at(-1);
    const otherHub = await reader.findings(items.find((t) => t.accountName === "prod-web")?.accountId ?? "");
    await emu.setIamEnforcement(true);
    const account = report.accounts.find((a) => a.accountId === payments.accountId);
    expect(account?.status).toBe("AUDITED");
    expect(report.findings.some((f) => f.accountId === payments.accountId && f.status === "OPEN")).toBe(true);
    expect(account?.notes?.join(" ")).toMatch(/Security Hub \(us-east-1\).*InvalidAccessException/);
    expect(digest?.Message).toMatch(
      new RegExp(`Not delivered \\(1\\)[\\s\\S]*account ${payments.accountId}: InvalidAccessException`),
    );
    // Every other member account's findings landed in its own hub, from the ScanBatch that scanned it.
    expect(otherHub.some((f) => f.GeneratorId?.startsWith("orgmfa/"))).toBe(true);
  });
});
