import { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { Upload } from "@aws-sdk/lib-storage";
import { ClientPool, discoverOrganization, publishReport, readOwnerTags, runScan } from "@orgmfa/aws";
import { latestKeyPrefix } from "@orgmfa/contract";
import { policyFromConfig } from "@orgmfa/core";
import { sha256Hex } from "@orgmfa/render";
import { isThrottlingError } from "@smithy/core/retry";
import { afterEach, describe, expect, it } from "vitest";
import { startSimServer } from "../lib/sim-server";
import { SimulatedAws } from "../lib/simulated-aws";

// The services the deployed handlers call besides IAM, STS and Organizations — S3, Security Hub, SNS —
// as the simulated AWS answers them, through the real SDK clients: in process, and over the loopback
// HTTP server the workflow benchmark's handlers reach it through.

const BUCKET = "orgmfa-reports";
const KEY = "arn:aws:kms:us-east-1:100000000001:key/sim";
const TOPIC = "arn:aws:sns:us-east-1:100000000001:orgmfa-digest";
const base = { accessKeyId: "AKIASIMULATEDBASE", secretAccessKey: "simulated" };
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function sim(extra: Partial<ConstructorParameters<typeof SimulatedAws>[0]> = {}) {
  return new SimulatedAws({
    accounts: 4,
    usersPerAccount: 20,
    latencyMs: 1,
    reportReadyMs: 20,
    scannerAccountIndex: 1,
    buckets: [BUCKET],
    kmsKeyId: KEY,
    topics: [TOPIC],
    ...extra,
  });
}

function s3Of(aws: SimulatedAws | { endpoint: string }): S3Client {
  const c = new S3Client({
    region: "us-east-1",
    credentials: base,
    ...("endpoint" in aws ? { endpoint: aws.endpoint } : { requestHandler: aws }),
  });
  cleanup.push(() => c.destroy());
  return c;
}

async function roundTrip(s3: S3Client, aws: SimulatedAws) {
  const sse = { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: KEY };
  for (let i = 0; i < 5; i++)
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `runs/r1/results/${i}.json`, Body: `{"i":${i}}`, ...sse }),
    );
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "runs/r2/other.json", Body: "{}", ...sse }));
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "runs/r1/results/3.json" }));
  expect(await got.Body?.transformToString()).toBe('{"i":3}');
  expect(got.ServerSideEncryption).toBe("aws:kms");
  expect(got.SSEKMSKeyId).toBe(KEY);
  // Listing: only the prefix, in order, two keys a page, continued with the token.
  const keys: string[] = [];
  let pages = 0;
  for await (const page of paginateListObjectsV2(
    { client: s3, pageSize: 2 },
    { Bucket: BUCKET, Prefix: "runs/r1/results/" },
  )) {
    pages++;
    for (const o of page.Contents ?? []) keys.push(o.Key ?? "");
  }
  expect(keys).toEqual([0, 1, 2, 3, 4].map((i) => `runs/r1/results/${i}.json`));
  expect(pages).toBe(3);
  expect((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "nothing/" }))).KeyCount).toBe(0);
  // Multipart: 9 MiB streamed through lib-storage in 8 MiB parts (5 MiB is S3's least part but the last).
  const big = Buffer.alloc(9 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.write(String(i), i);
  await new Upload({
    client: s3,
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
    params: {
      Bucket: BUCKET,
      Key: "scans/report.json",
      Body: Readable.from([big]),
      ContentType: "application/json",
      ...sse,
    },
  }).done();
  const stored = aws.s3.object(BUCKET, "scans/report.json");
  expect(stored?.body.equals(big)).toBe(true);
  expect(stored?.etag).toMatch(/-2"$/);
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "scans/report.json" }));
  expect(head.ContentLength).toBe(big.length);
  expect(head.ContentType).toBe("application/json");
  await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "missing" }))).rejects.toMatchObject({
    name: "NoSuchKey",
  });
  expect(aws.s3.stats()).toMatchObject({ multipartUploads: 1, parts: 2, withoutKms: 0, otherKmsKey: 0 });
}

describe("simulated S3", () => {
  it("puts, gets, lists by prefix page by page, and assembles multipart uploads, in process", async () => {
    const aws = sim();
    await roundTrip(s3Of(aws), aws);
  });

  it("does the same over the loopback HTTP server", async () => {
    const aws = sim();
    const server = await startSimServer(aws);
    cleanup.push(() => server.close());
    await roundTrip(s3Of({ endpoint: server.url }), aws);
    expect(server.failures()).toEqual([]);
  });

  it("refuses a member account's session, counts objects written without the key", async () => {
    const aws = sim();
    const s3 = s3Of(aws);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "plain.json", Body: "{}" }));
    expect(aws.s3.stats().withoutKms).toBe(1);
    const member = new S3Client({
      region: "us-east-1",
      requestHandler: aws,
      credentials: { accessKeyId: `ASIA${aws.accountId(2)}0001`, secretAccessKey: "x", sessionToken: "t" },
    });
    cleanup.push(() => member.destroy());
    await expect(member.send(new GetObjectCommand({ Bucket: BUCKET, Key: "plain.json" }))).rejects.toMatchObject({
      name: "AccessDenied",
    });
  });
});

describe("simulated Organizations", () => {
  it("throttles the organization beyond its rate with Organizations' TooManyRequestsException, which the SDK retries", async () => {
    const aws = sim({ accounts: 12, organizationsRate: { perSecond: 100, burst: 3 } });
    const pool = new ClientPool({
      region: "us-east-1",
      baseCredentials: async () => base,
      requestHandler: aws,
      orgRoleArn: `arn:aws:iam::${aws.managementAccountId}:role/OrgMfaAuditRole`,
    });
    cleanup.push(() => pool.destroy());
    const d = await discoverOrganization(pool.organizations());
    const o = await readOwnerTags(
      pool.organizations(),
      d.targets.map((t) => t.accountId),
      "owner",
    );
    expect(aws.stats().throttledByService.organizations).toBeGreaterThan(0);
    expect(o.unread).toBe(0);
    expect(o.owners.get(aws.accountId(5))).toBe("team-5@example.com");
  });
});

describe("simulated Security Hub and SNS", () => {
  it("throttles GetFindings beyond 3 per second (bursts of 6) with Security Hub's 429 TooManyRequestsException", async () => {
    const aws = sim();
    const hub = new SecurityHubClient({ region: "us-east-1", requestHandler: aws, credentials: base, maxAttempts: 1 });
    cleanup.push(() => hub.destroy());
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => hub.send(new GetFindingsCommand({ MaxResults: 100 }))),
    );
    const refused = results.flatMap((r) =>
      r.status === "rejected" ? [r.reason as Error & { $metadata?: object }] : [],
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(6);
    expect(refused).toHaveLength(4);
    expect(refused[0]).toMatchObject({ name: "TooManyRequestsException", $metadata: { httpStatusCode: 429 } });
    expect(isThrottlingError(refused[0] as never)).toBe(true);
  });

  it("takes a scan's delivery — auditor files, each account's findings in its own hub, the digest — and a second scan finds them unchanged", async () => {
    const aws = sim({ accounts: 5, securityHubDisabled: (id) => id === "100000000003" });
    const pool = new ClientPool({ region: "us-east-1", baseCredentials: async () => base, requestHandler: aws });
    cleanup.push(() => pool.destroy());
    const policy = policyFromConfig({});
    const deliver = async () => {
      // The organization is read through the management account's audit role, as the workflow does.
      const orgPool = new ClientPool({
        region: "us-east-1",
        baseCredentials: async () => base,
        requestHandler: aws,
        orgRoleArn: `arn:aws:iam::${aws.managementAccountId}:role/OrgMfaAuditRole`,
      });
      cleanup.push(() => orgPool.destroy());
      const report = await runScan({ pool: orgPool, toolVersion: "test", concurrency: 4 });
      const result = await publishReport(
        pool,
        report,
        {
          s3: { bucket: BUCKET, prefix: "orgmfa", kmsKeyId: KEY },
          securityHub: { region: "us-east-1", scanningAccountId: aws.scannerAccountId },
          sns: { topicArn: TOPIC },
        },
        { policy },
      );
      return { report, result };
    };
    const first = await deliver();
    // Every auditor file is in latest/, as the manifest describes it.
    const latest = latestKeyPrefix("orgmfa");
    const manifest = JSON.parse(aws.s3.object(BUCKET, `${latest}manifest.json`)?.body.toString() ?? "{}") as {
      files: Array<{ name: string; sha256: string }>;
    };
    expect(manifest.files.map((f) => f.name).sort()).toEqual(
      ["accounts.csv", "findings.csv", "report.html", "report.json", "users.csv"].sort(),
    );
    for (const f of manifest.files)
      expect(sha256Hex(aws.s3.object(BUCKET, `${latest}${f.name}`)?.body ?? "")).toBe(f.sha256);
    expect(aws.s3.stats()).toMatchObject({ withoutKms: 0, otherKmsKey: 0 });
    // Each account's findings landed in its own hub; the account without Security Hub is a problem reported.
    const open = first.report.findings.filter((f) => f.status === "OPEN");
    const inHubs = [0, 1, 2, 4].flatMap((i) => aws.securityHub.findings(aws.accountId(i)));
    expect(inHubs.length).toBe(open.filter((f) => f.accountId !== "100000000003").length);
    for (const f of inHubs) expect(f.Severity).toEqual((f.FindingProviderFields as { Severity: unknown }).Severity);
    expect(first.result.problems.map((p) => p.message)).toEqual([
      expect.stringContaining("account 100000000003: InvalidAccessException"),
    ]);
    expect(aws.sns.messages).toHaveLength(1);
    expect(aws.sns.messages[0]?.message).toContain("Not delivered");
    // The second scan reads the hubs back (GetFindings with orgmfa's filters) and imports nothing unchanged.
    const imported = aws.securityHub.stats().findingsImported;
    const second = await deliver();
    expect(second.result.securityHub?.hubs.filter((h) => !h.error).every((h) => h.imported === 0)).toBe(true);
    expect(aws.securityHub.stats().findingsImported).toBe(imported);
    expect(aws.securityHub.stats().findingsRefused).toBe(0);
  });

  it("refuses a message over SNS's 256 KB with its InvalidParameter error", async () => {
    const aws = sim();
    const pool = new ClientPool({ region: "us-east-1", baseCredentials: async () => base, requestHandler: aws });
    cleanup.push(() => pool.destroy());
    const { PublishCommand } = await import("@aws-sdk/client-sns");
    await expect(
      pool.sns().send(new PublishCommand({ TopicArn: TOPIC, Subject: "s", Message: "x".repeat(262_145) })),
    ).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: expect.stringContaining("Message too long"),
    });
    await pool.sns().send(new PublishCommand({ TopicArn: TOPIC, Subject: "s", Message: "x".repeat(262_144) }));
    expect(aws.sns.messages).toHaveLength(1);
  });
});
