import { Readable } from "node:stream";
import type { ScanReport } from "@orgmfa/core";
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from "@smithy/types";
import { type AccountFailure, type OrgShape, type UserKind, uniformOrg, userKind } from "./org-spec";
import { esc, isoSeconds, type Rate, RateLimiter, type SimAnswer, SimError, type SimRequest } from "./sim-wire";
import { SimulatedS3 } from "./simulated-s3";
import { SECURITY_HUB_RATES, type SecurityHubRates, SimulatedSecurityHub } from "./simulated-securityhub";
import { SimulatedSns } from "./simulated-sns";
import { expectedVerdict, verdictOf } from "./verdicts";

/**
 * A simulated AWS for the real SDK clients: it answers each signed request the way AWS would — the
 * same wire protocols (IAM, STS and SNS over the query protocol with XML answers, Organizations over
 * JSON 1.1, S3 over REST-XML, Security Hub over REST-JSON), well-formed generated answers, real error
 * codes — after a fixed latency. In process it is an HTTP handler (the SDK's `requestHandler`), without
 * a network; `sim-server.ts` puts it behind a loopback HTTP server for SDK clients in other processes
 * (the deployed handlers, bundled, pointed at it with `AWS_ENDPOINT_URL`). Used where the emulator
 * cannot go: ten thousand accounts (`bench/scale.bench.ts`), and the deployed workflow at that size
 * (`bench/pipeline.bench.ts`).
 *
 * Requests are routed by the service their signature names (`Credential=…/<region>/<service>/…`), so
 * one endpoint serves every service. The caller's account comes from the signing key: the base
 * credentials (`AKIASIMULATED…`) act in the scanner's account, the credentials AssumeRole hands out
 * (`ASIA<account id>…`) in that account.
 *
 * The organization is generated, never stored: account `i` has id `100000000000 + i`, sits in one of
 * `ous` leaf OUs, and has `usersPerAccount` users in the benchmark's mix (`userKind`), so the truth
 * about every user is known without memory that grows with the organization. What changes is kept
 * per account: when its credential report was generated, and its request-rate bucket. What the
 * handlers write — S3 objects (`simulated-s3.ts`), Security Hub findings (`simulated-securityhub.ts`),
 * SNS messages (`simulated-sns.ts`) — is kept in memory.
 *
 * Timing model: a request is served when it arrives (state changes then) and answered `latencyMs`
 * later. GenerateCredentialReport starts a report when there is none younger than four hours (IAM's
 * rule); it is COMPLETE `reportReadyMs` after it started. IAM requests of one account draw from a
 * token bucket (`iamRate`); an empty bucket is answered with IAM's real throttling error (400
 * `Throttling`, "Rate exceeded"), which the SDK's retry strategy recognises. Organizations and Security
 * Hub have their own buckets and errors (see their options).
 */
export interface SimulatedAwsOptions {
  /** Accounts, the management account (the caller's) included. */
  accounts: number;
  /** Users in every account, unless `shape` says otherwise. */
  usersPerAccount: number;
  /**
   * Users per account, accounts that cannot be scanned and accounts without the quarantine, by
   * account index (`org-spec.ts`: `heavyTailedOrg`). @default every account `usersPerAccount` users, none failing
   */
  shape?: OrgShape;
  /** The member enforcer role (the quarantine's), assumable where the shape deploys the quarantine. @default "OrgMfaQuarantineRole" */
  enforcerRoleName?: string;
  /** The quarantine group (and its policy, `<group>Policy`) where the quarantine is deployed. @default "OrgMfaQuarantine" */
  quarantineGroupName?: string;
  /** Added to every request. @default 100 */
  latencyMs?: number;
  /** How long a new credential report takes. @default 2000 */
  reportReadyMs?: number;
  /**
   * IAM's per-account request rate. AWS does not publish it; the default, 20 requests per second
   * with bursts of 40, is an assumption of the same order as the account-level rates AWS does
   * publish for comparable read APIs. `null` turns throttling off.
   */
  iamRate?: Rate | null;
  /**
   * Organizations' request rate, one bucket for the whole organization (its quotas apply at the
   * organization level). AWS does not publish it (awsdocs/aws-organizations-docs#39); beyond it the
   * answer is Organizations' 400 `TooManyRequestsException`, "You have sent too many requests in too
   * short a period of time". `null` (the default) turns throttling off; the workflow benchmark assumes
   * 10 per second with bursts of 20.
   */
  organizationsRate?: Rate | null;
  /** Security Hub's per-account quotas (see `simulated-securityhub.ts`). `null` turns them off. @default AWS's */
  securityHubRates?: SecurityHubRates | null;
  /** Accounts without Security Hub enabled. @default none */
  securityHubDisabled?: (accountId: string) => boolean;
  /** Leaf OUs the accounts are spread over (under `ouParents` parents). @default 40 */
  ous?: number;
  /** @default 10 */
  ouParents?: number;
  /** Every n-th account's root user has no MFA (a finding per n accounts). @default 25 */
  rootWithoutMfaEvery?: number;
  /** Accounts whose credential report was generated this long before the simulation started (a report another tool left). */
  reportAgeMs?: (accountId: string) => number | null;
  /** The name of the role the scanner may assume in every account. @default "OrgMfaAuditRole" */
  auditRoleName?: string;
  /**
   * The account the base credentials act in: the management account (0) as the CLI is often run, or
   * a member account — the delegated-administrator account the workflow is deployed to, which reaches
   * Organizations through the management account's audit role. @default 0
   */
  scannerAccountIndex?: number;
  /** S3 buckets that exist (in the scanner's account). @default [] */
  buckets?: readonly string[];
  /** The KMS key objects are expected to be written with: objects without it are counted. */
  kmsKeyId?: string;
  /** SNS topics that exist. @default [] */
  topics?: readonly string[];
  /** The Region the handlers run in (Security Hub's product ARNs). @default "us-east-1" */
  region?: string;
}

export interface SimulatedAwsStats {
  calls: number;
  byOperation: Record<string, number>;
  throttled: number;
  /** Throttling answers by service. */
  throttledByService: Record<string, number>;
  peakInFlight: number;
}

const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/";
const FOUR_HOURS_MS = 4 * 3600_000;
const FIRST_ACCOUNT = 100_000_000_000;
const ORG_ID = "o-simulated01";
const CREATED = Date.parse("2024-01-02T03:04:05Z");

/** What a generated user is, by index in its account. */
export interface SimUser {
  name: string;
  kind: UserKind;
  console: boolean;
  activeKeys: number;
  device: "virtual" | "hardware" | "fido" | null;
}

export function simUser(i: number): SimUser {
  const kind = userKind(i);
  return {
    name: `user-${String(i).padStart(3, "0")}`,
    kind,
    console: kind !== "keyOnly" && kind !== "none",
    activeKeys: kind === "keyOnly" ? 1 : 0,
    device: kind === "virtual" || kind === "hardware" || kind === "fido" ? kind : null,
  };
}

/** A request as it arrived over HTTP (`sim-server.ts`). */
export interface RawHttpRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class SimulatedAws {
  readonly metadata = { handlerProtocol: "http/1.1" };
  readonly managementAccountId: string;
  /** The account the base credentials act in. */
  readonly scannerAccountId: string;
  readonly s3: SimulatedS3;
  readonly securityHub: SimulatedSecurityHub;
  readonly sns: SimulatedSns;
  private readonly o: Required<
    Omit<
      SimulatedAwsOptions,
      | "iamRate"
      | "reportAgeMs"
      | "organizationsRate"
      | "securityHubRates"
      | "securityHubDisabled"
      | "kmsKeyId"
      | "buckets"
      | "topics"
      | "shape"
    >
  >;
  private readonly shape: OrgShape;
  /** Users of each size of account, made once (accounts share them: the truth is by index in the account). */
  private readonly usersBySize = new Map<number, SimUser[]>();
  /** The quarantine's state, per account: the group's members, and the users the policy is attached to. */
  private readonly groupMembers = new Map<string, Set<string>>();
  private readonly policyUsers = new Map<string, Set<string>>();
  /** When each account's latest credential report was started (epoch ms). */
  private readonly reports = new Map<string, number>();
  private readonly iamLimiter: RateLimiter;
  private readonly orgLimiter: RateLimiter;
  private readonly byOperation = new Map<string, number>();
  /** First and last arrival of each operation (epoch ms). */
  private readonly opTimes = new Map<string, { first: number; last: number }>();
  private calls = 0;
  private inFlight = 0;
  private peak = 0;
  private keySerial = 0;
  /** Per account: when its AssumeRole arrived and when the last answer to it was sent (epoch ms). */
  private readonly spans = new Map<string, { first: number; last: number }>();

  constructor(options: SimulatedAwsOptions) {
    this.o = {
      latencyMs: 100,
      reportReadyMs: 2000,
      ous: 40,
      ouParents: 10,
      rootWithoutMfaEvery: 25,
      auditRoleName: "OrgMfaAuditRole",
      enforcerRoleName: "OrgMfaQuarantineRole",
      quarantineGroupName: "OrgMfaQuarantine",
      scannerAccountIndex: 0,
      region: "us-east-1",
      ...options,
    };
    this.shape = options.shape ?? uniformOrg(options.usersPerAccount);
    this.iamLimiter = new RateLimiter(options.iamRate === undefined ? { perSecond: 20, burst: 40 } : options.iamRate);
    this.orgLimiter = new RateLimiter(options.organizationsRate ?? null);
    this.managementAccountId = this.accountId(0);
    this.scannerAccountId = this.accountId(this.o.scannerAccountIndex);
    this.s3 = new SimulatedS3(options.buckets ?? [], () => this.scannerAccountId, options.kmsKeyId);
    this.securityHub = new SimulatedSecurityHub(
      options.securityHubRates === undefined ? SECURITY_HUB_RATES : options.securityHubRates,
      () => this.o.region,
      options.securityHubDisabled,
    );
    this.sns = new SimulatedSns(options.topics ?? []);
    const start = Date.now();
    for (let i = 0; i < this.o.accounts; i++) {
      const id = this.accountId(i);
      const age = options.reportAgeMs?.(id);
      if (age !== null && age !== undefined) this.reports.set(id, start - age - this.o.reportReadyMs);
    }
  }

  accountId(i: number): string {
    return String(FIRST_ACCOUNT + i);
  }

  accountIndex(accountId: string): number {
    const i = Number(accountId) - FIRST_ACCOUNT;
    return Number.isInteger(i) && i >= 0 && i < this.o.accounts ? i : -1;
  }

  /** Whether the root user of an account has MFA (the simulation's truth). */
  rootHasMfa(accountId: string): boolean {
    return this.accountIndex(accountId) % this.o.rootWithoutMfaEvery !== 1;
  }

  /** The users of an account (of every account without one: the `usersPerAccount` of a uniform organization). */
  users(accountId?: string): SimUser[] {
    const n = accountId === undefined ? this.o.usersPerAccount : this.shape.users(this.accountIndex(accountId));
    let list = this.usersBySize.get(n);
    if (!list) {
      list = Array.from({ length: n }, (_, i) => simUser(i));
      this.usersBySize.set(n, list);
    }
    return list;
  }

  /** How an account fails to be scanned (the shape's), or null. */
  failure(accountId: string): AccountFailure | null {
    const i = this.accountIndex(accountId);
    return i < 0 ? null : this.shape.failure(i);
  }

  /** Whether the quarantine (enforcer role, group, policy) is deployed in an account. */
  quarantineDeployed(accountId: string): boolean {
    const i = this.accountIndex(accountId);
    return i >= 0 && this.shape.quarantineDeployed(i) && this.failure(accountId) !== "assume-role-denied";
  }

  /** Who is quarantined in an account now (the group's members and the policy's users), sorted. */
  quarantinedUsers(accountId: string): string[] {
    return [
      ...new Set([...(this.groupMembers.get(accountId) ?? []), ...(this.policyUsers.get(accountId) ?? [])]),
    ].sort();
  }

  /** The OU ids from the root down to an account's parent (AccountTarget.ouIds), as Discover lists them. */
  ouPath(accountId: string): string[] {
    const leaf = this.leafOf(this.accountIndex(accountId));
    if (leaf === null) return [this.rootId];
    return [this.rootId, this.ouId(Number(leaf.slice(-8)) % this.o.ouParents), leaf];
  }

  /** The id of the `n`-th OU directly under the root (0-based; there are `ouParents`). */
  parentOuId(n: number): string {
    return this.ouId(n);
  }

  /** Accounts the shape fails (assume-role denied, throttled beyond retries). */
  failingAccounts(): number {
    let n = 0;
    for (let i = 0; i < this.o.accounts; i++) if (this.shape.failure(i) !== null) n++;
    return n;
  }

  /** Users in heavy accounts and in all, over every account (the shape's). */
  userCounts(heavyFrom = 100): { users: number; heavyAccounts: number; maxUsers: number } {
    let users = 0;
    let heavyAccounts = 0;
    let maxUsers = 0;
    for (let i = 0; i < this.o.accounts; i++) {
      const n = this.shape.users(i);
      users += n;
      if (n >= heavyFrom) heavyAccounts++;
      maxUsers = Math.max(maxUsers, n);
    }
    return { users, heavyAccounts, maxUsers };
  }

  /** Users of every account the simulation lets be scanned: what a report compares. */
  expectedUsers(): number {
    let n = 0;
    for (let i = 0; i < this.o.accounts; i++) if (this.shape.failure(i) === null) n += this.shape.users(i);
    return n;
  }

  /**
   * How long each account's scan took, from its AssumeRole's arrival to the last answer sent to its
   * role session (ms), in account order.
   */
  accountSpansMs(): number[] {
    return [...this.spans.values()].map((s) => s.last - s.first);
  }

  /** When an operation first and last arrived (epoch ms), or undefined if it never did. */
  operationTimes(op: string): { first: number; last: number } | undefined {
    return this.opTimes.get(op);
  }

  /** Forgets when operations first and last arrived: {@link operationTimes} counts from now on. */
  resetOperationTimes(): void {
    this.opTimes.clear();
  }

  /**
   * Every credential report generated so far becomes `ms` older, as if that much time had passed
   * (a day between two daily runs: IAM then generates a new report, older than four hours).
   */
  ageCredentialReports(ms: number): void {
    for (const [id, started] of this.reports) this.reports.set(id, started - ms);
  }

  private touch(accountId: string, t: number, first: boolean): void {
    const s = this.spans.get(accountId);
    if (!s) this.spans.set(accountId, { first: t, last: t });
    else if (first) s.first = Math.min(s.first, t);
    else s.last = Math.max(s.last, t);
  }

  stats(): SimulatedAwsStats {
    const hub = this.securityHub.stats().throttled;
    const throttledByService = {
      iam: this.iamLimiter.throttled,
      organizations: this.orgLimiter.throttled,
      securityhub: (hub.GetFindings ?? 0) + (hub.BatchImportFindings ?? 0),
    };
    return {
      calls: this.calls,
      byOperation: Object.fromEntries([...this.byOperation].sort((a, b) => b[1] - a[1])),
      throttled: Object.values(throttledByService).reduce((n, x) => n + x, 0),
      throttledByService,
      peakInFlight: this.peak,
    };
  }

  // ---- the SDK's HttpHandler interface -------------------------------------------------------------
  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
  destroy(): void {}

  async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const arrived = Date.now();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = String(v);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(request.query ?? {}))
      for (const x of Array.isArray(v) ? v : [v]) query.append(k, x ?? "");
    const answer = await this.respond(
      {
        method: request.method,
        path: request.path,
        hostname: request.hostname,
        query,
        headers,
        body: await bodyBytes(request.body),
        arrived,
      },
      options.abortSignal as globalThis.AbortSignal | undefined,
    );
    const body = typeof answer.body === "string" ? Buffer.from(answer.body, "utf8") : answer.body;
    return {
      response: {
        statusCode: answer.status,
        reason: undefined,
        headers: { "content-length": String(body.length), ...answer.headers },
        body: answer.streaming ? Readable.from([body]) : new Uint8Array(body.buffer, body.byteOffset, body.length),
      },
    };
  }

  /** One request that arrived over HTTP, answered after the simulated latency. */
  async serveHttp(raw: RawHttpRequest): Promise<SimAnswer> {
    const arrived = Date.now();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw.headers))
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(",") : v;
    const q = raw.url.indexOf("?");
    return this.respond({
      method: raw.method,
      path: q < 0 ? raw.url : raw.url.slice(0, q),
      hostname: (headers.host ?? "").replace(/:\d+$/, ""),
      query: new URLSearchParams(q < 0 ? "" : raw.url.slice(q + 1)),
      headers,
      body: raw.body,
      arrived,
    });
  }

  private async respond(
    r: Omit<SimRequest, "service" | "caller" | "now" | "requestId"> & { arrived: number },
    signal?: globalThis.AbortSignal,
  ): Promise<SimAnswer> {
    this.calls++;
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    try {
      const auth = r.headers.authorization ?? "";
      // The signing scope names the service: one endpoint (AWS_ENDPOINT_URL) serves them all.
      const service = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? r.hostname.split(".")[0] ?? "";
      const req: SimRequest = {
        ...r,
        service,
        caller: this.callerAccount(auth),
        now: r.arrived,
        requestId: this.requestId(),
      };
      let answer: SimAnswer;
      try {
        answer = this.serve(req);
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        answer = this.error(service, e, req.requestId);
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, this.o.latencyMs);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      const inSession = auth.includes("Credential=ASIA");
      if (service === "iam" && req.caller !== null && inSession) this.touch(req.caller, Date.now(), false);
      answer.headers["x-amzn-requestid"] ??= req.requestId;
      if (service === "s3") answer.headers["x-amz-request-id"] ??= req.requestId;
      return answer;
    } finally {
      this.inFlight--;
    }
  }

  // ---- routing -------------------------------------------------------------------------------------
  private serve(req: SimRequest): SimAnswer {
    const { service, caller, now } = req;
    if (service === "s3" || service === "securityhub") {
      const { op, answer } = service === "s3" ? this.s3.serve(req) : this.securityHub.serve(req);
      this.count(op, now);
      return answer();
    }
    const body = req.body.toString("utf8");
    if (service === "organizations") {
      const op = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      this.count(op, now);
      if (!this.orgLimiter.take("organization", now))
        throw new SimError(
          400,
          "TooManyRequestsException",
          "You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.",
        );
      if (caller !== this.managementAccountId)
        throw new SimError(400, "AccessDeniedException", "You don't have permissions to access this resource.");
      const input = JSON.parse(body || "{}") as Record<string, unknown>;
      return {
        status: 200,
        headers: { "content-type": "application/x-amz-json-1.1" },
        body: JSON.stringify(this.organizations(op, input)),
      };
    }
    const form = new URLSearchParams(body);
    if (service === "sns") {
      const { op, answer } = this.sns.serve(req, form);
      this.count(op, now);
      return answer();
    }
    const op = form.get("Action") ?? "";
    this.count(op, now);
    if (service === "sts") return this.xml(op, STS_NS, this.sts(op, form, caller, now));
    if (service === "iam") {
      if (caller === null)
        throw new SimError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
      // An account the shape throttles answers every request so, whatever the retries.
      if (this.failure(caller) === "throttled") {
        this.iamLimiter.throttled++;
        throw new SimError(400, "Throttling", "Rate exceeded");
      }
      if (!this.iamLimiter.take(caller, now)) throw new SimError(400, "Throttling", "Rate exceeded");
      return this.xml(op, IAM_NS, this.iam(op, form, caller, now));
    }
    throw new SimError(400, "UnknownService", `the simulation does not serve ${service} (${req.hostname})`);
  }

  private count(op: string, now: number): void {
    this.byOperation.set(op, (this.byOperation.get(op) ?? 0) + 1);
    const t = this.opTimes.get(op);
    if (t) t.last = now;
    else this.opTimes.set(op, { first: now, last: now });
  }

  /** The account a request acts in, from the access key that signed it. */
  private callerAccount(authorization: string): string | null {
    const key = /Credential=([A-Z0-9]+)\//.exec(authorization)?.[1] ?? "";
    if (key.startsWith("AKIASIMULATED")) return this.scannerAccountId;
    const m = /^ASIA(\d{12})/.exec(key);
    return m?.[1] && this.accountIndex(m[1]) >= 0 ? m[1] : null;
  }

  private requestId(): string {
    return `00000000-0000-4000-8000-${String(this.calls).padStart(12, "0")}`;
  }

  private xml(op: string, ns: string, result: string): SimAnswer {
    return {
      status: 200,
      headers: { "content-type": "text/xml" },
      body: `<${op}Response xmlns="${ns}"><${op}Result>${result}</${op}Result><ResponseMetadata><RequestId>${this.requestId()}</RequestId></ResponseMetadata></${op}Response>`,
    };
  }

  private error(service: string, e: SimError, requestId: string): SimAnswer {
    if (service === "s3") return SimulatedS3.error(e, requestId);
    if (service === "securityhub") return SimulatedSecurityHub.error(e, requestId);
    if (service === "organizations")
      return {
        status: e.status,
        headers: { "content-type": "application/x-amz-json-1.1" },
        body: JSON.stringify({ __type: e.code, Message: e.message }),
      };
    const ns = service === "sns" ? ` xmlns="${SNS_NS}"` : "";
    return {
      status: e.status,
      headers: { "content-type": "text/xml" },
      body: `<ErrorResponse${ns}><Error><Type>${e.type}</Type><Code>${e.code}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }

  // ---- STS -----------------------------------------------------------------------------------------
  private sts(op: string, form: URLSearchParams, caller: string | null, now: number): string {
    if (op === "GetCallerIdentity") {
      if (!caller)
        throw new SimError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
      return `<Arn>arn:aws:iam::${caller}:user/scanner</Arn><UserId>AIDASIMULATED</UserId><Account>${caller}</Account>`;
    }
    if (op === "AssumeRole") {
      const roleArn = form.get("RoleArn") ?? "";
      const m = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(roleArn);
      const target = m?.[1] ?? "";
      // The audit role everywhere, the enforcer role where the quarantine is deployed; neither where the
      // shape denies the account's roles.
      const role = m?.[2];
      const exists =
        !!m &&
        this.accountIndex(target) >= 0 &&
        this.failure(target) !== "assume-role-denied" &&
        (role === this.o.auditRoleName || (role === this.o.enforcerRoleName && this.quarantineDeployed(target)));
      if (!exists) throw new SimError(403, "AccessDenied", `not authorized to perform sts:AssumeRole on ${roleArn}`);
      this.touch(target, now, true);
      const key = `ASIA${target}${String(++this.keySerial % 10_000).padStart(4, "0")}`;
      const session = form.get("RoleSessionName") ?? "session";
      return `<Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>simulated-secret</SecretAccessKey><SessionToken>simulated-token</SessionToken><Expiration>${isoSeconds(now + 3600_000)}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROASIMULATED:${esc(session)}</AssumedRoleId><Arn>arn:aws:sts::${target}:assumed-role/${esc(m[2] ?? "")}/${esc(session)}</Arn></AssumedRoleUser>`;
    }
    throw new SimError(400, "InvalidAction", `STS ${op} is not simulated`);
  }

  // ---- IAM -----------------------------------------------------------------------------------------
  private userArn(accountId: string, name: string): string {
    return `arn:aws:iam::${accountId}:user/${name}`;
  }

  private userXml(accountId: string, u: SimUser, i: number): string {
    const used = u.console ? `<PasswordLastUsed>${isoSeconds(CREATED + 86_400_000 * 30)}</PasswordLastUsed>` : "";
    return `<member><Path>/</Path><UserName>${u.name}</UserName><UserId>AIDA${accountId}${String(i).padStart(5, "0")}</UserId><Arn>${this.userArn(accountId, u.name)}</Arn><CreateDate>${isoSeconds(CREATED + i * 1000)}</CreateDate>${used}</member>`;
  }

  private page<T>(items: T[], form: URLSearchParams, defaultMax: number): { items: T[]; more: string } {
    const start = Number(form.get("Marker") ?? 0);
    const max = Number(form.get("MaxItems") ?? defaultMax);
    const slice = items.slice(start, start + max);
    const next = start + max;
    return {
      items: slice,
      more:
        next < items.length
          ? `<IsTruncated>true</IsTruncated><Marker>${next}</Marker>`
          : "<IsTruncated>false</IsTruncated>",
    };
  }

  private policyArn(accountId: string): string {
    return `arn:aws:iam::${accountId}:policy/${this.o.quarantineGroupName}Policy`;
  }

  private groupXml(accountId: string): string {
    const g = this.o.quarantineGroupName;
    return `<member><Path>/</Path><GroupName>${g}</GroupName><GroupId>AGPA${accountId}</GroupId><Arn>arn:aws:iam::${accountId}:group/${g}</Arn><CreateDate>${isoSeconds(CREATED)}</CreateDate></member>`;
  }

  /** The quarantine group, which exists where the quarantine is deployed (and no other group does). */
  private quarantineGroup(accountId: string, name: string | null): void {
    if (name !== this.o.quarantineGroupName || !this.quarantineDeployed(accountId))
      throw new SimError(404, "NoSuchEntity", `The group with name ${name} cannot be found.`);
  }

  private findUser(form: URLSearchParams, accountId: string): { user: SimUser; index: number } {
    const name = form.get("UserName") ?? "";
    const index = Number(/^user-(\d+)$/.exec(name)?.[1] ?? -1);
    if (index < 0 || index >= this.users(accountId).length)
      throw new SimError(404, "NoSuchEntity", `The user with name ${name} cannot be found.`);
    return { user: simUser(index), index };
  }

  private deviceSerial(accountId: string, u: SimUser): string {
    if (u.device === "virtual") return `arn:aws:iam::${accountId}:mfa/${u.name}`;
    if (u.device === "fido") return `arn:aws:iam::${accountId}:u2f/user/${u.name}/fido-${u.name}`;
    return `GAHT${accountId.slice(-8)}`;
  }

  private reportCsv(accountId: string, generatedAt: number): string {
    const header =
      "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    const created = isoSeconds(CREATED - 86_400_000).replace("Z", "+00:00");
    const rootMfa = this.rootHasMfa(accountId);
    const lines = [
      header,
      `<root_account>,arn:aws:iam::${accountId}:root,${created},not_supported,${isoSeconds(generatedAt - 86_400_000).replace("Z", "+00:00")},not_supported,not_supported,${rootMfa},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`,
    ];
    this.users(accountId).forEach((u, i) => {
      const c = isoSeconds(CREATED + i * 1000).replace("Z", "+00:00");
      const pw = u.console
        ? `true,${isoSeconds(CREATED + 86_400_000 * 30).replace("Z", "+00:00")},${c},N/A`
        : "false,N/A,N/A,N/A";
      const key = u.activeKeys > 0 ? `true,${c},N/A,N/A,N/A` : "false,N/A,N/A,N/A,N/A";
      lines.push(
        `${u.name},${this.userArn(accountId, u.name)},${c},${pw},${u.device !== null},${key},false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`,
      );
    });
    return `${lines.join("\n")}\n`;
  }

  private iam(op: string, form: URLSearchParams, accountId: string, now: number): string {
    const users = this.users(accountId);
    switch (op) {
      case "GenerateCredentialReport": {
        const started = this.reports.get(accountId);
        if (started === undefined || now - started > FOUR_HOURS_MS) {
          this.reports.set(accountId, now);
          return "<State>STARTED</State><Description>No report exists. Starting a new report generation task</Description>";
        }
        return now - started >= this.o.reportReadyMs ? "<State>COMPLETE</State>" : "<State>INPROGRESS</State>";
      }
      case "GetCredentialReport": {
        const started = this.reports.get(accountId);
        if (started === undefined) throw new SimError(410, "ReportNotPresent", "Credential report not present.");
        if (now - started < this.o.reportReadyMs) throw new SimError(404, "ReportInProgress", "Report is in progress.");
        const generated = started + this.o.reportReadyMs;
        const content = Buffer.from(this.reportCsv(accountId, generated)).toString("base64");
        return `<Content>${content}</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>${isoSeconds(generated)}</GeneratedTime>`;
      }
      case "ListUsers": {
        const p = this.page(
          users.map((u, i) => this.userXml(accountId, u, i)),
          form,
          100,
        );
        return `<Users>${p.items.join("")}</Users>${p.more}`;
      }
      case "ListVirtualMFADevices": {
        const devices: string[] = [];
        if (this.rootHasMfa(accountId))
          devices.push(
            `<member><SerialNumber>arn:aws:iam::${accountId}:mfa/root-account-mfa-device</SerialNumber><User><UserId>${accountId}</UserId><Arn>arn:aws:iam::${accountId}:root</Arn><CreateDate>${isoSeconds(CREATED - 86_400_000)}</CreateDate></User><EnableDate>${isoSeconds(CREATED)}</EnableDate></member>`,
          );
        users.forEach((u, i) => {
          if (u.device !== "virtual") return;
          devices.push(
            `<member><SerialNumber>${this.deviceSerial(accountId, u)}</SerialNumber><User><Path>/</Path><UserName>${u.name}</UserName><UserId>AIDA${accountId}${String(i).padStart(5, "0")}</UserId><Arn>${this.userArn(accountId, u.name)}</Arn><CreateDate>${isoSeconds(CREATED + i * 1000)}</CreateDate></User><EnableDate>${isoSeconds(CREATED + i * 1000 + 60_000)}</EnableDate></member>`,
          );
        });
        const p = this.page(devices, form, 100);
        return `<VirtualMFADevices>${p.items.join("")}</VirtualMFADevices>${p.more}`;
      }
      case "GetAccountSummary": {
        const entries: Record<string, number> = {
          Users: users.length,
          AccountMFAEnabled: this.rootHasMfa(accountId) ? 1 : 0,
          AccountAccessKeysPresent: 0,
          AccountSigningCertificatesPresent: 0,
          AccountPasswordPresent: 1,
          MFADevices: users.filter((u) => u.device).length,
          MFADevicesInUse: users.filter((u) => u.device).length,
        };
        return `<SummaryMap>${Object.entries(entries)
          .map(([k, v]) => `<entry><key>${k}</key><value>${v}</value></entry>`)
          .join("")}</SummaryMap>`;
      }
      case "ListMFADevices": {
        const { user, index } = this.findUser(form, accountId);
        const d = user.device
          ? `<member><UserName>${user.name}</UserName><SerialNumber>${this.deviceSerial(accountId, user)}</SerialNumber><EnableDate>${isoSeconds(CREATED + index * 1000 + 60_000)}</EnableDate></member>`
          : "";
        return `<MFADevices>${d}</MFADevices><IsTruncated>false</IsTruncated>`;
      }
      case "GetLoginProfile": {
        const { user, index } = this.findUser(form, accountId);
        if (!user.console)
          throw new SimError(404, "NoSuchEntity", `Login Profile for User ${user.name} cannot be found.`);
        return `<LoginProfile><UserName>${user.name}</UserName><CreateDate>${isoSeconds(CREATED + index * 1000)}</CreateDate><PasswordResetRequired>false</PasswordResetRequired></LoginProfile>`;
      }
      case "ListAccessKeys": {
        const { user, index } = this.findUser(form, accountId);
        const keys =
          user.activeKeys > 0
            ? `<member><UserName>${user.name}</UserName><AccessKeyId>AKIA${accountId}${String(index).padStart(4, "0")}</AccessKeyId><Status>Active</Status><CreateDate>${isoSeconds(CREATED + index * 1000)}</CreateDate></member>`
            : "";
        return `<AccessKeyMetadata>${keys}</AccessKeyMetadata><IsTruncated>false</IsTruncated>`;
      }
      // ---- the quarantine's (packages/aws/src/quarantine.ts: the enforcer role's reads and changes) ----
      case "GetUser": {
        const { user, index } = this.findUser(form, accountId);
        return `<User>${this.userXml(accountId, user, index).slice("<member>".length, -"</member>".length)}</User>`;
      }
      case "ListGroupsForUser": {
        const { user } = this.findUser(form, accountId);
        const groups = this.groupMembers.get(accountId)?.has(user.name) ? [this.groupXml(accountId)] : [];
        const p = this.page(groups, form, 100);
        return `<Groups>${p.items.join("")}</Groups>${p.more}`;
      }
      case "ListAttachedUserPolicies": {
        const { user } = this.findUser(form, accountId);
        const g = this.o.quarantineGroupName;
        const attached = this.policyUsers.get(accountId)?.has(user.name)
          ? [`<member><PolicyName>${g}Policy</PolicyName><PolicyArn>${this.policyArn(accountId)}</PolicyArn></member>`]
          : [];
        const p = this.page(attached, form, 100);
        return `<AttachedPolicies>${p.items.join("")}</AttachedPolicies>${p.more}`;
      }
      case "GetGroup": {
        this.quarantineGroup(accountId, form.get("GroupName"));
        const members = [...(this.groupMembers.get(accountId) ?? [])].sort().map((name) => {
          const i = Number(name.slice("user-".length));
          return this.userXml(accountId, simUser(i), i);
        });
        const p = this.page(members, form, 100);
        return `<Group>${this.groupXml(accountId).slice("<member>".length, -"</member>".length)}</Group><Users>${p.items.join("")}</Users>${p.more}`;
      }
      case "ListEntitiesForPolicy": {
        if (!this.quarantineDeployed(accountId) || form.get("PolicyArn") !== this.policyArn(accountId))
          throw new SimError(
            404,
            "NoSuchEntity",
            `Policy ${form.get("PolicyArn")} does not exist or is not attachable.`,
          );
        const users = [...(this.policyUsers.get(accountId) ?? [])]
          .sort()
          .map(
            (name) => `<member><UserName>${name}</UserName><UserId>AIDA${accountId}${name.slice(5)}</UserId></member>`,
          );
        const p = this.page(users, form, 100);
        return `<PolicyGroups></PolicyGroups><PolicyUsers>${p.items.join("")}</PolicyUsers><PolicyRoles></PolicyRoles>${p.more}`;
      }
      case "AddUserToGroup":
      case "RemoveUserFromGroup": {
        this.quarantineGroup(accountId, form.get("GroupName"));
        const { user } = this.findUser(form, accountId);
        const members = this.groupMembers.get(accountId) ?? new Set<string>();
        this.groupMembers.set(accountId, members);
        if (op === "AddUserToGroup") members.add(user.name);
        else if (!members.delete(user.name))
          throw new SimError(404, "NoSuchEntity", `User ${user.name} is not in group ${form.get("GroupName")}.`);
        return "";
      }
      case "AttachUserPolicy":
      case "DetachUserPolicy": {
        const { user } = this.findUser(form, accountId);
        if (!this.quarantineDeployed(accountId) || form.get("PolicyArn") !== this.policyArn(accountId))
          throw new SimError(
            404,
            "NoSuchEntity",
            `Policy ${form.get("PolicyArn")} does not exist or is not attachable.`,
          );
        const users = this.policyUsers.get(accountId) ?? new Set<string>();
        this.policyUsers.set(accountId, users);
        if (op === "AttachUserPolicy") users.add(user.name);
        else if (!users.delete(user.name))
          throw new SimError(
            404,
            "NoSuchEntity",
            `Policy ${form.get("PolicyArn")} is not attached to user ${user.name}.`,
          );
        return "";
      }
      case "ListOrganizationsFeatures":
        return `<OrganizationId>${ORG_ID}</OrganizationId><EnabledFeatures></EnabledFeatures>`;
      default:
        throw new SimError(400, "InvalidAction", `IAM ${op} is not simulated`);
    }
  }

  // ---- Organizations -------------------------------------------------------------------------------
  private readonly rootId = "r-sim0";
  private ouId(n: number): string {
    return `ou-sim0-${String(n).padStart(8, "0")}`;
  }
  /** OU `n` (0-based) of the leaves: under parent `n % ouParents`. Parents are OUs directly under the root. */
  private leafOf(accountIndex: number): string | null {
    // The management account and every 50th account sit at the root.
    if (accountIndex % 50 === 0) return null;
    return this.ouId(this.o.ouParents + (accountIndex % this.o.ous));
  }

  private accountJson(i: number): Record<string, unknown> {
    const id = this.accountId(i);
    return {
      Id: id,
      Arn: `arn:aws:organizations::${this.managementAccountId}:account/${ORG_ID}/${id}`,
      Email: `aws+${id}@example.com`,
      Name: i === 0 ? "management" : `account-${String(i).padStart(5, "0")}`,
      Status: "ACTIVE",
      State: "ACTIVE",
      JoinedMethod: i === 0 ? "INVITED" : "CREATED",
      JoinedTimestamp: CREATED / 1000,
    };
  }

  private orgPage<T>(items: T[], input: Record<string, unknown>, max: number): { items: T[]; NextToken?: string } {
    const start = Number(input.NextToken ?? 0);
    const n = Math.min(max, Number(input.MaxResults ?? max));
    const next = start + n;
    return { items: items.slice(start, next), ...(next < items.length ? { NextToken: String(next) } : {}) };
  }

  private childrenOf(parentId: string): { ous: string[]; accounts: number[] } {
    const ous: string[] = [];
    const accounts: number[] = [];
    if (parentId === this.rootId) for (let p = 0; p < this.o.ouParents; p++) ous.push(this.ouId(p));
    else {
      const n = Number(parentId.slice(-8));
      if (n < this.o.ouParents)
        for (let l = 0; l < this.o.ous; l++) if (l % this.o.ouParents === n) ous.push(this.ouId(this.o.ouParents + l));
    }
    for (let i = 0; i < this.o.accounts; i++) if ((this.leafOf(i) ?? this.rootId) === parentId) accounts.push(i);
    return { ous, accounts };
  }

  private organizations(op: string, input: Record<string, unknown>): Record<string, unknown> {
    const mgmt = this.managementAccountId;
    switch (op) {
      case "DescribeOrganization":
        return {
          Organization: {
            Id: ORG_ID,
            Arn: `arn:aws:organizations::${mgmt}:organization/${ORG_ID}`,
            FeatureSet: "ALL",
            MasterAccountArn: `arn:aws:organizations::${mgmt}:account/${ORG_ID}/${mgmt}`,
            MasterAccountId: mgmt,
            MasterAccountEmail: `aws+${mgmt}@example.com`,
          },
        };
      case "ListRoots":
        return {
          Roots: [
            { Id: this.rootId, Arn: `arn:aws:organizations::${mgmt}:root/${ORG_ID}/${this.rootId}`, Name: "Root" },
          ],
        };
      case "ListOrganizationalUnitsForParent": {
        const p = this.orgPage(this.childrenOf(String(input.ParentId)).ous, input, 20);
        return {
          OrganizationalUnits: p.items.map((id) => ({
            Id: id,
            Arn: `arn:aws:organizations::${mgmt}:ou/${ORG_ID}/${id}`,
            Name: `OU ${id.slice(-4)}`,
          })),
          ...(p.NextToken ? { NextToken: p.NextToken } : {}),
        };
      }
      case "ListChildren": {
        const c = this.childrenOf(String(input.ParentId));
        const p =
          input.ChildType === "ACCOUNT"
            ? this.orgPage(
                c.accounts.map((i) => ({ Id: this.accountId(i), Type: "ACCOUNT" })),
                input,
                20,
              )
            : this.orgPage(
                c.ous.map((id) => ({ Id: id, Type: "ORGANIZATIONAL_UNIT" })),
                input,
                20,
              );
        return { Children: p.items, ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      }
      case "ListAccountsForParent": {
        const c = this.childrenOf(String(input.ParentId));
        const p = this.orgPage(
          c.accounts.map((i) => this.accountJson(i)),
          input,
          20,
        );
        return { Accounts: p.items, ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      }
      case "ListAccounts": {
        const start = Number(input.NextToken ?? 0);
        const n = Math.min(20, Number(input.MaxResults ?? 20));
        const items: Record<string, unknown>[] = [];
        for (let i = start; i < Math.min(this.o.accounts, start + n); i++) items.push(this.accountJson(i));
        return { Accounts: items, ...(start + n < this.o.accounts ? { NextToken: String(start + n) } : {}) };
      }
      case "ListParents": {
        const i = this.accountIndex(String(input.ChildId));
        if (i < 0) throw new SimError(400, "ChildNotFoundException", "child not found");
        const leaf = this.leafOf(i);
        return { Parents: [{ Id: leaf ?? this.rootId, Type: leaf ? "ORGANIZATIONAL_UNIT" : "ROOT" }] };
      }
      case "ListTagsForResource": {
        const i = this.accountIndex(String(input.ResourceId));
        if (i < 0) throw new SimError(400, "TargetNotFoundException", "target not found");
        return { Tags: [{ Key: "owner", Value: `team-${i % 97}@example.com` }] };
      }
      default:
        throw new SimError(400, "InvalidAction", `Organizations ${op} is not simulated`);
    }
  }
}

/**
 * Every user and root user of a report against the simulation's truth: users compared, verdicts
 * wrong (with a few examples), accounts not audited that the simulation does not fail (`failed`), and
 * accounts the simulation fails reported FAILED (`failedAsSimulated`; one of them audited is wrong).
 */
export function checkAgainstSimulation(
  report: ScanReport,
  sim: SimulatedAws,
): { users: number; wrong: number; examples: string[]; failed: string[]; failedAsSimulated: number } {
  let users = 0;
  let wrong = 0;
  let failedAsSimulated = 0;
  const examples: string[] = [];
  const failed: string[] = [];
  const miss = (what: string) => {
    wrong++;
    if (examples.length < 5) examples.push(what);
  };
  for (const a of report.accounts) {
    const failure = sim.failure(a.accountId);
    if (a.status !== "AUDITED") {
      if (failure !== null && a.status === "FAILED") failedAsSimulated++;
      else failed.push(`${a.accountId} ${a.status} ${a.reason ?? ""} ${a.error?.code ?? ""}`.trim());
      continue;
    }
    if (failure !== null) miss(`${a.accountId}: audited, but the simulation fails it (${failure})`);
    const truth = new Map(sim.users(a.accountId).map((u) => [u.name, u]));
    if (a.users.length !== truth.size) miss(`${a.accountId}: ${a.users.length} users, expected ${truth.size}`);
    for (const u of a.users) {
      users++;
      const t = truth.get(u.userName);
      const got = verdictOf({
        hasMfa: u.mfaDevices.length > 0 || u.mfaActive === true,
        console: u.consoleAccess,
        activeKeys: u.activeAccessKeys,
      });
      if (!t || got !== expectedVerdict(t.kind))
        miss(`${a.accountId}/${u.userName}: ${got}, truth ${t ? expectedVerdict(t.kind) : "no such user"}`);
    }
    const rootMfa = a.root?.mfa ?? "UNKNOWN";
    if (rootMfa !== (sim.rootHasMfa(a.accountId) ? "VIRTUAL" : "NONE"))
      miss(`${a.accountId} root MFA ${rootMfa}, truth ${sim.rootHasMfa(a.accountId) ? "VIRTUAL" : "NONE"}`);
  }
  return { users, wrong, examples, failed, failedAsSimulated };
}

/** A request body as bytes, whatever form the SDK left it in (string, bytes, or a Node stream). */
async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Uint8Array | string>)
      chunks.push(typeof c === "string" ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    return Buffer.concat(chunks);
  }
  throw new Error(`the simulation cannot read a request body of type ${Object.prototype.toString.call(body)}`);
}
