import { type Rate, RateLimiter, type SimAnswer, SimError, type SimRequest } from "./sim-wire";

/**
 * Security Hub for the simulated AWS, over its REST-JSON protocol (`POST /findings` is GetFindings,
 * `POST /findings/import` is BatchImportFindings), one hub per account in memory.
 *
 * What AWS documents and this enforces:
 * - Quotas, per account and Region: GetFindings 3 requests per second with bursts of 6 (the API
 *   reference's "throttling limits"); BatchImportFindings 10 per second with bursts of 30 (the partner
 *   guide's "Guidelines for using the BatchImportFindings API"). Beyond them the answer is what AWS
 *   sends: HTTP 429, `x-amzn-ErrorType: TooManyRequestsException`, "Too Many Requests".
 * - BatchImportFindings takes at most 100 findings; each finding must belong to the calling account
 *   (`AwsAccountId`, and the account of the default `ProductArn`), carry the required ASFF fields and
 *   be at most 240 KB, and a refused finding comes back in `FailedFindings`, the rest imported (upsert
 *   by `ProductArn` + `Id`).
 * - A new finding's top-level `Severity` and `Types` are filled from `FindingProviderFields`, and its
 *   `Workflow` starts NEW; an update keeps them (they are the customer's). Security Hub's own
 *   `ProductFields` (`aws/securityhub/…`) are added.
 * - GetFindings sees the caller's hub only; string filters with EQUALS, NOT_EQUALS, PREFIX and
 *   PREFIX_NOT_EQUALS on the fields orgmfa filters on; `MaxResults` at most 100; a filter on any
 *   other field is refused, so a new filter in the product shows up here instead of passing unchecked.
 */
export interface SecurityHubRates {
  GetFindings: Rate;
  BatchImportFindings: Rate;
}

export const SECURITY_HUB_RATES: SecurityHubRates = {
  GetFindings: { perSecond: 3, burst: 6 },
  BatchImportFindings: { perSecond: 10, burst: 30 },
};

interface Stored {
  productArn: string;
  generatorId: string;
  recordState: string;
  json: string;
}

export interface SimulatedSecurityHubStats {
  hubsWithFindings: number;
  findingsStored: number;
  activeFindings: number;
  importCalls: number;
  findingsImported: number;
  findingsRefused: number;
  getFindingsCalls: number;
  throttled: Record<string, number>;
  refusedExamples: string[];
}

const REQUIRED = [
  "SchemaVersion",
  "Id",
  "ProductArn",
  "GeneratorId",
  "AwsAccountId",
  "CreatedAt",
  "UpdatedAt",
  "Title",
  "Description",
  "Resources",
] as const;
const FILTERABLE = new Set(["GeneratorId", "RecordState", "AwsAccountId", "ProductArn", "Id", "WorkflowStatus"]);

export class SimulatedSecurityHub {
  private readonly hubs = new Map<string, Map<string, Stored>>();
  private readonly limiters: Record<keyof SecurityHubRates, RateLimiter>;
  private readonly counts = { importCalls: 0, findingsImported: 0, findingsRefused: 0, getFindingsCalls: 0 };
  private readonly refusedExamples: string[] = [];

  constructor(
    rates: SecurityHubRates | null,
    private readonly region: () => string,
    /** Accounts whose Security Hub is not enabled (their calls are refused, as AWS does). */
    private readonly disabled: (accountId: string) => boolean = () => false,
  ) {
    this.limiters = {
      GetFindings: new RateLimiter(rates?.GetFindings ?? null),
      BatchImportFindings: new RateLimiter(rates?.BatchImportFindings ?? null),
    };
  }

  /** The findings in one account's hub (parsed), for checks. */
  findings(accountId: string): Array<Record<string, unknown>> {
    return [...(this.hubs.get(accountId)?.values() ?? [])].map((s) => JSON.parse(s.json) as Record<string, unknown>);
  }

  stats(): SimulatedSecurityHubStats {
    let stored = 0;
    let active = 0;
    let hubs = 0;
    for (const h of this.hubs.values()) {
      if (h.size) hubs++;
      stored += h.size;
      for (const f of h.values()) if (f.recordState === "ACTIVE") active++;
    }
    return {
      hubsWithFindings: hubs,
      findingsStored: stored,
      activeFindings: active,
      ...this.counts,
      throttled: {
        GetFindings: this.limiters.GetFindings.throttled,
        BatchImportFindings: this.limiters.BatchImportFindings.throttled,
      },
      refusedExamples: [...this.refusedExamples],
    };
  }

  serve(req: SimRequest): { op: string; answer: () => SimAnswer } {
    const op =
      req.method === "POST" && req.path === "/findings"
        ? "GetFindings"
        : req.method === "POST" && req.path === "/findings/import"
          ? "BatchImportFindings"
          : `${req.method} ${req.path}`;
    return {
      op,
      answer: () => {
        const caller = req.caller;
        if (caller === null)
          throw new SimError(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
          );
        if (op !== "GetFindings" && op !== "BatchImportFindings")
          throw new SimError(404, "UnknownOperationException", `the simulation does not serve Security Hub ${op}`);
        if (!this.limiters[op].take(caller, req.now))
          throw new SimError(429, "TooManyRequestsException", "Too Many Requests");
        if (this.disabled(caller))
          throw new SimError(401, "InvalidAccessException", `Account ${caller} is not subscribed to AWS Security Hub`);
        let input: Record<string, unknown>;
        try {
          input = JSON.parse(req.body.toString("utf8") || "{}") as Record<string, unknown>;
        } catch {
          throw new SimError(400, "InvalidInputException", "the request body is not JSON");
        }
        const body =
          op === "GetFindings" ? this.getFindings(caller, input) : this.importFindings(caller, input, req.now);
        return { status: 200, headers: { "content-type": "application/json" }, body };
      },
    };
  }

  private hub(accountId: string): Map<string, Stored> {
    let h = this.hubs.get(accountId);
    if (!h) {
      h = new Map();
      this.hubs.set(accountId, h);
    }
    return h;
  }

  private getFindings(caller: string, input: Record<string, unknown>): string {
    this.counts.getFindingsCalls++;
    const max = Number(input.MaxResults ?? 100);
    if (!Number.isInteger(max) || max < 1 || max > 100)
      throw new SimError(400, "InvalidInputException", "MaxResults must be between 1 and 100");
    const filters = (input.Filters ?? {}) as Record<string, Array<{ Value?: string; Comparison?: string }>>;
    for (const field of Object.keys(filters))
      if (!FILTERABLE.has(field))
        throw new SimError(400, "InvalidInputException", `the simulation does not filter on ${field}`);
    const fieldOf = (s: Stored, field: string, accountId: string): string => {
      switch (field) {
        case "GeneratorId":
          return s.generatorId;
        case "RecordState":
          return s.recordState;
        case "AwsAccountId":
          return accountId;
        case "ProductArn":
          return s.productArn;
        case "WorkflowStatus":
          return String((JSON.parse(s.json) as { Workflow?: { Status?: string } }).Workflow?.Status ?? "");
        default:
          return String((JSON.parse(s.json) as Record<string, unknown>)[field] ?? "");
      }
    };
    const matches = (s: Stored, id: string): boolean =>
      Object.entries(filters).every(([field, conditions]) => {
        const v = field === "Id" ? id : fieldOf(s, field, caller);
        const positive = conditions.filter((c) => c.Comparison === "EQUALS" || c.Comparison === "PREFIX");
        const negative = conditions.filter(
          (c) => c.Comparison === "NOT_EQUALS" || c.Comparison === "PREFIX_NOT_EQUALS",
        );
        if (positive.length + negative.length !== conditions.length)
          throw new SimError(400, "InvalidInputException", `unsupported comparison in the ${field} filter`);
        const hit = (c: { Value?: string; Comparison?: string }) =>
          c.Comparison?.startsWith("PREFIX") ? v.startsWith(c.Value ?? "") : v === c.Value;
        return (positive.length === 0 || positive.some(hit)) && !negative.some(hit);
      });
    const all = [...this.hub(caller).entries()].filter(([id, s]) => matches(s, id));
    const start = input.NextToken ? Number(Buffer.from(String(input.NextToken), "base64").toString("utf8")) : 0;
    if (!Number.isInteger(start) || start < 0) throw new SimError(400, "InvalidInputException", "invalid NextToken");
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString("base64") : null;
    return `{"Findings":[${page.map(([, s]) => s.json).join(",")}]${next ? `,"NextToken":${JSON.stringify(next)}` : ""}}`;
  }

  /** Why Security Hub would refuse one finding of `caller`, or null. */
  private refusal(caller: string, f: Record<string, unknown>, size: number): string | null {
    for (const field of REQUIRED) if (f[field] === undefined || f[field] === "") return `${field} is required`;
    const fpf = f.FindingProviderFields as { Severity?: { Label?: string }; Types?: string[] } | undefined;
    if (!f.Severity && !fpf?.Severity?.Label) return "Severity or FindingProviderFields.Severity is required";
    if (!f.Types && !fpf?.Types?.length) return "Types or FindingProviderFields.Types is required";
    if (f.SchemaVersion !== "2018-10-08") return `unsupported SchemaVersion ${String(f.SchemaVersion)}`;
    if (f.AwsAccountId !== caller) return `AwsAccountId ${String(f.AwsAccountId)} is not the calling account ${caller}`;
    const product = `arn:aws:securityhub:${this.region()}:${caller}:product/${caller}/default`;
    if (f.ProductArn !== product) return `ProductArn ${String(f.ProductArn)} is not ${product}`;
    if (String(f.Id).length > 512) return "Id longer than 512 characters";
    if (String(f.Title).length > 256) return "Title longer than 256 characters";
    if (String(f.Description).length > 1024) return "Description longer than 1024 characters";
    const pf = (f.ProductFields ?? {}) as Record<string, string>;
    if (Object.keys(pf).length > 50) return "more than 50 ProductFields";
    for (const [k, v] of Object.entries(pf))
      if (k.length > 128 || String(v).length > 2048) return `ProductFields ${k} is too long`;
    if (size > 240 * 1024) return "finding larger than 240 KB";
    if (Number.isNaN(Date.parse(String(f.CreatedAt))) || Number.isNaN(Date.parse(String(f.UpdatedAt))))
      return "CreatedAt and UpdatedAt must be ISO 8601 timestamps";
    return null;
  }

  private importFindings(caller: string, input: Record<string, unknown>, now: number): string {
    this.counts.importCalls++;
    const findings = input.Findings;
    if (!Array.isArray(findings) || findings.length === 0)
      throw new SimError(400, "InvalidInputException", "Findings must list at least one finding");
    if (findings.length > 100)
      throw new SimError(400, "InvalidInputException", "BatchImportFindings accepts at most 100 findings");
    const hub = this.hub(caller);
    const failed: Array<{ Id: string; ErrorCode: string; ErrorMessage: string }> = [];
    for (const f of findings as Array<Record<string, unknown>>) {
      const json = JSON.stringify(f);
      const why = this.refusal(caller, f, Buffer.byteLength(json));
      if (why) {
        failed.push({ Id: String(f.Id ?? ""), ErrorCode: "InvalidInput", ErrorMessage: why });
        if (this.refusedExamples.length < 5) this.refusedExamples.push(`${caller}: ${String(f.Id)}: ${why}`);
        continue;
      }
      const id = String(f.Id);
      const before = hub.get(id);
      const old = before ? (JSON.parse(before.json) as Record<string, unknown>) : null;
      const fpf = f.FindingProviderFields as { Severity?: Record<string, unknown>; Types?: string[] } | undefined;
      const stored: Record<string, unknown> = {
        ...f,
        RecordState: f.RecordState ?? "ACTIVE",
        // The customer's fields: set from the provider's on a new finding, kept on an update.
        Severity: old?.Severity ?? f.Severity ?? fpf?.Severity,
        Types: old?.Types ?? f.Types ?? fpf?.Types,
        Workflow: old?.Workflow ?? { Status: "NEW" },
        WorkflowState: old?.WorkflowState ?? "NEW",
        ProductFields: {
          ...((f.ProductFields ?? {}) as Record<string, string>),
          "aws/securityhub/FindingId": `arn:aws:securityhub:${this.region()}:${caller}:product/${caller}/default/${id}`,
          "aws/securityhub/ProductName": "Default",
          "aws/securityhub/CompanyName": "Personal",
        },
        ProcessedAt: new Date(now).toISOString(),
        FirstObservedAt: old?.FirstObservedAt ?? f.FirstObservedAt,
      };
      hub.set(id, {
        productArn: String(f.ProductArn),
        generatorId: String(f.GeneratorId),
        recordState: String(stored.RecordState),
        json: JSON.stringify(stored),
      });
      this.counts.findingsImported++;
    }
    this.counts.findingsRefused += failed.length;
    return JSON.stringify({
      FailedCount: failed.length,
      SuccessCount: findings.length - failed.length,
      FailedFindings: failed,
    });
  }

  /** Security Hub's error document (REST-JSON, the code in `x-amzn-ErrorType`). */
  static error(e: SimError, requestId: string): SimAnswer {
    return {
      status: e.status,
      headers: {
        "content-type": "application/json",
        "x-amzn-errortype": e.code,
        "x-amzn-requestid": requestId,
      },
      body:
        e.code === "TooManyRequestsException"
          ? JSON.stringify({ message: e.message })
          : JSON.stringify({ Code: e.code, Message: e.message }),
    };
  }
}
