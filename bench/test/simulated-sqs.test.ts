import { ClientPool, FORWARDING_DLQ_NAME, readForwardingBacklogs } from "@orgmfa/aws";
import { afterEach, describe, expect, it } from "vitest";
import type { OrgShape } from "../lib/org-spec";
import { startSimServer } from "../lib/sim-server";
import { SimulatedAws, type SimulatedAwsOptions } from "../lib/simulated-aws";

// The member forwarding dead-letter queue as the simulated AWS answers the quarantine sweep's read of
// it (packages/aws/src/forwarding.ts), through the real SDK client the pool builds (JSON 1.0,
// useQueueUrlAsEndpoint false): in process, over the loopback HTTP server, and on the wire.

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Accounts 1–5: the quarantine everywhere but account 2; account 3's forwarding never deployed; account 4 has dead letters. */
const shape: OrgShape = {
  name: "test",
  users: () => 5,
  failure: () => null,
  quarantineDeployed: (i) => i !== 2,
};

function sim(extra: Partial<SimulatedAwsOptions> = {}) {
  return new SimulatedAws({
    accounts: 6,
    usersPerAccount: 5,
    latencyMs: 1,
    shape,
    forwardingDeployed: (id) => id !== "100000000003",
    forwardingDeadLetters: (id) => (id === "100000000004" ? { waiting: 2, inFlight: 1 } : null),
    ...extra,
  });
}

function enforcerPool(o: { requestHandler: SimulatedAws } | { endpoint: string }) {
  const pool = new ClientPool({
    region: "eu-west-1",
    roleName: "OrgMfaQuarantineRole",
    baseCredentials: async () => ({ accessKeyId: "AKIASIMULATEDBASE", secretAccessKey: "simulated" }),
    maxAttempts: 1,
    ...o,
  });
  cleanup.push(() => pool.destroy());
  return pool;
}

const ids = [1, 2, 3, 4, 5].map((i) => String(100_000_000_000 + i));

async function expectBacklogs(pool: ClientPool, aws: SimulatedAws) {
  const read = await readForwardingBacklogs(pool, ids, { concurrency: 3 });
  expect(read.map((b) => [b.accountId, b.events, b.unknown?.reason ?? null])).toEqual([
    [ids[0], 0, null],
    // No quarantine: the enforcer role cannot be assumed.
    [ids[1], null, "denied"],
    // The role, but no queue: SQS's QueueDoesNotExist, as the SDK parses it.
    [ids[2], null, "not-deployed"],
    [ids[3], 3, null],
    [ids[4], 0, null],
  ]);
  expect(["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"]).toContain(read[2]?.unknown?.code);
  expect(aws.stats().byOperation.GetQueueAttributes).toBe(4);
}

describe("simulated SQS: the forwarding dead-letter queue", () => {
  it("answers the sweep's reads where the quarantine is deployed, and SQS's errors elsewhere, in process", async () => {
    const aws = sim();
    await expectBacklogs(enforcerPool({ requestHandler: aws }), aws);
  });

  it("does the same over the loopback HTTP server", async () => {
    const aws = sim();
    const server = await startSimServer(aws);
    cleanup.push(() => server.close());
    await expectBacklogs(enforcerPool({ endpoint: server.url }), aws);
    expect(server.failures()).toEqual([]);
  });

  it("writes SQS's documents: attributes asked for, the missing queue's JSON error and query code, another Region", async () => {
    const aws = sim();
    const send = (account: string, body: unknown, region = "us-east-1") =>
      aws.serveHttp({
        method: "POST",
        url: "/",
        headers: {
          host: "127.0.0.1:1",
          authorization: `AWS4-HMAC-SHA256 Credential=ASIA${account}0001/20260101/${region}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
          "x-amz-target": "AmazonSQS.GetQueueAttributes",
          "content-type": "application/x-amz-json-1.0",
        },
        body: Buffer.from(JSON.stringify(body)),
      });
    const url = (account: string) => `https://sqs.us-east-1.amazonaws.com/${account}/${FORWARDING_DLQ_NAME}`;
    const ok = await send(ids[3] ?? "", {
      QueueUrl: url(ids[3] ?? ""),
      AttributeNames: ["ApproximateNumberOfMessages", "QueueArn"],
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(String(ok.body))).toEqual({
      Attributes: {
        ApproximateNumberOfMessages: "2",
        QueueArn: `arn:aws:sqs:us-east-1:${ids[3]}:${FORWARDING_DLQ_NAME}`,
      },
    });
    const missing = await send(ids[2] ?? "", { QueueUrl: url(ids[2] ?? ""), AttributeNames: ["All"] });
    expect(missing.status).toBe(400);
    expect(missing.headers).toMatchObject({
      "content-type": "application/x-amz-json-1.0",
      "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender",
    });
    expect(JSON.parse(String(missing.body))).toEqual({
      __type: "com.amazonaws.sqs#QueueDoesNotExist",
      message: "The specified queue does not exist.",
    });
    // The queue exists in us-east-1 only; another account's queue is not the caller's to read.
    const elsewhere = await send(ids[0] ?? "", { QueueUrl: url(ids[0] ?? "") }, "eu-west-1");
    expect(JSON.parse(String(elsewhere.body)).__type).toBe("com.amazonaws.sqs#QueueDoesNotExist");
    const other = await send(ids[0] ?? "", { QueueUrl: url(ids[4] ?? ""), AttributeNames: ["All"] });
    expect(other.status).toBe(403);
    expect(other.headers["x-amzn-query-error"]).toBe("AccessDenied;Sender");
    const bad = await send(ids[0] ?? "", { QueueUrl: url(ids[0] ?? ""), AttributeNames: ["Nope"] });
    expect(bad.headers["x-amzn-query-error"]).toBe("InvalidAttributeName;Sender");
  });
});
