import { SNSClient } from "@aws-sdk/client-sns";
import type { ChatMessage, ChatNotification, Digest } from "@orgmfa/render";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { publishChatDigest, publishDigest } from "../src/sns-notifier";
import { type Answer, loopbackAws } from "./loopback";

// A loopback SNS answering Publish as AWS does (Query protocol), recording every request's form, so
// the test sees exactly what the SDK puts on the wire.
const published = (id: string): Answer => ({
  status: 200,
  body: `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${id}</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`,
});
const refused: Answer = {
  status: 400,
  body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: Message too long</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
};

let requests: URLSearchParams[] = [];
let refuse: (form: URLSearchParams) => boolean = () => false;
const aws = loopbackAws((_req, raw) => {
  const form = new URLSearchParams(raw);
  requests.push(form);
  return refuse(form) ? refused : published(`m-${requests.length}`);
});

let sns: SNSClient;
beforeEach(() => {
  requests = [];
  refuse = () => false;
  sns = new SNSClient({
    region: "eu-west-1",
    endpoint: aws.endpoint(),
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" },
    maxAttempts: 1,
  });
});
afterEach(() => sns.destroy());

const DIGEST_TOPIC = "arn:aws:sns:eu-west-1:222222222222:OrgMfaCentral-Digest";
const CHAT_TOPIC = "arn:aws:sns:eu-west-1:222222222222:OrgMfaCentral-ChatDigest";

/** Every parameter of a request but Action and Version, as a plain object. */
const params = (form: URLSearchParams) =>
  Object.fromEntries([...form.entries()].filter(([k]) => k !== "Action" && k !== "Version"));

function chat(threadId: string, description: string): ChatMessage {
  const notification: ChatNotification = {
    version: "1.0",
    source: "custom",
    content: { textType: "client-markdown", description },
    metadata: { threadId },
  };
  return {
    threadId,
    ouPath: threadId === "org" ? null : threadId,
    notification,
    message: JSON.stringify(notification),
  };
}

describe("publishDigest (e-mail)", () => {
  it("publishes the subject and the plain text as given, and nothing else: no attributes, no structure", async () => {
    const digest: Digest = {
      subject: "orgmfa: 18 users without MFA (1 exempted) in 6 of 8 accounts (6 new), 1 not audited",
      message: "orgmfa scan scan-2, finished 2026-11-21T12:00:00.000Z\n\n— ü & <b> “quoted”\n  … and 3 more\n",
    };
    expect(await publishDigest(sns, DIGEST_TOPIC, digest)).toBe("m-1");
    expect(requests).toHaveLength(1);
    expect(requests[0]?.get("Action")).toBe("Publish");
    expect(params(requests[0] ?? new URLSearchParams())).toEqual({
      TopicArn: DIGEST_TOPIC,
      Subject: digest.subject,
      Message: digest.message,
    });
  });
});

describe("publishChatDigest (Amazon Q Developer)", () => {
  it("publishes each notification's JSON alone, the organization's first, to the chat topic", async () => {
    const messages = [
      chat("org", "the organization"),
      ...Array.from({ length: 6 }, (_, i) => chat(`ou-${i}`, `OU ${i}`)),
    ];
    const r = await publishChatDigest(sns, CHAT_TOPIC, messages, 3);
    expect(r).toEqual({ published: 7, failed: [] });
    expect(requests).toHaveLength(7);
    expect(params(requests[0] ?? new URLSearchParams())).toEqual({
      TopicArn: CHAT_TOPIC,
      Message: messages[0]?.message,
    });
    for (const form of requests) {
      expect(form.get("Action")).toBe("Publish");
      expect(Object.keys(params(form)).sort()).toEqual(["Message", "TopicArn"]);
      expect(form.get("TopicArn")).toBe(CHAT_TOPIC);
    }
    const sent = requests.map((f) => JSON.parse(f.get("Message") ?? "") as ChatNotification);
    expect(new Set(sent.map((n) => n.metadata?.threadId))).toEqual(new Set(messages.map((m) => m.threadId)));
  });

  it("records a refused message and still sends the rest", async () => {
    refuse = (form) => (form.get("Message") ?? "").includes('"ou-2"');
    const messages = [chat("org", "o"), chat("ou-1", "1"), chat("ou-2", "2"), chat("ou-3", "3")];
    const r = await publishChatDigest(sns, CHAT_TOPIC, messages);
    expect(r.published).toBe(3);
    expect(r.failed).toEqual([
      { threadId: "ou-2", code: "InvalidParameterException", message: "Invalid parameter: Message too long" },
    ]);
    expect(requests).toHaveLength(4);
  });

  it("sends nothing for no message", async () => {
    expect(await publishChatDigest(sns, CHAT_TOPIC, [])).toEqual({ published: 0, failed: [] });
    expect(requests).toHaveLength(0);
  });
});
