import { randomUUID } from "node:crypto";
import { esc, queryError, queryForm, type SimAnswer, SimError, type SimRequest, type SimService } from "./sim-wire";

/**
 * SNS Publish for the simulated AWS, over the query protocol (form-encoded request, XML answer), with
 * SNS's limits: the topic must exist and belong to the caller's account, a message is at most 256 KB
 * (262,144 bytes, message attributes included) and not empty, a subject at most 100 printable ASCII
 * characters without line breaks. The messages are kept for the benchmark to read back.
 */
export interface SimSnsMessage {
  topicArn: string;
  subject: string | null;
  message: string;
  attributes: Record<string, string>;
}

const SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/";
const MAX_BYTES = 262_144;

export class SimulatedSns implements SimService {
  readonly messages: SimSnsMessage[] = [];
  refused = 0;
  readonly refusedExamples: string[] = [];

  constructor(private readonly topics: readonly string[]) {}

  serve(req: SimRequest): { op: string; answer: () => SimAnswer } {
    const { op, form } = queryForm(req);
    return {
      op,
      answer: () => {
        try {
          return this.answer(req, op, form);
        } catch (e) {
          if (e instanceof SimError && e.code === "InvalidParameter") {
            this.refused++;
            if (this.refusedExamples.length < 5) this.refusedExamples.push(e.message);
          }
          throw e;
        }
      },
    };
  }

  /** SNS's error document (query protocol, with SNS's namespace). */
  error(e: SimError, requestId: string): SimAnswer {
    return queryError(e, requestId, SNS_NS);
  }

  private answer(req: SimRequest, op: string, form: URLSearchParams): SimAnswer {
    if (req.caller === null)
      throw new SimError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
    if (op !== "Publish") throw new SimError(400, "InvalidAction", `the simulation does not serve SNS ${op}`);
    const topicArn = form.get("TopicArn") ?? "";
    if (!this.topics.includes(topicArn)) throw new SimError(404, "NotFound", "Topic does not exist");
    if (topicArn.split(":")[4] !== req.caller)
      throw new SimError(
        403,
        "AuthorizationError",
        `User: arn:aws:sts::${req.caller}:assumed-role is not authorized to perform: SNS:Publish on resource: ${topicArn}`,
      );
    const message = form.get("Message") ?? "";
    if (message.length === 0) throw new SimError(400, "InvalidParameter", "Invalid parameter: Empty message");
    const subject = form.get("Subject");
    if (subject !== null && (subject.length === 0 || subject.length > 100 || !/^[\x20-\x7e]+$/.test(subject)))
      throw new SimError(400, "InvalidParameter", "Invalid parameter: Subject");
    const attributes: Record<string, string> = {};
    for (let n = 1; form.has(`MessageAttributes.entry.${n}.Name`); n++)
      attributes[form.get(`MessageAttributes.entry.${n}.Name`) ?? ""] =
        form.get(`MessageAttributes.entry.${n}.Value.StringValue`) ?? "";
    const bytes =
      Buffer.byteLength(message) +
      Object.entries(attributes).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 6, 0);
    if (bytes > MAX_BYTES)
      throw new SimError(
        400,
        "InvalidParameter",
        `Invalid parameter: Message too long (${bytes} bytes, at most ${MAX_BYTES})`,
      );
    this.messages.push({ topicArn, subject, message, attributes });
    return {
      status: 200,
      headers: { "content-type": "text/xml" },
      body: `<PublishResponse xmlns="${SNS_NS}"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${esc(req.requestId)}</RequestId></ResponseMetadata></PublishResponse>`,
    };
  }
}
