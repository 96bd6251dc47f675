import type { ScanReport } from "@orgmfa/core";
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from "@smithy/types";
import { type UserKind, userKind } from "./org-spec";
import { expectedVerdict, verdictOf } from "./verdicts";

/**
 * A simulated AWS, in process, for the real SDK clients: an HTTP handler (the SDK's `requestHandler`)
 * that answers each signed request the way AWS would — the same wire protocols (IAM and STS over the
 * query protocol with XML answers, Organizations over JSON 1.1), well-formed generated answers, real
 * error codes — after a fixed latency, without a network. Used where the emulator cannot go: ten
 * thousand accounts (`bench/scale.bench.ts`), and the deployed handlers at that size.
 *
 * The organization is generated, never stored: account `i` has id `100000000000 + i`, sits in one of
 * `ous` leaf OUs, and has `usersPerAccount` users in the benchmark's mix (`userKind`), so the truth
 * about every user is known without memory that grows with the organization. What changes is kept
 * per account: when its credential report was generated, and its request-rate bucket.
 *
 * Timing model: a request is served when it arrives (state changes then) and answered `latencyMs`
 * later. GenerateCredentialReport starts a report when there is none younger than four hours (IAM's
 * rule); it is COMPLETE `reportReadyMs` after it started. IAM requests of one account draw from a
 * token bucket (`iamRate`); an empty bucket is answered with IAM's real throttling error (400
 * `Throttling`, "Rate exceeded"), which the SDK's retry strategy recognises.
 */
export interface SimulatedAwsOptions {
  /** Accounts, the management account (the caller's) included. */
  accounts: number;
  usersPerAccount: number;
  /** Added to every request. @default 100 */
  latencyMs?: number;
  /** How long a new credential report takes. @default 2000 */
  reportReadyMs?: number;
  /**
   * IAM's per-account request rate. AWS does not publish it; the default, 20 requests per second
   * with bursts of 40, is an assumption of the same order as the account-level rates AWS does
   * publish for comparable read APIs. `null` turns throttling off.
   */
  iamRate?: { perSecond: number; burst: number } | null;
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
}

export interface SimulatedAwsStats {
  calls: number;
  byOperation: Record<string, number>;
  throttled: number;
  peakInFlight: number;
}

const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const FOUR_HOURS_MS = 4 * 3600_000;
const FIRST_ACCOUNT = 100_000_000_000;
const ORG_ID = "o-simulated01";
const CREATED = Date.parse("2024-01-02T03:04:05Z");

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

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

export class SimulatedAws {
  readonly metadata = { handlerProtocol: "http/1.1" };
  readonly managementAccountId: string;
  private readonly o: Required<Omit<SimulatedAwsOptions, "iamRate" | "reportAgeMs">> & {
    iamRate: { perSecond: number; burst: number } | null;
  };
  /** When each account's latest credential report was started (epoch ms). */
  private readonly reports = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly byOperation = new Map<string, number>();
  private calls = 0;
  private throttled = 0;
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
      ...options,
      iamRate: options.iamRate === undefined ? { perSecond: 20, burst: 40 } : options.iamRate,
    };
    this.managementAccountId = this.accountId(0);
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

  users(): SimUser[] {
    return Array.from({ length: this.o.usersPerAccount }, (_, i) => simUser(i));
  }

  /**
   * How long each account's scan took, from its AssumeRole's arrival to the last answer sent to its
   * role session (ms), in account order.
   */
  accountSpansMs(): number[] {
    return [...this.spans.values()].map((s) => s.last - s.first);
  }

  private touch(accountId: string, t: number, first: boolean): void {
    const s = this.spans.get(accountId);
    if (!s) this.spans.set(accountId, { first: t, last: t });
    else if (first) s.first = Math.min(s.first, t);
    else s.last = Math.max(s.last, t);
  }

  stats(): SimulatedAwsStats {
    return {
      calls: this.calls,
      byOperation: Object.fromEntries([...this.byOperation].sort((a, b) => b[1] - a[1])),
      throttled: this.throttled,
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
    this.calls++;
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    try {
      let answer: { status: number; contentType: string; body: string };
      const service = request.hostname.split(".")[0] ?? "";
      const caller = this.callerAccount(request);
      try {
        answer = this.serve(service, request, caller, arrived);
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        answer = this.error(service, e);
      }
      await new Promise<void>((resolve, reject) => {
        const signal = options.abortSignal as globalThis.AbortSignal | undefined;
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
      const inSession = String(request.headers.authorization ?? "").includes("Credential=ASIA");
      if (service === "iam" && caller !== null && inSession) this.touch(caller, Date.now(), false);
      const body = Buffer.from(answer.body, "utf8");
      return {
        response: {
          statusCode: answer.status,
          reason: undefined,
          headers: {
            "content-type": answer.contentType,
            "content-length": String(body.length),
            "x-amzn-requestid": this.requestId(),
          },
          body: new Uint8Array(body.buffer, body.byteOffset, body.length),
        },
      };
    } finally {
      this.inFlight--;
    }
  }

  // ---- routing -------------------------------------------------------------------------------------
  private serve(
    service: string,
    request: HttpRequest,
    caller: string | null,
    now: number,
  ): { status: number; contentType: string; body: string } {
    const raw: unknown = request.body;
    const body =
      typeof raw === "string"
        ? raw
        : raw instanceof Uint8Array
          ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8")
          : "";
    if (service === "organizations") {
      const op = String(request.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      this.count(op);
      if (caller !== this.managementAccountId)
        throw new SimError(400, "AccessDeniedException", "not the management account");
      const input = JSON.parse(body || "{}") as Record<string, unknown>;
      return {
        status: 200,
        contentType: "application/x-amz-json-1.1",
        body: JSON.stringify(this.organizations(op, input)),
      };
    }
    const form = new URLSearchParams(body);
    const op = form.get("Action") ?? "";
    this.count(op);
    if (service === "sts") return this.xml(op, STS_NS, this.sts(op, form, caller, now));
    if (service === "iam") {
      if (caller === null)
        throw new SimError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
      this.take(caller, now);
      return this.xml(op, IAM_NS, this.iam(op, form, caller, now));
    }
    throw new SimError(400, "UnknownService", `the simulation does not serve ${request.hostname}`);
  }

  private count(op: string): void {
    this.byOperation.set(op, (this.byOperation.get(op) ?? 0) + 1);
  }

  /** The account a request acts in, from the access key that signed it. */
  private callerAccount(request: HttpRequest): string | null {
    const key = /Credential=([A-Z0-9]+)\//.exec(String(request.headers.authorization ?? ""))?.[1] ?? "";
    if (key.startsWith("AKIASIMULATED")) return this.managementAccountId;
    const m = /^ASIA(\d{12})/.exec(key);
    return m?.[1] && this.accountIndex(m[1]) >= 0 ? m[1] : null;
  }

  /** IAM's per-account rate: a token bucket refilled continuously. */
  private take(accountId: string, now: number): void {
    const rate = this.o.iamRate;
    if (!rate) return;
    const b = this.buckets.get(accountId) ?? { tokens: rate.burst, at: now };
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.at) / 1000) * rate.perSecond);
    b.at = now;
    this.buckets.set(accountId, b);
    if (b.tokens < 1) {
      this.throttled++;
      throw new SimError(400, "Throttling", "Rate exceeded");
    }
    b.tokens -= 1;
  }

  private requestId(): string {
    return `00000000-0000-4000-8000-${String(this.calls).padStart(12, "0")}`;
  }

  private xml(op: string, ns: string, result: string): { status: number; contentType: string; body: string } {
    return {
      status: 200,
      contentType: "text/xml",
      body: `<${op}Response xmlns="${ns}"><${op}Result>${result}</${op}Result><ResponseMetadata><RequestId>${this.requestId()}</RequestId></ResponseMetadata></${op}Response>`,
    };
  }

  private error(service: string, e: SimError): { status: number; contentType: string; body: string } {
    if (service === "organizations")
      return {
        status: e.status,
        contentType: "application/x-amz-json-1.1",
        body: JSON.stringify({ __type: e.code, Message: e.message }),
      };
    return {
      status: e.status,
      contentType: "text/xml",
      body: `<ErrorResponse><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${this.requestId()}</RequestId></ErrorResponse>`,
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
      if (!m || this.accountIndex(target) < 0 || m[2] !== this.o.auditRoleName)
        throw new SimError(403, "AccessDenied", `not authorized to perform sts:AssumeRole on ${roleArn}`);
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

  private findUser(form: URLSearchParams): { user: SimUser; index: number } {
    const name = form.get("UserName") ?? "";
    const index = Number(/^user-(\d+)$/.exec(name)?.[1] ?? -1);
    if (index < 0 || index >= this.o.usersPerAccount)
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
    this.users().forEach((u, i) => {
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
    const users = this.users();
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
        const { user, index } = this.findUser(form);
        const d = user.device
          ? `<member><UserName>${user.name}</UserName><SerialNumber>${this.deviceSerial(accountId, user)}</SerialNumber><EnableDate>${isoSeconds(CREATED + index * 1000 + 60_000)}</EnableDate></member>`
          : "";
        return `<MFADevices>${d}</MFADevices><IsTruncated>false</IsTruncated>`;
      }
      case "GetLoginProfile": {
        const { user, index } = this.findUser(form);
        if (!user.console)
          throw new SimError(404, "NoSuchEntity", `Login Profile for User ${user.name} cannot be found.`);
        return `<LoginProfile><UserName>${user.name}</UserName><CreateDate>${isoSeconds(CREATED + index * 1000)}</CreateDate><PasswordResetRequired>false</PasswordResetRequired></LoginProfile>`;
      }
      case "ListAccessKeys": {
        const { user, index } = this.findUser(form);
        const keys =
          user.activeKeys > 0
            ? `<member><UserName>${user.name}</UserName><AccessKeyId>AKIA${accountId}${String(index).padStart(4, "0")}</AccessKeyId><Status>Active</Status><CreateDate>${isoSeconds(CREATED + index * 1000)}</CreateDate></member>`
            : "";
        return `<AccessKeyMetadata>${keys}</AccessKeyMetadata><IsTruncated>false</IsTruncated>`;
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
 * wrong (with a few examples), and accounts not audited.
 */
export function checkAgainstSimulation(
  report: ScanReport,
  sim: SimulatedAws,
): { users: number; wrong: number; examples: string[]; failed: string[] } {
  let users = 0;
  let wrong = 0;
  const examples: string[] = [];
  const failed: string[] = [];
  const truth = new Map(sim.users().map((u) => [u.name, u]));
  const miss = (what: string) => {
    wrong++;
    if (examples.length < 5) examples.push(what);
  };
  for (const a of report.accounts) {
    if (a.status !== "AUDITED") {
      failed.push(`${a.accountId} ${a.status} ${a.reason ?? ""} ${a.error?.code ?? ""}`.trim());
      continue;
    }
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
  return { users, wrong, examples, failed };
}
