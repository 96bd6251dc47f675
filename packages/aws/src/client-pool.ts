import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { IAMClient, type IAMClientConfig } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { S3Client } from "@aws-sdk/client-s3";
import { SecurityHubClient } from "@aws-sdk/client-securityhub";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, AssumeRootCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { DEFAULT_AUDIT_ROLE_NAME } from "@orgmfa/core";
import { loadSharedConfigFiles } from "@smithy/core/config";
import { AdaptiveRetryStrategy } from "@smithy/core/retry";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  RequestHandler,
  RetryErrorInfo,
  RetryStrategyV2,
  RetryToken,
  StandardRetryToken,
} from "@smithy/types";
import pThrottle from "p-throttle";
import { isIamQuotaError } from "./errors";

export interface ClientPoolOptions {
  /** Region for regional calls and for STS. */
  region: string;
  /** Role assumed in every member account. @default "OrgMfaAuditRole" */
  roleName?: string;
  /** External id passed on AssumeRole of the audit role. */
  externalId?: string;
  /** A role assumed for Organizations discovery; without it discovery uses the base identity. */
  orgRoleArn?: string;
  /** Session name on the member accounts' CloudTrail. @default "orgmfa" */
  sessionName?: string;
  /** Named profile for the base identity; otherwise the standard provider chain. */
  profile?: string;
  /** Base credentials (tests, Lambda); otherwise the standard provider chain. */
  baseCredentials?: AwsCredentialIdentityProvider;
  /** Attempts per call, for the SDK's adaptive retry strategy. @default 10 */
  maxAttempts?: number;
  /** @default 5000 */
  connectionTimeoutMs?: number;
  /** @default 30000 */
  socketTimeoutMs?: number;
  /**
   * Connections the shared HTTP handler may open at once (per host). The SDK's default, 50, is a
   * hidden bound on the whole scan: accounts × per-user calls in flight easily exceed it. @default 256
   */
  maxSockets?: number;
  /** Explicit endpoint; otherwise the SDK honours AWS_ENDPOINT_URL(_<SERVICE>). */
  endpoint?: string;
  /** Security Hub calls per second per account (its BatchImportFindings quota is 10/s). @default 10 */
  securityHubCallsPerSecond?: number;
  /**
   * The HTTP handler every client sends through, in place of the pool's Node handler: the benchmark's
   * simulated AWS transport (`bench/lib/simulated-aws.ts`). Everything above it — signing, retries,
   * credentials, (de)serialisation — is the SDK's own.
   */
  requestHandler?: RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;
}

const REFRESH_BEFORE_MS = 5 * 60_000;

/** The AWS managed task policy an audit root session is limited to (docs/aws-semantics.md §3). */
export const ROOT_AUDIT_TASK_POLICY = "IAMAuditRootUserCredentials";
export const rootTaskPolicyArn = (partition: string, name = ROOT_AUDIT_TASK_POLICY) =>
  `arn:${partition}:iam::aws:policy/root-task/${name}`;
/** An AssumeRoot session's longest life (STS API reference, AssumeRoot: DurationSeconds 0–900). */
export const ROOT_SESSION_SECONDS = 900;

/**
 * IAM's retry strategy: the SDK's adaptive strategy, except that IAM's quota errors (`LimitExceeded`)
 * are final. The SDK counts LimitExceededException among throttling errors, so without this an
 * AddUserToGroup on a user already in 10 groups is retried for up to ~90 s — and slows that account's
 * adaptive client for every other call — before the caller's designed fallback. A quota does not go
 * away by waiting; the one wait that makes sense (credential report capacity) is the collector's own.
 */
export class IamRetryStrategy implements RetryStrategyV2 {
  readonly mode = "adaptive";
  private readonly inner: AdaptiveRetryStrategy;
  constructor(maxAttempts: number) {
    this.inner = new AdaptiveRetryStrategy(maxAttempts);
  }
  acquireInitialRetryToken(scope: string): Promise<RetryToken> {
    return this.inner.acquireInitialRetryToken(scope);
  }
  refreshRetryTokenForRetry(token: StandardRetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    // Rejecting here makes the SDK throw the error it received, untouched, with its attempt count.
    if (isIamQuotaError(info.error)) return Promise.reject(info.error);
    return this.inner.refreshRetryTokenForRetry(token, info);
  }
  recordSuccess(token: StandardRetryToken): void {
    this.inner.recordSuccess(token);
  }
}

/** Shares one set of temporary credentials between every client of an account, refreshing before expiry. */
function shared(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    if (current) {
      const c = await current.catch(() => undefined);
      if (c && (!c.expiration || c.expiration.getTime() - Date.now() > REFRESH_BEFORE_MS)) return c;
    }
    current = provider();
    return current;
  };
}

export function partitionOfRegion(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-iso-")) return "aws-iso";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  return "aws";
}

/**
 * The one place SDK clients are made: credentials per account through STS
 * AssumeRole, one cached client per (service, account), the SDK's adaptive retry and explicit
 * HTTP timeouts. Logic receives clients from here and never calls `new XClient`.
 */
export class ClientPool {
  readonly region: string;
  readonly partition: string;
  readonly roleName: string;
  private readonly base: AwsCredentialIdentityProvider;
  private readonly common: {
    region: string;
    maxAttempts: number;
    retryMode: "adaptive";
    requestHandler: NodeHttpHandler | RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;
    endpoint?: string;
  };
  private readonly credentials = new Map<string, AwsCredentialIdentityProvider>();
  private readonly clients = new Map<string, unknown>();
  private orgCredentials: AwsCredentialIdentityProvider | undefined;
  private resolvedSettings: Partial<IAMClientConfig> | undefined;

  constructor(private readonly options: ClientPoolOptions) {
    this.region = options.region;
    this.partition = partitionOfRegion(options.region);
    this.roleName = options.roleName ?? DEFAULT_AUDIT_ROLE_NAME;
    this.base = shared(
      options.baseCredentials ?? fromNodeProviderChain(options.profile ? { profile: options.profile } : {}),
    );
    this.common = {
      region: options.region,
      maxAttempts: options.maxAttempts ?? 10,
      retryMode: "adaptive",
      requestHandler:
        options.requestHandler ??
        new NodeHttpHandler({
          connectionTimeout: options.connectionTimeoutMs ?? 5_000,
          socketTimeout: options.socketTimeoutMs ?? 30_000,
          httpAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 256 },
          httpsAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 256 },
        }),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    };
  }

  /** The audit role ARN in an account. */
  auditRoleArn(accountId: string): string {
    return `arn:${this.partition}:iam::${accountId}:role/${this.roleName}`;
  }

  private cached<T>(key: string, make: () => T): T {
    let c = this.clients.get(key) as T | undefined;
    if (!c) {
      c = make();
      this.clients.set(key, c);
    }
    return c;
  }

  /**
   * AssumeRole through the pool's one STS client (not one STS client per account, as
   * `fromTemporaryCredentials` would make: at thousands of accounts those clients cost hundreds of
   * MB and the CPU of building each one).
   */
  private assume(roleArn: string, externalId?: string): AwsCredentialIdentityProvider {
    return shared(async () => {
      const { Credentials: c } = await this.sts().send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: this.options.sessionName ?? "orgmfa",
          DurationSeconds: 3600,
          ...(externalId ? { ExternalId: externalId } : {}),
        }),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey)
        throw new Error(`STS AssumeRole of ${roleArn} returned no credentials`);
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
    });
  }

  /** Credentials of the audit role in `accountId` (assumed on first use, then shared and refreshed). */
  credentialsFor(accountId: string): AwsCredentialIdentityProvider {
    let p = this.credentials.get(accountId);
    if (!p) {
      p = this.assume(this.auditRoleArn(accountId), this.options.externalId);
      this.credentials.set(accountId, p);
    }
    return p;
  }

  /**
   * Credentials of an sts:AssumeRoot session in member account `accountId`, limited to the task
   * policy IAMAuditRootUserCredentials, opened by the discovery identity (the management account's
   * audit role, `orgRoleArn`, or the base identity: the management account or IAM's delegated
   * administrator — the only callers STS allows). Through a Regional STS endpoint only: AssumeRoot is
   * refused on the global one (`rootSts`). One session per account, for the account's job.
   */
  rootCredentialsFor(accountId: string): AwsCredentialIdentityProvider {
    const key = `root:${accountId}`;
    let p = this.credentials.get(key);
    if (!p) {
      p = shared(async () => {
        const { Credentials: c } = await this.rootSts().send(
          new AssumeRootCommand({
            TargetPrincipal: accountId,
            TaskPolicyArn: { arn: rootTaskPolicyArn(this.partition) },
            DurationSeconds: ROOT_SESSION_SECONDS,
          }),
        );
        if (!c?.AccessKeyId || !c.SecretAccessKey)
          throw new Error(`STS AssumeRoot into ${accountId} returned no credentials`);
        return {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
          expiration: c.Expiration,
        };
      });
      this.credentials.set(key, p);
    }
    return p;
  }

  /**
   * STS client of the discovery identity for AssumeRoot: Regional always (`useGlobalEndpoint: false`,
   * whatever AWS_STS_REGIONAL_ENDPOINTS says), as AssumeRoot requires.
   */
  rootSts(): STSClient {
    return this.cached(
      "sts:root",
      () => new STSClient({ ...this.common, useGlobalEndpoint: false, credentials: this.discoveryCredentials() }),
    );
  }

  /** IAM client of the root session in `accountId` ({@link rootCredentialsFor}); IAM's quota errors are not retried. */
  rootIam(accountId: string): IAMClient {
    return this.cached(
      `iam:root:${accountId}`,
      () =>
        new IAMClient({
          ...this.common,
          ...this.settings(),
          retryStrategy: new IamRetryStrategy(this.common.maxAttempts),
          credentials: this.rootCredentialsFor(accountId),
        }),
    );
  }

  /**
   * Settings every client reads from the environment and the shared config files (FIPS and dual-stack
   * endpoints, defaults mode, app id, auth scheme preference), resolved once — through the SDK's own
   * loaders, on the first client — and shared by the clients made per account. Resolving them per
   * client costs thousands of thrown-and-caught provider errors per thousand accounts.
   */
  private settings(): Partial<IAMClientConfig> {
    if (!this.resolvedSettings) {
      const c = this.cached("iam:settings", () => new IAMClient({ ...this.common })).config;
      this.resolvedSettings = {
        useFipsEndpoint: c.useFipsEndpoint,
        useDualstackEndpoint: c.useDualstackEndpoint,
        defaultsMode: c.defaultsMode,
        userAgentAppId: c.userAgentAppId,
        authSchemePreference: c.authSchemePreference,
      };
    }
    return this.resolvedSettings;
  }

  /** IAM client acting as the audit role in `accountId`; IAM's quota errors are not retried ({@link IamRetryStrategy}). */
  iam(accountId: string): IAMClient {
    return this.cached(
      `iam:${accountId}`,
      () =>
        new IAMClient({
          ...this.common,
          ...this.settings(),
          retryStrategy: new IamRetryStrategy(this.common.maxAttempts),
          credentials: this.credentialsFor(accountId),
        }),
    );
  }

  /**
   * SQS client acting as the pool's role in `accountId`, in `region` (the quarantine sweep counts the
   * member forwarding dead-letter queue, which exists in us-east-1 only). It sends to the client's own
   * endpoint for that region, never to the host of a request's QueueUrl (`useQueueUrlAsEndpoint: false`):
   * the URL orgmfa passes is built from the queue's name (forwarding.ts), and the endpoint stays the one
   * the pool's settings resolve (FIPS, dual-stack, AWS_ENDPOINT_URL).
   */
  sqs(accountId: string, region: string): SQSClient {
    return this.cached(
      `sqs:${accountId}:${region}`,
      () =>
        new SQSClient({
          ...this.common,
          ...this.settings(),
          region,
          useQueueUrlAsEndpoint: false,
          credentials: this.credentialsFor(accountId),
        }),
    );
  }

  /** Organizations client for discovery: the `orgRoleArn` role when given, else the base identity. */
  organizations(): OrganizationsClient {
    return this.cached(
      "organizations",
      () => new OrganizationsClient({ ...this.common, credentials: this.discoveryCredentials() }),
    );
  }

  /**
   * IAM client of the discovery identity, for the optional organization-level IAM features: two
   * attempts, not ten — an endpoint without the call must not cost the scan seconds of retries.
   */
  discoveryIam(): IAMClient {
    return this.cached(
      "iam:discovery",
      () =>
        new IAMClient({
          ...this.common,
          maxAttempts: 2,
          retryStrategy: new IamRetryStrategy(2),
          credentials: this.discoveryCredentials(),
        }),
    );
  }

  private discoveryCredentials(): AwsCredentialIdentityProvider {
    if (!this.options.orgRoleArn) return this.base;
    this.orgCredentials ??= this.assume(this.options.orgRoleArn);
    return this.orgCredentials;
  }

  /**
   * Security Hub client for one account's hub: the audit role in a member account, the base identity
   * for the scanning account. Every call through it waits its turn (≤ `securityHubCallsPerSecond`
   * per account); the wait happens once per call, before the SDK's own retries.
   */
  securityHub(accountId: string, as: "audit-role" | "self"): SecurityHubClient {
    return this.cached(`securityhub:${as}:${accountId}`, () => {
      const client = new SecurityHubClient({
        ...this.common,
        ...this.settings(),
        credentials: as === "self" ? this.base : this.credentialsFor(accountId),
      });
      const turn = pThrottle({ limit: this.options.securityHubCallsPerSecond ?? 10, interval: 1000 })(() => undefined);
      client.middlewareStack.add(
        (next) => async (args) => {
          await turn();
          return next(args);
        },
        { step: "initialize", name: "orgmfaSecurityHubRate" },
      );
      return client;
    });
  }

  /** S3 client of the base identity (the report bucket). */
  s3(): S3Client {
    return this.cached("s3", () => new S3Client({ ...this.common, credentials: this.base }));
  }

  /** SNS client of the base identity (the digest topic). */
  sns(): SNSClient {
    return this.cached("sns", () => new SNSClient({ ...this.common, credentials: this.base }));
  }

  /**
   * CloudTrail client of the base identity in `region` (doctor: whether a trail logs the management
   * events IAM's EventBridge events need; IAM's arrive in us-east-1). Two attempts: a pre-flight read.
   */
  cloudTrail(region: string): CloudTrailClient {
    return this.cached(
      `cloudtrail:${region}`,
      () => new CloudTrailClient({ ...this.common, region, maxAttempts: 2, credentials: this.base }),
    );
  }

  /** Lambda client of the base identity (doctor: the account's concurrency quota). Two attempts. */
  lambda(): LambdaClient {
    return this.cached("lambda", () => new LambdaClient({ ...this.common, maxAttempts: 2, credentials: this.base }));
  }

  /** STS client of the base identity. */
  sts(): STSClient {
    return this.cached("sts", () => new STSClient({ ...this.common, credentials: this.base }));
  }

  /**
   * Who the base identity is; fails early when there are no usable credentials or the endpoint
   * cannot be reached (two attempts, not the scan's ten: a wrong endpoint should not cost 20 s).
   */
  async whoAmI(): Promise<{ account: string; arn: string; partition: string }> {
    const sts = this.cached(
      "sts:preflight",
      () => new STSClient({ ...this.common, maxAttempts: 2, retryMode: "standard", credentials: this.base }),
    );
    const r = await sts.send(new GetCallerIdentityCommand({}));
    const arn = r.Arn ?? "";
    return { account: r.Account ?? "", arn, partition: arn.split(":")[1] || this.partition };
  }

  /**
   * Forgets an account's clients once its work is done, so that a scan of thousands of accounts
   * holds the clients of the accounts in progress, not of every account it has seen. Its
   * credentials are kept (small), so later work in the account does not assume the role again.
   */
  release(accountId: string): void {
    // Dropped, not destroyed: `destroy()` would close the HTTP handler every client shares.
    for (const key of [
      `iam:${accountId}`,
      `iam:root:${accountId}`,
      `securityhub:audit-role:${accountId}`,
      `securityhub:self:${accountId}`,
    ])
      this.clients.delete(key);
    // A root session is for the account's job only (at most 900 s): never kept for later work.
    this.credentials.delete(`root:${accountId}`);
    for (const key of this.clients.keys()) if (key.startsWith(`sqs:${accountId}:`)) this.clients.delete(key);
  }

  /** Closes every HTTP connection the pool holds. */
  destroy(): void {
    for (const c of this.clients.values()) (c as { destroy(): void }).destroy();
    this.clients.clear();
  }
}

/**
 * Whether a named profile exists in the shared config or credentials file (`AWS_CONFIG_FILE`,
 * `AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/config` and `~/.aws/credentials`).
 */
export async function profileExists(profile: string): Promise<boolean> {
  const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true });
  return Object.hasOwn(configFile, profile) || Object.hasOwn(credentialsFile, profile);
}

/** Where the SDK reads profiles from, for messages. */
export function profileFiles(): string {
  return `${process.env.AWS_CONFIG_FILE ?? "~/.aws/config"} and ${process.env.AWS_SHARED_CREDENTIALS_FILE ?? "~/.aws/credentials"}`;
}

/**
 * The region the standard chain resolves (AWS_REGION, AWS_DEFAULT_REGION, the profile's config),
 * or null when none is set.
 */
export async function resolveRegion(profile?: string): Promise<string | null> {
  const fromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  const sts = new STSClient(profile ? { profile } : {});
  try {
    return (await sts.config.region()) || null;
  } catch {
    return null;
  } finally {
    sts.destroy();
  }
}
