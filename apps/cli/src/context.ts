import {
  ClientPool,
  type ClientPoolOptions,
  DiscoveryError,
  resolveRegion,
  ScannerCredentialsError,
} from "@orgmfa/aws";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { UsageError } from "./errors";
import type { IdentityFlags, ScopeFlags } from "./flags";
import type { Io } from "./io";
import { credentialsProblem, discoveryProblem, identityProblem } from "./problems";

/** The streams of a command that calls AWS, and (the demo, tests) the credentials it runs as. */
export interface ContextIo extends Io {
  /** Base credentials instead of the standard chain (the demo, tests). */
  credentials?: AwsCredentialIdentityProvider;
}

/** The flags the context reads: the identity, the audit role, and the scope (to name it in messages). */
export interface ContextFlags extends IdentityFlags, ScopeFlags {
  /** The audit role assumed in member accounts. @default "OrgMfaAuditRole" (orgmfa ous assumes none) */
  roleName?: string;
  externalId?: string;
}

/** Who the credentials are. */
export interface Caller {
  account: string;
  arn: string;
}

/** What a command that calls AWS works with; {@link withCommandContext} opens and closes it. */
export interface CommandContext {
  readonly region: string;
  /** Clients of the scanning identity (and, through it, of the audit role in each member account). */
  readonly pool: ClientPool;
  /**
   * Who the credentials are: the command's first AWS call (GetCallerIdentity), made once. A failure
   * with a known cause (no credentials, a missing profile, an unreachable endpoint…) is a UsageError
   * that names it and the next step.
   */
  caller(): Promise<Caller>;
  /** A pool of the same identity for another member role (enforce's enforcer role), closed with the context. */
  poolFor(roleName: string): ClientPool;
  /** Closes every pool now (a command interrupted by a signal); closing again does nothing. */
  close(): void;
}

export interface ContextOptions {
  /**
   * What the command had already delivered, said after the message when its own credentials fail
   * part-way (a sentence, or "").
   */
  alreadyDone?: () => string;
}

/**
 * Opens a command that calls AWS: checks the endpoint variables, resolves the region, builds the client
 * pool; runs `command`; then closes every pool, however it ended. A failure of the whole command that
 * the user can fix becomes a UsageError (exit 2) in the words of their flags: the organization cannot
 * be read or the scope is empty (DiscoveryError), the command's own credentials stopped working
 * part-way (ScannerCredentialsError), and the identity problems of {@link CommandContext.caller}.
 * Flags are already checked (flags.ts); a command checks its files (--config, --output, --out-dir)
 * before it opens the context, so none of that waits for the region or the pool.
 *
 * @example
 * return withCommandContext(flags, io, async ({ pool, caller }) => {
 *   const me = await caller();
 *   return discoverOrganization(pool.organizations()); // a DiscoveryError becomes the usage error
 * });
 */
export async function withCommandContext<T>(
  flags: ContextFlags,
  io: ContextIo,
  command: (ctx: CommandContext) => Promise<T>,
  options: ContextOptions = {},
): Promise<T> {
  checkEndpointEnv();
  const region = await regionOf(flags);
  const pools: ClientPool[] = [];
  /** A pool of the scanning identity (the flags' profile, or the io's credentials) with these roles. */
  const open = (roles: Pick<ClientPoolOptions, "roleName" | "externalId" | "orgRoleArn">) => {
    const pool = new ClientPool({ region, profile: flags.profile, baseCredentials: io.credentials, ...roles });
    pools.push(pool);
    return pool;
  };
  const pool = open({ roleName: flags.roleName, externalId: flags.externalId, orgRoleArn: flags.orgRoleArn });
  let known: Caller | undefined;
  let asked: Promise<Caller> | undefined;
  const ctx: CommandContext = {
    region,
    pool,
    caller: () => {
      asked ??= pool.whoAmI().then(
        (c) => {
          known = c;
          return c;
        },
        async (e: unknown) => {
          const problem = await identityProblem(e, flags, region);
          throw problem ? new UsageError(problem, { cause: e }) : e;
        },
      );
      return asked;
    },
    poolFor: (roleName) => open({ roleName }),
    close: () => {
      for (const p of pools.splice(0)) p.destroy();
    },
  };
  try {
    return await command(ctx);
  } catch (e) {
    const caller = known?.arn ?? "the scanning identity";
    if (e instanceof DiscoveryError) throw new UsageError(discoveryProblem(e, flags, caller), { cause: e });
    if (e instanceof ScannerCredentialsError)
      throw new UsageError(credentialsProblem(e, caller, options.alreadyDone?.()), { cause: e });
    throw e;
  } finally {
    ctx.close();
  }
}

/**
 * `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` must be URLs with a scheme; the SDK's own
 * error for `localhost:5000` is a bare `TypeError: Invalid URL`.
 */
export function checkEndpointEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) {
    if (!/^AWS_ENDPOINT_URL(_[A-Z0-9_]+)?$/.test(name) || value === undefined || value === "") continue;
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(value).protocol);
    } catch {
      ok = false;
    }
    if (!ok)
      throw new UsageError(
        `${name}: "${value}" is not an http(s) URL. Write it with its scheme, e.g. http://${value.replace(/^\w+:\/\//, "")}`,
      );
  }
}

/** The region the flags or the standard chain give; a usage error naming the ways to set one otherwise. */
export async function regionOf(flags: Pick<IdentityFlags, "region" | "profile">): Promise<string> {
  const region = flags.region || (await resolveRegion(flags.profile));
  if (!region)
    throw new UsageError(
      "No AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION, or region in your profile).",
    );
  return region;
}
