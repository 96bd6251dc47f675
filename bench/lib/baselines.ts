import {
  GetLoginProfileCommand,
  IAMClient,
  paginateListAccessKeys,
  paginateListMFADevices,
  paginateListUsers,
  paginateListVirtualMFADevices,
} from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { discoverOrganization } from "@orgmfa/aws";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { AwsCredentialIdentity } from "@smithy/types";
import pLimit from "p-limit";

/** What a scan established about one user; `console`/`activeKeys` are null when it did not look. */
export interface UserVerdictFacts {
  hasMfa: boolean;
  console: boolean | null;
  activeKeys: number | null;
}

/** accountId → userName → facts. */
export type Verdicts = Map<string, Map<string, UserVerdictFacts>>;

export interface BaselineOptions {
  endpoint: string;
  region: string;
  /** The scanner's own credentials (what it assumes the audit roles with). */
  base: AwsCredentialIdentity;
  /** The management account's audit role, for discovery. */
  orgRoleArn: string;
  auditRoleName: string;
  /** Accounts at once (orgmfa's --concurrency). */
  concurrency: number;
}

/** Clients of the baselines: plain SDK clients, their own connection pool as large as orgmfa's. */
class Clients {
  private readonly handler = new NodeHttpHandler({
    httpAgent: { keepAlive: true, maxSockets: 256 },
    httpsAgent: { keepAlive: true, maxSockets: 256 },
  });
  private readonly made: { destroy(): void }[] = [];
  constructor(private readonly o: BaselineOptions) {}
  private common(credentials: AwsCredentialIdentity) {
    return { endpoint: this.o.endpoint, region: this.o.region, credentials, requestHandler: this.handler };
  }
  sts(): STSClient {
    const c = new STSClient(this.common(this.o.base));
    this.made.push(c);
    return c;
  }
  iam(credentials: AwsCredentialIdentity): IAMClient {
    const c = new IAMClient(this.common(credentials));
    this.made.push(c);
    return c;
  }
  orgs(credentials: AwsCredentialIdentity): OrganizationsClient {
    const c = new OrganizationsClient(this.common(credentials));
    this.made.push(c);
    return c;
  }
  destroy(): void {
    for (const c of this.made) c.destroy();
    this.handler.destroy();
  }
}

async function assume(sts: STSClient, roleArn: string): Promise<AwsCredentialIdentity> {
  const r = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "bench-baseline" }));
  const c = r.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole of ${roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/**
 * The organization's active accounts: AssumeRole of the org role, then orgmfa's own discovery (the
 * seed algorithm is single-account; listing the accounts is the harness's part, done the same way).
 */
async function activeAccounts(clients: Clients, sts: STSClient, o: BaselineOptions): Promise<string[]> {
  const orgs = clients.orgs(await assume(sts, o.orgRoleArn));
  const { targets } = await discoverOrganization(orgs);
  return targets
    .filter((t) => t.skip === null)
    .map((t) => t.accountId)
    .sort();
}

async function forEachAccount(
  o: BaselineOptions,
  perAccount: (iam: IAMClient) => Promise<Map<string, UserVerdictFacts>>,
): Promise<Verdicts> {
  const clients = new Clients(o);
  try {
    const sts = clients.sts();
    const accounts = await activeAccounts(clients, sts, o);
    const limit = pLimit(o.concurrency);
    const out: Verdicts = new Map();
    await Promise.all(
      accounts.map((id) =>
        limit(async () => {
          const creds = await assume(sts, `arn:aws:iam::${id}:role/${o.auditRoleName}`);
          out.set(id, await perAccount(clients.iam(creds)));
        }),
      ),
    );
    return out;
  } finally {
    clients.destroy();
  }
}

async function userNames(iam: IAMClient): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListUsers({ client: iam }, {}))
    for (const u of page.Users ?? []) if (u.UserName) names.push(u.UserName);
  return names;
}

async function mfaDeviceCount(iam: IAMClient, userName: string): Promise<number> {
  let n = 0;
  for await (const page of paginateListMFADevices({ client: iam }, { UserName: userName }))
    n += page.MFADevices?.length ?? 0;
  return n;
}

/** Each user's facts, `concurrency` users at a time (the baselines' one per-user loop). */
async function perUser(
  users: string[] | Promise<string[]>,
  concurrency: number,
  read: (userName: string) => Promise<UserVerdictFacts>,
): Promise<Map<string, UserVerdictFacts>> {
  const limit = pLimit(concurrency);
  const names = await users;
  const facts = await Promise.all(names.map((u) => limit(() => read(u))));
  return new Map(names.map((u, i) => [u, facts[i] as UserVerdictFacts]));
}

/**
 * The seed algorithm, as published: in each account ListUsers, then ListMFADevices for each user
 * (one at a time when `userConcurrency` is 1), then ListVirtualMFADevices — 2 + N calls per account
 * after AssumeRole. It cannot tell console from API users: only `hasMfa` is known.
 */
export function seedAlgorithm(o: BaselineOptions, userConcurrency: number): Promise<Verdicts> {
  return forEachAccount(o, async (iam) => {
    const facts = await perUser(await userNames(iam), userConcurrency, async (u) => ({
      hasMfa: (await mfaDeviceCount(iam, u)) > 0,
      console: null,
      activeKeys: null,
    }));
    // The seed lists virtual devices last (to report unassigned ones); it adds nothing to the verdicts.
    for await (const _page of paginateListVirtualMFADevices({ client: iam }, {})) {
      // read every page, as the seed does
    }
    return facts;
  });
}

/**
 * The exact, fully-live scan: ListUsers, then for every user GetLoginProfile, ListAccessKeys and
 * ListMFADevices (the three at once, `userConcurrency` users at a time). The reference verdicts.
 */
export function exactScan(o: BaselineOptions, userConcurrency: number): Promise<Verdicts> {
  return forEachAccount(o, (iam) =>
    perUser(userNames(iam), userConcurrency, async (u) => {
      const [devices, console, activeKeys] = await Promise.all([
        mfaDeviceCount(iam, u),
        iam.send(new GetLoginProfileCommand({ UserName: u })).then(
          () => true,
          (e: unknown) => {
            if ((e as { name?: string }).name === "NoSuchEntityException" || /NoSuchEntity/.test(String(e)))
              return false;
            throw e;
          },
        ),
        (async () => {
          let n = 0;
          for await (const page of paginateListAccessKeys({ client: iam }, { UserName: u }))
            for (const k of page.AccessKeyMetadata ?? []) if (k.Status === "Active") n++;
          return n;
        })(),
      ]);
      return { hasMfa: devices > 0, console, activeKeys };
    }),
  );
}
