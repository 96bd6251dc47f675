import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { AccountMessage, Digest } from "@orgmfa/render";
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
