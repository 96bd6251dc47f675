import { PublishBatchCommand, PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { AccountMessage, Digest } from "@orgmfa/core";

/** Publishes the scan digest; returns the message id. */
export async function publishDigest(sns: SNSClient, topicArn: string, digest: Digest): Promise<string> {
  const r = await sns.send(
    new PublishCommand({ TopicArn: topicArn, Subject: digest.subject, Message: digest.message }),
  );
  return r.MessageId ?? "";
}

const BATCH_BYTES = 240 * 1024;

/**
 * Publishes per-account messages with the `accountId` and `severity` message attributes (for
 * subscription filter policies), ten to a PublishBatch call and never more than SNS's 256 KB per
 * call. Returns how many were accepted and the ones SNS refused.
 */
export async function publishAccountMessages(
  sns: SNSClient,
  topicArn: string,
  messages: readonly AccountMessage[],
): Promise<{ published: number; failed: Array<{ accountId: string; code: string; message: string }> }> {
  const batches: AccountMessage[][] = [];
  let current: AccountMessage[] = [];
  let size = 0;
  for (const m of messages) {
    const bytes = Buffer.byteLength(m.message) + Buffer.byteLength(m.subject) + 64;
    if (current.length === 10 || (current.length > 0 && size + bytes > BATCH_BYTES)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += bytes;
  }
  if (current.length) batches.push(current);

  let published = 0;
  const failed: Array<{ accountId: string; code: string; message: string }> = [];
  for (const batch of batches) {
    const r = await sns.send(
      new PublishBatchCommand({
        TopicArn: topicArn,
        PublishBatchRequestEntries: batch.map((m, i) => ({
          Id: String(i),
          Subject: m.subject,
          Message: m.message,
          MessageAttributes: {
            accountId: { DataType: "String", StringValue: m.accountId },
            severity: { DataType: "String", StringValue: m.severity },
          },
        })),
      }),
    );
    published += r.Successful?.length ?? 0;
    for (const f of r.Failed ?? [])
      failed.push({
        accountId: batch[Number(f.Id)]?.accountId ?? "?",
        code: f.Code ?? "Error",
        message: f.Message ?? "",
      });
  }
  return { published, failed };
}
