import { CREATED, type SimAccounts } from "./sim-accounts";
import { type SimAnswer, SimError, type SimRequest, type SimService } from "./sim-wire";

/**
 * SQS for the simulated AWS, over the AWS JSON 1.0 protocol SDK v3 speaks to it (`X-Amz-Target:
 * AmazonSQS.<op>`): GetQueueAttributes of the member stack's forwarding dead-letter queue, which the
 * quarantine sweep reads in every account through the enforcer role (packages/aws/src/forwarding.ts).
 *
 * The queue (`queueName`) exists in `region` in each account where the quarantine is deployed (or
 * where `deployed` says), and holds what `deadLetters` says (empty by default). The queue is found by the account and name of the
 * request's `QueueUrl` in the Region of the endpoint it reached (the client does not send to the URL's
 * host: `useQueueUrlAsEndpoint: false`). Errors are SQS's JSON documents with their query-compatible
 * code in `x-amzn-query-error` (the SQS developer guide, "Interpreting Amazon SQS JSON API
 * responses"): a queue that does not exist is 400 `com.amazonaws.sqs#QueueDoesNotExist`,
 * "The specified queue does not exist.", `x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender`;
 * another account's queue (no queue policy grants it) is AccessDenied.
 */
export interface SimulatedSqsOptions {
  /** @default "orgmfa-forward-iam-events-dlq" (the member template's ForwardIamEventsDeadLetters) */
  queueName?: string;
  /** The one Region the queue exists in. @default "us-east-1" */
  region?: string;
  /** Accounts whose member stack made the queue. @default where the quarantine is deployed */
  deployed?: (accountId: string) => boolean;
  /** Messages in an account's queue: waiting, and received but not deleted. @default none */
  deadLetters?: (accountId: string) => { waiting: number; inFlight: number } | null;
}

const JSON_10 = "application/x-amz-json-1.0";
/** Each error code's query-protocol code (`x-amzn-query-error`) and its JSON `__type`. */
const ERRORS: Record<string, { query: string; type: string }> = {
  QueueDoesNotExist: { query: "AWS.SimpleQueueService.NonExistentQueue", type: "com.amazonaws.sqs#QueueDoesNotExist" },
  InvalidAttributeName: { query: "InvalidAttributeName", type: "com.amazonaws.sqs#InvalidAttributeName" },
  InvalidAddress: { query: "InvalidAddress", type: "com.amazonaws.sqs#InvalidAddress" },
  AccessDenied: { query: "AccessDenied", type: "com.amazon.coral.service#AccessDeniedException" },
  InvalidClientTokenId: {
    query: "InvalidClientTokenId",
    type: "com.amazon.coral.service#UnrecognizedClientException",
  },
  UnsupportedOperation: {
    query: "AWS.SimpleQueueService.UnsupportedOperation",
    type: "com.amazonaws.sqs#UnsupportedOperation",
  },
};
const ATTRIBUTES = new Set([
  "All",
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
  "QueueArn",
  "MessageRetentionPeriod",
  "MaximumMessageSize",
  "VisibilityTimeout",
  "DelaySeconds",
  "ReceiveMessageWaitTimeSeconds",
  "SqsManagedSseEnabled",
]);
const CREATED_S = String(Math.floor(CREATED / 1000));

export class SimulatedSqs implements SimService {
  private readonly queueName: string;
  private readonly region: string;

  constructor(
    private readonly accounts: SimAccounts,
    private readonly o: SimulatedSqsOptions = {},
  ) {
    this.queueName = o.queueName ?? "orgmfa-forward-iam-events-dlq";
    this.region = o.region ?? "us-east-1";
  }

  /** Whether an account's forwarding dead-letter queue exists (in the queue's Region). */
  queueExists(accountId: string): boolean {
    if (this.accounts.accountIndex(accountId) < 0) return false;
    return this.o.deployed ? this.o.deployed(accountId) : this.accounts.quarantineDeployed(accountId);
  }

  serve(req: SimRequest): { op: string; answer: () => SimAnswer } {
    const target = String(req.headers["x-amz-target"] ?? "");
    const op = target.startsWith("AmazonSQS.") ? target.slice("AmazonSQS.".length) : target;
    return {
      op,
      answer: () => {
        if (req.caller === null)
          throw new SimError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
        if (op !== "GetQueueAttributes")
          throw new SimError(400, "UnsupportedOperation", `the simulation does not serve SQS ${op}`);
        const input = JSON.parse(req.body.toString("utf8") || "{}") as { QueueUrl?: unknown; AttributeNames?: unknown };
        return {
          status: 200,
          headers: { "content-type": JSON_10 },
          body: JSON.stringify(this.getQueueAttributes(req, req.caller, input)),
        };
      },
    };
  }

  error(e: SimError, requestId: string): SimAnswer {
    const known = ERRORS[e.code] ?? { query: e.code, type: `com.amazonaws.sqs#${e.code}` };
    return {
      status: e.status,
      headers: {
        "content-type": JSON_10,
        "x-amzn-query-error": `${known.query};${e.type}`,
        "x-amzn-requestid": requestId,
      },
      body: JSON.stringify({ __type: known.type, message: e.message }),
    };
  }

  private getQueueAttributes(
    req: SimRequest,
    caller: string,
    input: { QueueUrl?: unknown; AttributeNames?: unknown },
  ): { Attributes?: Record<string, string> } {
    const url = typeof input.QueueUrl === "string" ? input.QueueUrl : "";
    const m = /^https?:\/\/[^/]+\/(\d{12})\/([^/?#]+)$/.exec(url);
    if (!m) throw new SimError(400, "InvalidAddress", `The address ${url} is not valid for this endpoint.`);
    const [, owner = "", name = ""] = m;
    // The queue is looked up in the Region of the endpoint the request reached.
    if (req.region !== this.region || name !== this.queueName || !this.queueExists(owner))
      throw new SimError(400, "QueueDoesNotExist", "The specified queue does not exist.");
    if (owner !== caller) throw new SimError(403, "AccessDenied", `Access to the resource ${url} is denied.`);
    const names = Array.isArray(input.AttributeNames) ? input.AttributeNames.map(String) : [];
    const unknown = names.find((n) => !ATTRIBUTES.has(n));
    if (unknown !== undefined) throw new SimError(400, "InvalidAttributeName", `Unknown Attribute ${unknown}.`);
    const letters = this.o.deadLetters?.(owner) ?? { waiting: 0, inFlight: 0 };
    const all: Record<string, string> = {
      QueueArn: `arn:aws:sqs:${this.region}:${owner}:${name}`,
      ApproximateNumberOfMessages: String(letters.waiting),
      ApproximateNumberOfMessagesNotVisible: String(letters.inFlight),
      ApproximateNumberOfMessagesDelayed: "0",
      CreatedTimestamp: CREATED_S,
      LastModifiedTimestamp: CREATED_S,
      VisibilityTimeout: "30",
      MaximumMessageSize: "262144",
      MessageRetentionPeriod: "1209600",
      DelaySeconds: "0",
      ReceiveMessageWaitTimeSeconds: "0",
      SqsManagedSseEnabled: "true",
    };
    const wanted = names.includes("All") ? Object.keys(all) : names;
    // No attribute asked for, none answered (SQS then leaves Attributes out).
    if (wanted.length === 0) return {};
    return { Attributes: Object.fromEntries(wanted.map((n) => [n, all[n] ?? ""])) };
  }
}
