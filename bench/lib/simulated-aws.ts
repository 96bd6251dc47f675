import type { HttpHandlerOptions, HttpRequest, HttpResponse } from "@smithy/types";
import { type AccountFailure, type OrgShape, uniformOrg } from "./org-spec";
import { SimAccounts, type SimUser } from "./sim-accounts";
import {
  type ArrivedRequest,
  fromRawRequest,
  fromSdkRequest,
  type Rate,
  RateLimiter,
  type RawHttpRequest,
  type SimAnswer,
  SimError,
  type SimRequest,
  type SimService,
  toSdkResponse,
} from "./sim-wire";
import { SimulatedIam } from "./simulated-iam";
import { SimulatedOrganizations } from "./simulated-organizations";
import { SimulatedS3 } from "./simulated-s3";
import { SECURITY_HUB_RATES, type SecurityHubRates, SimulatedSecurityHub } from "./simulated-securityhub";
import { SimulatedSns } from "./simulated-sns";
import { SimulatedSqs } from "./simulated-sqs";
import { SimulatedSts } from "./simulated-sts";

export { checkAgainstSimulation, type SimUser, simUser } from "./sim-accounts";
export type { RawHttpRequest } from "./sim-wire";

/**
 * A simulated AWS for the real SDK clients: it answers each signed request the way AWS would — the
 * same wire protocols, well-formed generated answers, real error codes — after a fixed latency. In
 * process it is an HTTP handler (the SDK's `requestHandler`), without a network; `sim-server.ts` puts
 * it behind a loopback HTTP server for SDK clients in other processes (the deployed handlers, bundled,
 * pointed at it with `AWS_ENDPOINT_URL`). Used where the emulator cannot go: ten thousand accounts
 * (`bench/scale.bench.ts`), and the deployed workflow at that size (`bench/pipeline.bench.ts`).
 *
 * This class is the composition. It routes each request by the service its signature names
 * (`Credential=…/<region>/<service>/…`), so one endpoint serves every service; it knows whom a request
 * acts as from its signing key (the base credentials, `AKIASIMULATED…`, act in the scanner's account;
 * those AssumeRole hands out, `ASIA<account id>…`, in that account); it counts every call by
 * operation, throttles, adds the latency, and keeps the organization every service reads
 * (`sim-accounts.ts`: generated, never stored — the truth about every user is known at any size).
 * Each service is a file of its own: IAM (`simulated-iam.ts`: users, MFA devices, credential reports,
 * the quarantine's group and policy), STS (`simulated-sts.ts`), Organizations
 * (`simulated-organizations.ts`), SQS (`simulated-sqs.ts`: the forwarding dead-letter queue), S3
 * (`simulated-s3.ts`), Security Hub (`simulated-securityhub.ts`), SNS (`simulated-sns.ts`); what the
 * handlers write is kept in memory.
 *
 * Timing model: a request is served when it arrives (state changes then) and answered `latencyMs`
 * later. IAM requests of one account draw from a token bucket (`iamRate`); an empty bucket is answered
 * with IAM's real throttling error (400 `Throttling`, "Rate exceeded"), which the SDK's retry strategy
 * recognises; an account the shape throttles answers every IAM request so. Organizations' requests
 * draw from one bucket for the organization (`organizationsRate`); Security Hub has its own buckets
 * per account and operation (`simulated-securityhub.ts`).
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
  /**
   * Accounts whose member stack made the forwarding dead-letter queue (SQS, us-east-1).
   * @default where the quarantine is deployed
   */
  forwardingDeployed?: (accountId: string) => boolean;
  /** Messages in an account's forwarding dead-letter queue: waiting, and in flight. @default none */
  forwardingDeadLetters?: (accountId: string) => { waiting: number; inFlight: number } | null;
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

export class SimulatedAws {
  readonly metadata = { handlerProtocol: "http/1.1" };
  readonly managementAccountId: string;
  /** The account the base credentials act in. */
  readonly scannerAccountId: string;
  /** The organization and the truth about it, which every service reads. */
  readonly accounts: SimAccounts;
  readonly iam: SimulatedIam;
  readonly sts: SimulatedSts;
  readonly organizations: SimulatedOrganizations;
  readonly sqs: SimulatedSqs;
  readonly s3: SimulatedS3;
  readonly securityHub: SimulatedSecurityHub;
  readonly sns: SimulatedSns;
  /** Each service by its signing name. */
  private readonly services: Record<string, SimService>;
  private readonly latencyMs: number;
  private readonly iamLimiter: RateLimiter;
  private readonly orgLimiter: RateLimiter;
  private readonly byOperation = new Map<string, number>();
  /** First and last arrival of each operation (epoch ms). */
  private readonly opTimes = new Map<string, { first: number; last: number }>();
  private calls = 0;
  private inFlight = 0;
  private peak = 0;
  /** Per account: when its AssumeRole arrived and when the last answer to it was sent (epoch ms). */
  private readonly spans = new Map<string, { first: number; last: number }>();

  constructor(options: SimulatedAwsOptions) {
    const region = options.region ?? "us-east-1";
    this.latencyMs = options.latencyMs ?? 100;
    this.accounts = new SimAccounts({
      accounts: options.accounts,
      usersPerAccount: options.usersPerAccount,
      shape: options.shape ?? uniformOrg(options.usersPerAccount),
      rootWithoutMfaEvery: options.rootWithoutMfaEvery ?? 25,
      scannerAccountIndex: options.scannerAccountIndex ?? 0,
    });
    this.managementAccountId = this.accounts.managementAccountId;
    this.scannerAccountId = this.accounts.scannerAccountId;
    this.iamLimiter = new RateLimiter(options.iamRate === undefined ? { perSecond: 20, burst: 40 } : options.iamRate);
    this.orgLimiter = new RateLimiter(options.organizationsRate ?? null);
    this.iam = new SimulatedIam(this.accounts, {
      reportReadyMs: options.reportReadyMs ?? 2000,
      quarantineGroupName: options.quarantineGroupName ?? "OrgMfaQuarantine",
      reportAgeMs: options.reportAgeMs,
    });
    this.sts = new SimulatedSts(this.accounts, {
      auditRoleName: options.auditRoleName ?? "OrgMfaAuditRole",
      enforcerRoleName: options.enforcerRoleName ?? "OrgMfaQuarantineRole",
      onAssumed: (accountId, now) => this.touch(accountId, now, true),
    });
    this.organizations = new SimulatedOrganizations(this.accounts, {
      ous: options.ous ?? 40,
      ouParents: options.ouParents ?? 10,
    });
    this.sqs = new SimulatedSqs(this.accounts, {
      deployed: options.forwardingDeployed,
      deadLetters: options.forwardingDeadLetters,
    });
    this.s3 = new SimulatedS3(options.buckets ?? [], () => this.scannerAccountId, options.kmsKeyId);
    this.securityHub = new SimulatedSecurityHub(
      options.securityHubRates === undefined ? SECURITY_HUB_RATES : options.securityHubRates,
      () => region,
      options.securityHubDisabled,
    );
    this.sns = new SimulatedSns(options.topics ?? []);
    this.services = {
      iam: this.iam,
      sts: this.sts,
      organizations: this.organizations,
      sqs: this.sqs,
      s3: { serve: (r) => this.s3.serve(r), error: SimulatedS3.error },
      securityhub: { serve: (r) => this.securityHub.serve(r), error: SimulatedSecurityHub.error },
      sns: this.sns,
    };
  }

  // ---- the organization's truth (`SimAccounts`: see there) and what the services changed ------------
  accountId(i: number): string {
    return this.accounts.accountId(i);
  }
  accountIndex(accountId: string): number {
    return this.accounts.accountIndex(accountId);
  }
  rootHasMfa(accountId: string): boolean {
    return this.accounts.rootHasMfa(accountId);
  }
  /** Without an account: every account's of a uniform organization (`usersPerAccount`). */
  users(accountId?: string): SimUser[] {
    return this.accounts.users(accountId);
  }
  failure(accountId: string): AccountFailure | null {
    return this.accounts.failure(accountId);
  }
  /** The enforcer role, the quarantine group and policy, and (by default) the forwarding dead-letter queue. */
  quarantineDeployed(accountId: string): boolean {
    return this.accounts.quarantineDeployed(accountId);
  }
  failingAccounts(): number {
    return this.accounts.failingAccounts();
  }
  userCounts(heavyFrom = 100): { users: number; heavyAccounts: number; maxUsers: number } {
    return this.accounts.userCounts(heavyFrom);
  }
  expectedUsers(): number {
    return this.accounts.expectedUsers();
  }
  /** Who is quarantined in an account now (the group's members and the policy's users), sorted. */
  quarantinedUsers(accountId: string): string[] {
    return this.iam.quarantinedUsers(accountId);
  }
  /** The OU ids from the root down to an account's parent (AccountTarget.ouIds), as Discover lists them. */
  ouPath(accountId: string): string[] {
    return this.organizations.ouPath(accountId);
  }
  /** The id of the `n`-th OU directly under the root (0-based; there are `ouParents`). */
  parentOuId(n: number): string {
    return this.organizations.parentOuId(n);
  }
  /** Every credential report generated so far becomes `ms` older (a day between two daily runs). */
  ageCredentialReports(ms: number): void {
    this.iam.ageCredentialReports(ms);
  }

  // ---- what was measured ---------------------------------------------------------------------------
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

  private touch(accountId: string, t: number, first: boolean): void {
    const s = this.spans.get(accountId);
    if (!s) this.spans.set(accountId, { first: t, last: t });
    else if (first) s.first = Math.min(s.first, t);
    else s.last = Math.max(s.last, t);
  }

  // ---- the SDK's HttpHandler interface -------------------------------------------------------------
  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
  destroy(): void {}

  async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const arrived = Date.now();
    const answer = await this.respond(
      await fromSdkRequest(request),
      arrived,
      options.abortSignal as globalThis.AbortSignal | undefined,
    );
    return { response: toSdkResponse(answer) };
  }

  /** One request that arrived over HTTP, answered after the simulated latency. */
  serveHttp(raw: RawHttpRequest): Promise<SimAnswer> {
    return this.respond(fromRawRequest(raw), Date.now());
  }

  private async respond(r: ArrivedRequest, arrived: number, signal?: globalThis.AbortSignal): Promise<SimAnswer> {
    this.calls++;
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    try {
      const auth = r.headers.authorization ?? "";
      // The signing scope names the Region and the service: one endpoint (AWS_ENDPOINT_URL) serves them all.
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(auth);
      const service = scope?.[2] ?? r.hostname.split(".")[0] ?? "";
      const req: SimRequest = {
        ...r,
        service,
        region: scope?.[1] ?? "",
        caller: this.callerAccount(auth),
        now: arrived,
        requestId: `00000000-0000-4000-8000-${String(this.calls).padStart(12, "0")}`,
      };
      let answer: SimAnswer;
      try {
        answer = this.serve(req);
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        answer = (this.services[service] ?? this.iam).error(e, req.requestId);
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, this.latencyMs);
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

  // ---- routing, counting, throttling ---------------------------------------------------------------
  private serve(req: SimRequest): SimAnswer {
    const service = this.services[req.service];
    if (!service)
      throw new SimError(400, "UnknownService", `the simulation does not serve ${req.service} (${req.hostname})`);
    const { op, answer } = service.serve(req);
    this.count(op, req.now);
    this.throttle(req);
    return answer();
  }

  /** The request rates the composition enforces: IAM's per account, Organizations' per organization. */
  private throttle({ service, caller, now }: SimRequest): void {
    if (service === "organizations" && !this.orgLimiter.take("organization", now))
      throw new SimError(400, "TooManyRequestsException", SimulatedOrganizations.TOO_MANY_REQUESTS);
    if (service !== "iam" || caller === null) return;
    // An account the shape throttles answers every request so, whatever the retries.
    if (this.accounts.failure(caller) === "throttled") {
      this.iamLimiter.throttled++;
      throw new SimError(400, "Throttling", "Rate exceeded");
    }
    if (!this.iamLimiter.take(caller, now)) throw new SimError(400, "Throttling", "Rate exceeded");
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
    return m?.[1] && this.accounts.accountIndex(m[1]) >= 0 ? m[1] : null;
  }
}
