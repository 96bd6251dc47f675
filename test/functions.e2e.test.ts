import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { OrganizationsClient, TagResourceCommand } from "@aws-sdk/client-organizations";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { BatchImportFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { type RunRef, runWorkflowLocally, type ScanBatchOutput } from "@orgmfa/aws";
import type { ScanPace } from "@orgmfa/contract";
import { type AccountTarget, type ScanReport, verdictSentence } from "@orgmfa/core";
import {
  accountAdminCredentials,
  DEMO_ORG,
  DeliveryReader,
  type Emulator,
  REGION,
  roleCredentials,
  type SeededDelivery,
  type SeededOrg,
  seedDelivery,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import type { RunContext } from "@orgmfa/functions/run-store";
import { buildApp, parseDeploymentConfig, REPO_ROOT } from "@orgmfa/infra";
import type { AwsCredentialIdentity } from "@smithy/types";
import { Template } from "aws-cdk-lib/assertions";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli, scannerEnv } from "./helpers";

// The three Lambda handlers, invoked in this process exactly as Step Functions invokes them, each as
// its own role (the deployed roles' statements, from packages/contract/src/policies.ts) with IAM
// enforcement on. The environment is what the CDK app sets.
let emu: Emulator;
let org: SeededOrg;
let delivery: SeededDelivery;
type Fn = "discover" | "scanBatch" | "publish";
let creds: Record<Fn, AwsCredentialIdentity>;
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
  // As the CDK app deploys it: the three roles, and the scan configuration stored in the bucket.
  delivery = await seedDelivery(emu.endpoint, org, { as: "workflow", scanConfig: CONFIG });
  const roles = delivery.roles as NonNullable<SeededDelivery["roles"]>;
  creds = {
    discover: await roleCredentials(emu.endpoint, roles.discover, "discover"),
    scanBatch: await roleCredentials(emu.endpoint, roles.scanBatch, "scan-batch"),
    publish: await roleCredentials(emu.endpoint, roles.publish, "publish"),
  };
  await emu.setIamEnforcement(true);
  // Nothing of the developer's AWS setup: only the emulator, and the role `as` puts in.
  process.env = cleanEnv({
    AWS_ENDPOINT_URL: emu.endpoint,
    AWS_REGION: REGION,
    REPORT_BUCKET: delivery.bucket,
    REPORT_PREFIX: delivery.prefix,
    AUDIT_ROLE_NAME: "OrgMfaAuditRole",
    ORG_ROLE_ARN: org.orgRoleArn,
    KMS_KEY_ID: delivery.kmsKeyArn,
    CONFIG_KEY: delivery.configKey,
    DIGEST_TOPIC_ARN: delivery.topicArn,
    SECURITY_HUB: "true",
    SNS_PER_ACCOUNT: "false",
    ACCOUNT_CONCURRENCY: "3",
    ORGMFA_VERSION: "0.1.0",
    SCANNER_ROLE_ARN: roles.scanBatch,
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
});
afterAll(async () => {
  process.env = saved;
  await emu?.stop();
});

/** Runs `fn` with the credentials of one function's role in the environment (as Lambda gives them). */
async function as<T>(role: Fn, fn: () => Promise<T>): Promise<T> {
  const c = creds[role];
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    AWS_SESSION_TOKEN: c.sessionToken,
  });
  try {
    return await fn();
  } finally {
    for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) delete process.env[k];
  }
}

/** What an emulated client of one role (or the emulator's administrator) may do. */
function client<C>(Client: new (config: object) => C, credentials?: AwsCredentialIdentity): C {
  return new Client({
    endpoint: emu.endpoint,
    region: REGION,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: credentials ?? { accessKeyId: "testing", secretAccessKey: "testing" },
  });
}

/** Reads back what landed as the administrator (enforcement off only for the read). */
const asAdmin = <T>(read: () => Promise<T>): Promise<T> => emu.unenforced(read);

/** The run's targets, as the Distributed Map's ItemReader reads them (as the state machine's role). */
const targetsOf = (ref: { bucket: string; targetsKey: string }) =>
  asAdmin(async () => {
    const s3 = client(S3Client);
    const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.targetsKey }));
    s3.destroy();
    return JSON.parse((await object.Body?.transformToString()) ?? "[]") as AccountTarget[];
  });

/** The run's context as Discover wrote it. */
const contextOf = (ref: { bucket: string; contextKey: string }) =>
  asAdmin(async () => {
    const s3 = client(S3Client);
    const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.contextKey }));
    s3.destroy();
    return JSON.parse((await object.Body?.transformToString()) ?? "{}") as RunContext;
  });

/** Writes the stored scan configuration object as the CDK app's custom resource does; its version. */
const storeScanConfig = (body: string) =>
  asAdmin(async () => {
    const s3 = client(S3Client);
    const r = await s3.send(new PutObjectCommand({ Bucket: delivery.bucket, Key: delivery.configKey, Body: body }));
    s3.destroy();
    return r.VersionId ?? "";
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
  // The workflow names ScanBatch's role, the CLI its caller's session.
  run: r.run
    ? { ...r.run, configSha256: r.run.configSha256 ? "sha256" : null, callerArn: r.run.callerArn ? "-" : null }
    : undefined,
  accounts: r.accounts.map((a) => ({
    ...a,
    credentialReportGeneratedAt: a.credentialReportGeneratedAt ? "-" : null,
    users: a.users.map((u) => ({ ...u, verdictAsOf: u.verdictAsOf ? "-" : null })),
  })),
  // First found: when each scan started (the two are two scans, each the first to find its gaps).
  findings: r.findings.map((f) => ({ ...f, firstSeenAt: f.firstSeenAt ? "-" : undefined })),
});

interface Handlers {
  discover: typeof import("@orgmfa/functions/discover").handler;
  owners: typeof import("@orgmfa/functions/owners").handler;
  scanBatch: typeof import("@orgmfa/functions/scan-batch").handler;
  publish: typeof import("@orgmfa/functions/publish").handler;
}

/** Each handler as its own role (Owners as Discover's, as deployed). */
const asDeployed = (h: Handlers): Handlers => ({
  discover: (event, context) => as("discover", () => h.discover(event, context)),
  owners: (event, context) => as("discover", () => h.owners(event, context)),
  scanBatch: (event, context) => as("scanBatch", () => h.scanBatch(event, context)),
  publish: (event, context) => as("publish", () => h.publish(event, context)),
});

const sources = async (): Promise<Handlers> =>
  asDeployed({
    discover: (await import("@orgmfa/functions/discover")).handler,
    owners: (await import("@orgmfa/functions/owners")).handler,
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
  return asDeployed({
    discover: await load("discover"),
    owners: await load("owners"),
    scanBatch: await load("scanbatch"),
    publish: await load("publish"),
  });
}

/** The workflow as the state machine runs it (packages/aws SCAN_WORKFLOW, run locally): Discover → Parallel(Distributed Map (ItemReader, ItemBatcher), Owners) → Publish. */
async function runWorkflow(h: Handlers, batchSize: number) {
  // The schedule's input is the workflow's input, {}: Discover reads the stored scan configuration.
  const run = await runWorkflowLocally(
    {
      discover: (event) => h.discover(event),
      items: targetsOf,
      scanBatch: (event) => h.scanBatch(event),
      owners: (input) => h.owners(input),
      publish: (event) => h.publish(event),
    },
    {},
    { batchSize, maxConcurrency: 2 },
  );
  const ref = run.ref as RunRef;
  expect(ref).toMatchObject({ bucket: delivery.bucket, inScope: 7 });
  expect(ref.targetsKey).toBe(`orgmfa/runs/${ref.scanId}/targets.json`);
  // The Map's ItemReader read the targets object; the ItemBatcher sent { Items, BatchInput }.
  expect(run.batches.flatMap((b) => b.event.Items)).toHaveLength(7);
  expect(run.batches.every((b) => b.event.Items.length <= batchSize)).toBe(true);
  expect(run.mapError).toBeNull();
  const results = run.batches.map((b) => b.output as ScanBatchOutput);
  expect(results.reduce((n, r) => n + r.scanned, 0)).toBe(7);
  expect(results.reduce((n, r) => n + r.failed, 0)).toBe(1); // legacy-unmanaged: no audit role
  // The Parallel state's other branch: Owners, given Discover's output, one round.
  expect(run.owners).toMatchObject([{ tag: "owner", unread: 0, round: 1, more: false }]);
  const published = run.published;
  expect(published.reportUri).toMatch(
    new RegExp(`^s3://${delivery.bucket}/orgmfa/scans/.*/${ref.scanId}/report.html$`),
  );

  const { report, digest, scannerHub } = await asAdmin(async () => {
    const reader = new DeliveryReader(emu.endpoint, delivery, org);
    return {
      report: JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport,
      digest: (await reader.messages()).at(-1),
      scannerHub: await reader.findings(org.scannerAccountId),
    };
  });
  expect(report.scanId).toBe(ref.scanId);
  // The report names the identity that read the accounts (ScanBatch's role), not Publish's.
  expect(report.run?.callerArn).toBe(delivery.roles?.scanBatch);
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
    // The CLI as the scanner role (here ScanBatch's, which the audit roles trust): it only scans.
    const cli = await runCli(
      ["scan", "--org-role-arn", org.orgRoleArn, "--config", configFile, "--format", "json", "--quiet"],
      scannerEnv(emu.endpoint, creds.scanBatch),
    );
    expect(cli.code).toBe(4);
    expect(comparable(fromLambda)).toEqual(comparable(JSON.parse(cli.stdout) as ScanReport));
  });

  it("runs the same from the esbuild bundles `npx cdk synth` deploys", async () => {
    const fromBundles = await runWorkflow(await bundles(), 10);
    expect(fromBundles.summary.findings.open).toBe(12);
  });

  it("evaluates each account once: an exemption that expires between ScanBatch and Publish gives the report and Security Hub the same verdict", async () => {
    const h = await sources();
    const accountId = org.accounts["prod-payments"] as string;
    // ScanBatch runs while alice's exemption holds; Publish (hours later in the deployed workflow) after it expired.
    const expires = new Date(Date.now() + 4000).toISOString();
    const exemption = {
      account: accountId,
      principal: "alice",
      checks: ["USER_CONSOLE_NO_MFA"],
      reason: "mid-run",
      expires,
    };
    const ref = await h.discover({ config: { ...CONFIG, exemptions: [...CONFIG.exemptions, exemption] } });
    await h.scanBatch({
      Items: await targetsOf(ref),
      BatchInput: { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey },
    });
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expires) - Date.now() + 500)));
    await h.publish(ref);
    const { report, hub } = await asAdmin(async () => {
      const reader = new DeliveryReader(emu.endpoint, delivery, org);
      return {
        report: JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport,
        hub: await reader.findings(accountId),
      };
    });
    expect(report.scanId).toBe(ref.scanId);
    const finding = report.findings.find(
      (f) => f.checkId === "USER_CONSOLE_NO_MFA" && f.accountId === accountId && f.userName === "alice",
    );
    // The verdict ScanBatch reached travels in the account's result: the report holds it, as the hub does.
    expect(finding).toMatchObject({ status: "EXEMPTED", exemption: { reason: "mid-run", expires } });
    const inHub = hub.find((f) => f.Id === finding?.id);
    expect(inHub).toMatchObject({ RecordState: "ARCHIVED" });
    expect(inHub?.ProductFields?.["orgmfa/ScanId"]).toBe(ref.scanId);
    expect(inHub?.ProductFields?.["orgmfa/ExemptionExpires"]).toBe(expires);
  });

  it("reports an account whose batch never wrote a result as FAILED, not as clean", async () => {
    const h = await sources();
    const ref = await h.discover({ config: CONFIG });
    const items = await targetsOf(ref);
    // The batch holding prod-payments is lost (its Lambda timed out; the Map tolerated it).
    const lost = items.find((t) => t.accountName === "prod-payments");
    await h.scanBatch({
      Items: items.filter((t) => t !== lost),
      BatchInput: { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey },
    });
    await h.publish(ref);
    const report = await asAdmin(async () => {
      const reader = new DeliveryReader(emu.endpoint, delivery, org);
      return JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport;
    });
    expect(report.accounts.find((a) => a.accountId === lost?.accountId)).toMatchObject({
      status: "FAILED",
      reason: "ERROR",
      error: { code: "NoOutcome" },
    });
    expect(report.findings.some((f) => f.checkId === "ACCOUNT_NOT_AUDITED" && f.accountId === lost?.accountId)).toBe(
      true,
    );
  });

  it("reads owner tags beside the scan, keeps them between runs, and reports owners it could not read yet", async () => {
    const h = await sources();
    const scan = async (ownersContext?: "none" | "no time" | "full time" | "no time, then full time") => {
      const ref = await h.discover({ config: CONFIG });
      await h.scanBatch({
        Items: await targetsOf(ref),
        BatchInput: { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey },
      });
      // Lambda's context: the time left decides how many tags Owners reads (half of it, less time to write).
      const context = (remaining: number) => ({ getRemainingTimeInMillis: () => remaining }) as unknown as Context;
      const rounds: Array<Awaited<ReturnType<Handlers["owners"]>>> = [];
      if (ownersContext !== "none") {
        // As the workflow's MoreOwners choice does: Owners again, given its answer, while it answers more.
        let round = await h.owners(ref, context(ownersContext === "full time" ? 900_000 : 60_000));
        rounds.push(round);
        while (round?.more) {
          round = await h.owners({ ...ref, owners: round }, context(900_000));
          rounds.push(round);
        }
      }
      const owners = rounds.at(-1) ?? null;
      await h.publish(ref);
      const report = await asAdmin(async () => {
        const reader = new DeliveryReader(emu.endpoint, delivery, org);
        return JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport;
      });
      const ownerOf = (name: string) => report.accounts.find((a) => a.accountName === name)?.owner;
      return { owners, rounds, report, ownerOf };
    };
    const setOwner = (value: string) =>
      asAdmin(async () => {
        const orgs = client(OrganizationsClient);
        await orgs.send(
          new TagResourceCommand({
            ResourceId: org.accounts["prod-payments"] as string,
            Tags: [{ Key: "owner", Value: value }],
          }),
        );
        orgs.destroy();
      });

    // Owners never ran (it failed, or timed out): the run still reports, every owner counted unknown.
    const without = await scan("none");
    expect(without.ownerOf("prod-payments")).toBeNull();
    expect(without.report.warnings).toContainEqual({
      field: "ownerTag",
      message: expect.stringMatching(/^7 in-scope account\(s\) have no owner/),
    });

    // No tag read before (the workflow's earlier runs in this file kept theirs).
    await asAdmin(async () => {
      const s3 = client(S3Client);
      await s3.send(new DeleteObjectCommand({ Bucket: delivery.bucket, Key: "orgmfa/state/owner-tags.json" }));
      s3.destroy();
    });
    // The first round had no time to read a tag: a second round reads the never-read ones.
    const first = await scan("no time, then full time");
    expect(first.rounds).toMatchObject([
      { round: 1, read: 0, unread: 7, more: true },
      { round: 2, read: 7, fromCache: 0, unread: 0, more: false },
    ]);
    expect(first.ownerOf("prod-payments")).toBe("payments-team@example.com");
    const ownerWarnings = (r: ScanReport) => (r.warnings ?? []).filter((w) => w.field === "ownerTag");
    expect(ownerWarnings(first.report)).toEqual([]);

    try {
      await setOwner("new-team@example.com");
      // No time to read any tag: the owners read by the run before stand, and are not reported missing.
      const cached = await scan("no time");
      expect(cached.rounds).toMatchObject([{ round: 1, read: 0, fromCache: 7, unread: 0, more: false }]);
      expect(cached.ownerOf("prod-payments")).toBe("payments-team@example.com");
      expect(ownerWarnings(cached.report)).toEqual([]);
      // With time, the tag is read again.
      const fresh = await scan("full time");
      expect(fresh.ownerOf("prod-payments")).toBe("new-team@example.com");
    } finally {
      await setOwner("payments-team@example.com");
    }
  });

  it("runs the Map at its ceiling until a run's pace is measured, then at the fewest batches that end within the window", async () => {
    const h = await sources();
    const paceKey = "orgmfa/state/pace.json";
    const readPace = () =>
      asAdmin(async () => {
        const reader = new DeliveryReader(emu.endpoint, delivery, org);
        return JSON.parse((await reader.object(paceKey)).body.toString()) as ScanPace;
      });
    // No earlier run: nothing measured.
    await asAdmin(async () => {
      const s3 = client(S3Client);
      await s3.send(new DeleteObjectCommand({ Bucket: delivery.bucket, Key: paceKey }));
      s3.destroy();
    });
    // One account per batch, at most 5 at once, a one-minute window (as the CDK app sets them on Discover).
    Object.assign(process.env, { BATCH_SIZE: "1", MAP_MAX_CONCURRENCY: "5", MAP_WINDOW_SECONDS: "60" });
    try {
      const first = await h.discover({ config: CONFIG });
      expect(first.mapConcurrency).toBe(5); // the ceiling: 7 batches, no pace yet
      const items = await targetsOf(first);
      for (const Items of batches(items, 1))
        await h.scanBatch({
          Items,
          BatchInput: { bucket: first.bucket, scanId: first.scanId, contextKey: first.contextKey },
        });
      // Each result carries the seconds its account took; Publish keeps the run's pace.
      const result = await asAdmin(async () => {
        const reader = new DeliveryReader(emu.endpoint, delivery, org);
        const key = `orgmfa/runs/${first.scanId}/results/${items[0]?.accountId}.json`;
        return JSON.parse((await reader.object(key)).body.toString()) as { seconds?: number };
      });
      expect(result.seconds).toBeGreaterThan(0);
      await h.publish(first);
      const pace = await readPace();
      expect(pace).toMatchObject({ scanId: first.scanId, accounts: 7 }); // the failed account took time too
      expect(pace.p90AccountSeconds).toBeGreaterThan(0);
      expect(pace.p90AccountSeconds).toBeLessThan(30);
      // The next run: 7 batches of well under 60/7 s each fit the window one at a time.
      const next = await h.discover({ config: CONFIG });
      expect(next.mapConcurrency).toBe(1);
      // A slow organization (an account at 100 s) needs every batch the ceiling allows.
      await asAdmin(async () => {
        const s3 = client(S3Client);
        await s3.send(
          new PutObjectCommand({
            Bucket: delivery.bucket,
            Key: paceKey,
            Body: JSON.stringify({ ...pace, p90AccountSeconds: 100 }),
          }),
        );
        s3.destroy();
      });
      expect((await h.discover({ config: CONFIG })).mapConcurrency).toBe(5);
    } finally {
      for (const k of ["BATCH_SIZE", "MAP_MAX_CONCURRENCY", "MAP_WINDOW_SECONDS"]) delete process.env[k];
    }
  });

  it("a retried Publish compares with the scan before this run, not with the report it wrote itself", async () => {
    const h = await sources();
    const scanOnce = async () => {
      const ref = await h.discover({ config: CONFIG });
      const items = await targetsOf(ref);
      await h.scanBatch({
        Items: items,
        BatchInput: { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey },
      });
      return ref;
    };
    const before = await scanOnce();
    await h.publish(before); // whatever ran before: now the latest report
    const ref = await scanOnce();
    const latest = () =>
      asAdmin(async () => {
        const reader = new DeliveryReader(emu.endpoint, delivery, org);
        const r = JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport;
        return { report: r, digest: (await reader.messages()).at(-1) };
      });
    await h.publish(ref);
    const first = await latest();
    await h.publish(ref); // Step Functions retried it, or an operator redrove the execution
    const second = await latest();
    expect(first.report.changes?.previousScanId).toBe(before.scanId);
    expect(second.report.changes).toEqual(first.report.changes);
    expect({ ...second.report, finishedAt: "-" }).toEqual({ ...first.report, finishedAt: "-" });
    expect(second.digest?.Subject).toBe(first.digest?.Subject);
  });

  it("a Publish after a failed Discover reports that the organization could not be listed: never an all-clear, a failed run", async () => {
    const h = await sources();
    const read = () =>
      asAdmin(async () => {
        const reader = new DeliveryReader(emu.endpoint, delivery, org);
        return {
          latest: JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport,
          digest: (await reader.messages()).at(-1),
        };
      });
    const before = await read();
    // What the workflow's Catch on Discover hands Publish: the execution's input ({}) and the error.
    const failure = h.publish({
      discoveryError: {
        Error: "Sandbox.Timedout",
        Cause: JSON.stringify({ errorType: "Sandbox.Timedout", errorMessage: "Task timed out after 600.00 seconds" }),
      },
    });
    // The run fails (the RunFailed alarm tells the digest topic), after reporting.
    await expect(failure).rejects.toMatchObject({ name: "DiscoveryFailedError" });
    await expect(failure).rejects.toThrow(/organization could not be listed \(Sandbox\.Timedout/);
    const after = await read();
    expect(after.digest?.Subject).toBe(
      "orgmfa: scan FAILED - organization could not be listed, users without MFA unknown",
    );
    expect(after.digest?.Message).toMatch(
      /Users without MFA: unknown\. No account was audited, so this is not an all-clear\./,
    );
    expect(after.digest?.Message).toMatch(
      /Discovery failed: Sandbox\.Timedout — Sandbox\.Timedout: Task timed out after 600\.00 seconds/,
    );
    const scanId = /^orgmfa scan (\S+) FAILED/.exec(after.digest?.Message ?? "")?.[1];
    expect(scanId).toBeDefined();
    // latest/ still holds the last complete scan: the next run compares with it, not with an empty report.
    expect(after.latest.scanId).toBe(before.latest.scanId);
    // The failed run's own report, under scans/: no account, the error named, a verdict that is no all-clear.
    const failed = await asAdmin(async () => {
      const s3 = client(S3Client);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: delivery.bucket, Prefix: "orgmfa/scans/" }));
      const key = (listed.Contents ?? []).map((o) => o.Key ?? "").find((k) => k.endsWith(`/${scanId}/report.json`));
      const object = await s3.send(new GetObjectCommand({ Bucket: delivery.bucket, Key: key }));
      const keys = (listed.Contents ?? []).map((o) => o.Key ?? "").filter((k) => k.includes(`/${scanId}/`));
      s3.destroy();
      return { report: JSON.parse((await object.Body?.transformToString()) ?? "{}") as ScanReport, keys };
    });
    expect(failed.keys.map((k) => k.split("/").at(-1)).sort()).toEqual(
      ["accounts.csv", "findings.csv", "manifest.json", "report.html", "report.json", "users.csv"].sort(),
    );
    expect(failed.report.summary.accounts).toMatchObject({ listed: 0, inScope: 0, audited: 0 });
    expect(failed.report.summary.coverage).toBe(0);
    expect(failed.report.warnings).toContainEqual({
      field: "discovery",
      message: expect.stringMatching(/^The organization could not be listed \(Sandbox\.Timedout.*not an all-clear\.$/),
    });
    expect(verdictSentence(failed.report)).toMatch(/nothing was scanned/);
    expect(verdictSentence(failed.report)).not.toMatch(/No open findings/);
  });

  it("an account without Security Hub is still audited; the problem is in the report and the digest, and the run succeeds", async () => {
    const h = await sources();
    const ref = await h.discover({ config: CONFIG });
    const items = await targetsOf(ref);
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
    const { report, digest, otherHub } = await asAdmin(async () => {
      const reader = new DeliveryReader(emu.endpoint, delivery, org);
      return {
        report: JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport,
        digest: (await reader.messages()).at(-1),
        otherHub: await reader.findings(items.find((t) => t.accountName === "prod-web")?.accountId ?? ""),
      };
    });
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

describe("the deployed scan configuration, an object in the bucket", () => {
  const alice = {
    account: "*",
    principal: "alice",
    checks: ["USER_CONSOLE_NO_MFA"],
    reason: "travelling, token on its way",
    expires: "2099-12-31",
  };
  const restore = () => storeScanConfig(JSON.stringify(CONFIG));

  it("is what Discover scans with when its input has no config: its version is recorded and its exemptions honoured", async () => {
    const h = await sources();
    const version = await storeScanConfig(JSON.stringify({ ...CONFIG, exemptions: [...CONFIG.exemptions, alice] }));
    try {
      const ref = await h.discover({});
      const run = await contextOf(ref);
      expect(run.configSource).toEqual({ bucket: delivery.bucket, key: delivery.configKey, versionId: version });
      expect(version).not.toBe(delivery.configVersionId); // a new version, the deployed one kept
      await h.scanBatch({
        Items: await targetsOf(ref),
        BatchInput: { bucket: ref.bucket, scanId: ref.scanId, contextKey: ref.contextKey },
      });
      await h.publish(ref);
      const report = await asAdmin(async () => {
        const reader = new DeliveryReader(emu.endpoint, delivery, org);
        return JSON.parse((await reader.object("orgmfa/latest/report.json")).body.toString()) as ScanReport;
      });
      const statusOf = (user: string) =>
        report.findings.find((f) => f.userName === user && f.checkId === "USER_CONSOLE_NO_MFA")?.status;
      expect(statusOf("alice")).toBe("EXEMPTED");
      expect(statusOf("heidi")).toBe("EXEMPTED");
    } finally {
      await restore();
    }
  });

  it("is overridden by a config in the input (tests, ad hoc runs), and the run then records no stored source", async () => {
    const h = await sources();
    const ref = await h.discover({ config: { ownerTag: "team" } });
    const run = await contextOf(ref);
    expect(run.configSource).toBeNull();
    expect(run.config).toMatchObject({ ownerTag: "team" });
    expect(run.config.exemptions ?? []).toEqual([]); // nothing of the stored one
  });

  it("fails Discover, naming the object and what to do, when it is missing", async () => {
    const h = await sources();
    await asAdmin(async () => {
      const s3 = client(S3Client);
      await s3.send(new DeleteObjectCommand({ Bucket: delivery.bucket, Key: delivery.configKey }));
      s3.destroy();
    });
    try {
      const failure = h.discover({});
      await expect(failure).rejects.toMatchObject({ name: "ScanConfigError" });
      await expect(failure).rejects.toThrow(
        new RegExp(
          `the scan configuration s3://${delivery.bucket}/orgmfa/config/scan-config.json does not exist\\. .*deploy OrgMfaCentral again, or start the execution with the config as its input`,
        ),
      );
    } finally {
      await restore();
    }
  });

  it("fails Discover, naming the object, its version, every bad field and what to do, when it is invalid", async () => {
    const h = await sources();
    try {
      const version = await storeScanConfig(JSON.stringify({ exemptions: [{ account: "*", principal: "bob" }] }));
      const invalid = h.discover({});
      await expect(invalid).rejects.toMatchObject({ name: "ScanConfigError" });
      await expect(invalid).rejects.toThrow(
        new RegExp(
          `scan-config\\.json \\(version ${version}\\) is invalid:[\\s\\S]*exemptions\\[0\\]\\.reason[\\s\\S]*deploy OrgMfaCentral again`,
        ),
      );
      await storeScanConfig("{ not json");
      await expect(h.discover({})).rejects.toThrow(/scan-config\.json \(version .+\) is not valid JSON/);
    } finally {
      await restore();
    }
  });
});

describe("each function's role holds only what its function does (the deployed statements, enforced)", () => {
  const auditRole = (account: string) => `arn:aws:iam::${org.accounts[account]}:role/OrgMfaAuditRole`;
  const denied = expect.objectContaining({ name: expect.stringMatching(/AccessDenied|AuthorizationError/) });
  const assume = async (role: Fn, roleArn: string) => {
    const sts = client(STSClient, creds[role]);
    try {
      return await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "least-privilege" }));
    } finally {
      sts.destroy();
    }
  };
  const s3 = async <T>(role: Fn, call: (s3: S3Client) => Promise<T>) => {
    const c = client(S3Client, creds[role]);
    try {
      return await call(c);
    } finally {
      c.destroy();
    }
  };
  const put = (role: Fn, key: string) =>
    s3(role, (c) => c.send(new PutObjectCommand({ Bucket: delivery.bucket, Key: key, Body: "{}" })));
  const list = (role: Fn, prefix?: string) =>
    s3(role, (c) => c.send(new ListObjectsV2Command({ Bucket: delivery.bucket, Prefix: prefix })));
  const publishDigest = async (role: Fn) => {
    const sns = client(SNSClient, creds[role]);
    try {
      return await sns.send(new PublishCommand({ TopicArn: delivery.topicArn, Message: "forged digest" }));
    } finally {
      sns.destroy();
    }
  };

  it("ScanBatch may assume any account's audit role, but not write the reports, read them, list, or send the digest", async () => {
    await expect(assume("scanBatch", auditRole("prod-payments"))).resolves.toBeDefined();
    await expect(assume("scanBatch", org.orgRoleArn)).resolves.toBeDefined();
    await expect(put("scanBatch", "orgmfa/runs/s-1/results/111111111111.json")).resolves.toBeDefined();
    await expect(put("scanBatch", "orgmfa/latest/report.json")).rejects.toEqual(denied);
    await expect(put("scanBatch", "orgmfa/runs/s-1/context.json")).rejects.toEqual(denied);
    await expect(
      s3("scanBatch", (c) =>
        c.send(new GetObjectCommand({ Bucket: delivery.bucket, Key: "orgmfa/latest/report.json" })),
      ),
    ).rejects.toEqual(denied);
    await expect(list("scanBatch", "orgmfa/runs/")).rejects.toEqual(denied);
    await expect(
      s3("scanBatch", (c) => c.send(new GetObjectCommand({ Bucket: delivery.bucket, Key: delivery.configKey }))),
    ).rejects.toEqual(denied);
    await expect(publishDigest("scanBatch")).rejects.toEqual(denied);
    // Member hubs are reached through the audit role; its own account's hub is Publish's to sync.
    const hub = client(SecurityHubClient, creds.scanBatch);
    const product = `arn:aws:securityhub:${REGION}:${org.scannerAccountId}:product/${org.scannerAccountId}/default`;
    await expect(
      hub.send(
        new BatchImportFindingsCommand({
          Findings: [{ ProductArn: product, AwsAccountId: org.scannerAccountId } as never],
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } }); // moto answers a JSON service in XML
    hub.destroy();
  });

  it("Discover may assume the management account's audit role only, and list only latest/report.json", async () => {
    await expect(assume("discover", org.orgRoleArn)).resolves.toBeDefined();
    await expect(assume("discover", auditRole("prod-payments"))).rejects.toEqual(denied);
    await expect(assume("discover", auditRole("security-tooling"))).rejects.toEqual(denied);
    await expect(list("discover", "orgmfa/latest/report.json")).resolves.toBeDefined();
    await expect(list("discover", "orgmfa/config/scan-config.json")).resolves.toBeDefined();
    await expect(put("discover", "orgmfa/config/scan-config.json")).rejects.toEqual(denied);
    await expect(list("discover", "orgmfa/runs/")).rejects.toEqual(denied);
    await expect(list("discover", "orgmfa/latest/")).rejects.toEqual(denied);
    await expect(put("discover", "orgmfa/latest/report.json")).rejects.toEqual(denied);
    await expect(put("discover", "orgmfa/runs/s-1/results/111111111111.json")).rejects.toEqual(denied);
    await expect(publishDigest("discover")).rejects.toEqual(denied);
  });

  it("Publish may assume no audit role, list only a run's results, and not forge a result", async () => {
    await expect(assume("publish", org.orgRoleArn)).rejects.toEqual(denied);
    await expect(assume("publish", auditRole("prod-payments"))).rejects.toEqual(denied);
    await expect(list("publish", "orgmfa/runs/s-1/results/")).resolves.toBeDefined();
    await expect(list("publish", "orgmfa/runs/")).rejects.toEqual(denied);
    await expect(list("publish", "orgmfa/scans/")).rejects.toEqual(denied);
    await expect(list("publish")).rejects.toEqual(denied);
    await expect(put("publish", "orgmfa/runs/s-1/results/111111111111.json")).rejects.toEqual(denied);
    await expect(put("publish", "orgmfa/runs/s-1/context.json")).rejects.toEqual(denied);
    await expect(put("publish", "orgmfa/config/scan-config.json")).rejects.toEqual(denied);
  });

  it("the management account's audit role trusts Discover's role; member accounts' audit roles do not", async () => {
    const principals = async (accountId: string) => {
      const admin =
        accountId === org.managementAccountId
          ? { accessKeyId: "testing", secretAccessKey: "testing" }
          : await accountAdminCredentials(emu.endpoint, accountId);
      const iam = client(IAMClient, admin);
      const role = await iam.send(new GetRoleCommand({ RoleName: "OrgMfaAuditRole" }));
      iam.destroy();
      const doc = JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? "{}"));
      return doc.Statement[0].Condition.ArnLike["aws:PrincipalArn"] as unknown[];
    };
    const scanner = `arn:aws:iam::${org.scannerAccountId}:role/OrgMfaScanner`;
    const sso = `arn:aws:iam::${org.scannerAccountId}:role/aws-reserved/sso.amazonaws.com/*OrgMfaScanner`;
    const discover = `arn:aws:iam::${org.scannerAccountId}:role/OrgMfaDiscover`;
    const [management, member] = await asAdmin(() =>
      Promise.all([principals(org.managementAccountId), principals(org.accounts["prod-payments"] ?? "")]),
    );
    expect(management).toEqual([scanner, sso, discover]);
    // Deployed by the StackSet with the template's defaults: no Discover, and no empty entry in its place.
    expect(member).toEqual([scanner, sso]);
  });
});
