import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import pLimit from "p-limit";
import type { ClientPool } from "./client-pool";
import { errorCode, errorMessage } from "./errors";

/**
 * The member template's forwarding dead-letter queue (`ForwardIamEventsDeadLetters`, its fixed
 * QueueName): where EventBridge keeps an IAM event the account could not forward to the central bus.
 */
export const FORWARDING_DLQ_NAME = "orgmfa-forward-iam-events-dlq";
/** The one region the queue exists in: IAM's CloudTrail events reach EventBridge in us-east-1 only. */
export const FORWARDING_REGION = "us-east-1";

/**
 * The queue's URL, built from its name: `https://sqs.<region>.amazonaws.com/<account>/<name>`, the
 * form the SQS developer guide gives ("Amazon SQS queue and message identifiers") and CloudFormation's
 * Ref of a queue returns. Built rather than asked for (GetQueueUrl) so that the enforcer role needs one
 * action only; the client sends it in the request body to its own regional endpoint
 * (ClientPool.sqs: `useQueueUrlAsEndpoint: false`), and SQS finds the queue by account and name.
 * docs/aws-semantics.md §12.
 */
export const forwardingDlqUrl = (accountId: string, region = FORWARDING_REGION) =>
  `https://sqs.${region}.amazonaws.com/${accountId}/${FORWARDING_DLQ_NAME}`;

/** How many IAM events one account could not forward, or why that is not known. */
export interface ForwardingBacklog {
  accountId: string;
  /**
   * Events in the account's forwarding dead-letter queue: ApproximateNumberOfMessages (waiting) plus
   * ApproximateNumberOfMessagesNotVisible (received by someone — an operator looking in the console —
   * and not deleted: still there). null when the queue could not be read.
   */
  events: number | null;
  /**
   * Why `events` is null: `not-deployed` — no such queue (QueueDoesNotExist: the account's member
   * stack forwards nothing, or its us-east-1 instance is missing); `denied` — the enforcer role may not
   * be assumed or may not read the queue (a member stack from before CountUndeliveredIamEvents); `error`
   * — anything else. null when read.
   */
  unknown: { reason: "not-deployed" | "denied" | "error"; code: string; message: string } | null;
}

/** SQS's "no such queue", as SDK v3 names it (JSON protocol: `__type`) and as its query code has it. */
const NO_SUCH_QUEUE = new Set(["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"]);
const DENIED = new Set(["AccessDenied", "AccessDeniedException"]);

/**
 * Reads how many IAM events `accountId` could not forward, through the pool's role there (the
 * sweep's: the member enforcer role), in us-east-1. Never throws: an account whose count cannot be
 * known says why.
 */
export async function readForwardingBacklog(pool: ClientPool, accountId: string): Promise<ForwardingBacklog> {
  try {
    const r = await pool.sqs(accountId, FORWARDING_REGION).send(
      new GetQueueAttributesCommand({
        QueueUrl: forwardingDlqUrl(accountId),
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const count = (value: string | undefined) => {
      const n = Number(value ?? 0);
      return Number.isFinite(n) && n > 0 ? n : 0;
    };
    const a = r.Attributes ?? {};
    return {
      accountId,
      events: count(a.ApproximateNumberOfMessages) + count(a.ApproximateNumberOfMessagesNotVisible),
      unknown: null,
    };
  } catch (e) {
    const codes = [errorCode(e), (e as { Code?: unknown } | null)?.Code].filter(
      (c): c is string => typeof c === "string",
    );
    const code = codes[0] ?? "Error";
    const reason = codes.some((c) => NO_SUCH_QUEUE.has(c))
      ? "not-deployed"
      : codes.some((c) => DENIED.has(c))
        ? "denied"
        : "error";
    return { accountId, events: null, unknown: { reason, code, message: errorMessage(e) } };
  }
}

/** The accounts' backlogs, `concurrency` accounts at once, by account id; each account's clients released after. */
export async function readForwardingBacklogs(
  pool: ClientPool,
  accountIds: readonly string[],
  o: { concurrency?: number } = {},
): Promise<ForwardingBacklog[]> {
  const limit = pLimit(Math.max(1, o.concurrency ?? 8));
  const read = await Promise.all(
    accountIds.map((accountId) =>
      limit(async () => {
        try {
          return await readForwardingBacklog(pool, accountId);
        } finally {
          pool.release(accountId);
        }
      }),
    ),
  );
  return read.sort((a, b) => a.accountId.localeCompare(b.accountId));
}

/** What the sweep reports of the forwarding: counts only (its record holds each account). */
export interface ForwardingSummary {
  /** IAM events waiting in the accounts' forwarding dead-letter queues (the IamEventsNotForwarded metric). */
  eventsNotForwarded: number;
  /** Accounts whose queue holds at least one event. */
  accountsNotForwarding: number;
  /** Accounts whose queue could not be read (most: forwarding not deployed there) — not failures. */
  accountsUnread: number;
}

export function summarizeForwarding(backlogs: readonly ForwardingBacklog[]): ForwardingSummary {
  const waiting = backlogs.filter((b) => (b.events ?? 0) > 0);
  return {
    eventsNotForwarded: waiting.reduce((n, b) => n + (b.events ?? 0), 0),
    accountsNotForwarding: waiting.length,
    accountsUnread: backlogs.filter((b) => b.events === null).length,
  };
}
