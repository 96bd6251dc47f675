import { beforeEach, describe, expect, it } from "vitest";
import { ClientPool, FORWARDING_DLQ_NAME, readForwardingBacklog, readForwardingBacklogs } from "../src";
import { type Answer, assumed, loopbackAws } from "./loopback";

// A loopback STS (Query protocol, XML) and SQS (AWS JSON 1.0, as SDK v3 speaks it) answering with the
// documents AWS answers, so the SDK's own error parsing runs as it does against AWS: the missing queue
// is the SQS developer guide's own example ("Interpreting Amazon SQS JSON API responses").
const assumeDenied = (roleArn: string): Answer => ({
  status: 403,
  body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::222222222222:assumed-role/OrgMfaEnforcer/x is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
});
const json = (status: number, body: unknown, queryError?: string): Answer => ({
  status,
  headers: {
    "content-type": "application/x-amz-json-1.0",
    ...(queryError ? { "x-amzn-query-error": queryError } : {}),
  },
  body: JSON.stringify(body),
});
const noSuchQueue = json(
  400,
  { __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." },
  "AWS.SimpleQueueService.NonExistentQueue;Sender",
);

/** The SQS requests seen: target header and body. */
let sqsRequests: Array<{ target: string; body: Record<string, unknown> }>;
let answer: (service: "sts" | "sqs", form: URLSearchParams, body: Record<string, unknown>) => Answer;

const aws = loopbackAws((req, raw) => {
  const target = String(req.headers["x-amz-target"] ?? "");
  if (!target.startsWith("AmazonSQS.")) return answer("sts", new URLSearchParams(raw), {});
  const body = JSON.parse(raw || "{}") as Record<string, unknown>;
  sqsRequests.push({ target, body });
  return answer("sqs", new URLSearchParams(), body);
});
beforeEach(() => {
  sqsRequests = [];
});

const pool = () =>
  new ClientPool({
    region: "eu-west-1",
    roleName: "OrgMfaQuarantineRole",
    endpoint: aws.endpoint(),
    baseCredentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" }),
    maxAttempts: 1,
  });

describe("readForwardingBacklog: the events an account could not forward", () => {
  it("counts waiting and in-flight messages of the account's queue, named by its URL, in us-east-1", async () => {
    answer = (service, form) =>
      service === "sts"
        ? assumed(form.get("RoleArn") ?? "")
        : json(200, { Attributes: { ApproximateNumberOfMessages: "2", ApproximateNumberOfMessagesNotVisible: "1" } });
    const p = pool();
    try {
      expect(await readForwardingBacklog(p, "333333333333")).toEqual({
        accountId: "333333333333",
        events: 3,
        unknown: null,
      });
    } finally {
      p.destroy();
    }
    expect(sqsRequests).toEqual([
      {
        target: "AmazonSQS.GetQueueAttributes",
        body: {
          QueueUrl: `https://sqs.us-east-1.amazonaws.com/333333333333/${FORWARDING_DLQ_NAME}`,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        },
      },
    ]);
  });

  it("says the forwarding is not deployed when the queue does not exist (SQS's JSON error, with its query code)", async () => {
    answer = (service, form) => (service === "sts" ? assumed(form.get("RoleArn") ?? "") : noSuchQueue);
    const p = pool();
    try {
      const b = await readForwardingBacklog(p, "444444444444");
      expect(b).toMatchObject({ accountId: "444444444444", events: null, unknown: { reason: "not-deployed" } });
      expect(["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"]).toContain(b.unknown?.code);
    } finally {
      p.destroy();
    }
  });

  it("says denied when the enforcer role cannot be assumed, and error for anything else — never throws", async () => {
    answer = (service, form) =>
      service === "sts"
        ? form.get("RoleArn")?.includes(":555555555555:")
          ? assumeDenied(form.get("RoleArn") ?? "")
          : assumed(form.get("RoleArn") ?? "")
        : json(500, { __type: "com.amazonaws.sqs#InternalError", message: "We encountered an internal error." });
    const p = pool();
    try {
      const read = await readForwardingBacklogs(p, ["666666666666", "555555555555"], { concurrency: 2 });
      expect(read.map((b) => [b.accountId, b.events, b.unknown?.reason, b.unknown?.code])).toEqual([
        ["555555555555", null, "denied", "AccessDenied"],
        ["666666666666", null, "error", expect.any(String)],
      ]);
    } finally {
      p.destroy();
    }
  });
});
