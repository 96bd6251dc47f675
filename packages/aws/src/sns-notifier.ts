import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { AccountMessage, ChatMessage, Digest } from "@orgmfa/render";
import pLimit from "p-limit";
import { errorCode, errorMessage } from "./errors";

/** Publishes the scan digest; returns the message id. */
export async function publishDigest(sns: SNSClient, topicArn: string, digest: Digest): Promise<string> {
  const r = await sns.send(
    new PublishCommand({ TopicArn: topicArn, Subject: digest.subject, Message: digest.message }),
  );
  return r.MessageId ?? "";
}

/**
 * Publishes per-account messages with the `accountId` and `severity` message attributes (for
 * subscription filter policies). One Publish per message, a few at a time: PublishBatch would save
 * calls but caps a whole batch at 256 KB, and needs nothing more than sns:Publish either way.
 * A refused message is recorded and the rest still go out.
 */
export async function publishAccountMessages(
  sns: SNSClient,
  topicArn: string,
  messages: readonly AccountMessage[],
  concurrency = 8,
): Promise<{ published: number; failed: Array<{ accountId: string; code: string; message: string }> }> {
  const limit = pLimit(concurrency);
  const failed: Array<{ accountId: string; code: string; message: string }> = [];
  let published = 0;
  await Promise.all(
    messages.map((m) =>
      limit(async () => {
        try {
          await sns.send(
            new PublishCommand({
              TopicArn: topicArn,
              Subject: m.subject,
              Message: m.message,
              MessageAttributes: {
                accountId: { DataType: "String", StringValue: m.accountId },
                severity: { DataType: "String", StringValue: m.severity },
              },
            }),
          );
          published++;
        } catch (e) {
          failed.push({ accountId: m.accountId, code: errorCode(e), message: errorMessage(e) });
        }
      }),
    ),
  );
  return { published, failed };
}

/**
 * Publishes the chat digest (docs/chat-digest.md) to the chat topic — a topic of its own, never the
 * digest topic, whose e-mail subscribers would otherwise receive JSON: the organization's message
 * first, then the OUs' a few at a time. Each message is the custom notification's JSON alone, with no
 * subject and no message attributes (Amazon Q Developer reads the message body). A refused message
 * is recorded and the rest still go out.
 */
export async function publishChatDigest(
  sns: SNSClient,
  topicArn: string,
  messages: readonly ChatMessage[],
  concurrency = 4,
): Promise<{ published: number; failed: Array<{ threadId: string; code: string; message: string }> }> {
  const failed: Array<{ threadId: string; code: string; message: string }> = [];
  let published = 0;
  const send = async (m: ChatMessage) => {
    try {
      await sns.send(new PublishCommand({ TopicArn: topicArn, Message: m.message }));
      published++;
    } catch (e) {
      failed.push({ threadId: m.threadId, code: errorCode(e), message: errorMessage(e) });
    }
  };
  const [first, ...rest] = messages;
  if (first) await send(first);
  const limit = pLimit(concurrency);
  await Promise.all(rest.map((m) => limit(() => send(m))));
  return { published, failed };
}
