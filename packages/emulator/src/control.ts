/**
 * The control calls: what the gateway and the Emulator ask moto's server beside the AWS APIs, through
 * the endpoints python/orgmfa_moto/control.py adds under /moto-api/orgmfa/ (on moto's own port).
 */

/** An organization as IAM sees it (the wrapper's /moto-api/orgmfa/caller and /role). */
export interface OrgInfo {
  id: string;
  managementAccountId: string;
  featureSet: string;
  iamTrustedAccess: boolean;
  iamDelegatedAdministrators: string[];
}

/** Who signed a request (the wrapper's /moto-api/orgmfa/caller). */
export interface Caller {
  /** false: a key moto does not know (the emulator's admin key): the root user of moto's default account. */
  known: boolean;
  type: "User" | "AssumedRole" | "Account";
  account: string;
  /** aws:PrincipalArn: the user's ARN, the role's ARN with its path, or the account's root ARN. */
  arn: string;
  sessionArn?: string;
  policies: unknown[];
  org: OrgInfo | null;
  /** The global condition keys of this caller's requests. */
  context: Record<string, string>;
  /** Is moto's IAM enforcement on? */
  enforced: boolean;
}

/** A role (the wrapper's /moto-api/orgmfa/role). */
export interface RoleInfo {
  arn: string;
  account: string;
  trustPolicy: unknown;
  org: OrgInfo | null;
}

/** The control calls to the moto server at `motoUrl`. */
export function motoControl(motoUrl: string) {
  const lookup = async <T>(path: string): Promise<T | null> => {
    const r = await fetch(`${motoUrl}${path}`);
    const text = await r.text();
    if (r.status === 404) return null;
    if (!r.ok) throw new Error(`${path} answered ${r.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
  return {
    /** Who signs with this access key (the empty key: moto's default identity). */
    caller: async (accessKeyId: string | null) =>
      (await lookup<Caller>(`/moto-api/orgmfa/caller?key=${encodeURIComponent(accessKeyId ?? "")}`)) as Caller,
    /** The role with this ARN, or null when it does not exist. */
    role: (roleArn: string) => lookup<RoleInfo>(`/moto-api/orgmfa/role?arn=${encodeURIComponent(roleArn)}`),
    /** The organization an account belongs to, as IAM sees it (null: none). */
    accountOrg: async (accountId: string) =>
      (await lookup<{ org: OrgInfo | null }>(`/moto-api/orgmfa/account?id=${encodeURIComponent(accountId)}`))?.org ??
      null,
    /** Stores an account's credential report as of now (IAM generating one), with the declared root state. */
    snapshotCredentialReport: async (accountId: string, root: unknown) => {
      const r = await fetch(`${motoUrl}/moto-api/orgmfa/credential-report`, {
        method: "POST",
        body: JSON.stringify({ accountId, root }),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`credential report snapshot answered ${r.status}: ${text.slice(0, 300)}`);
    },
    /** A POST to moto's /moto-api/ (reset, reset-auth, the orgmfa endpoints); throws on an error status. */
    post: async (path: string, body?: string) => {
      const r = await fetch(`${motoUrl}${path}`, { method: "POST", body });
      const text = await r.text();
      if (!r.ok) throw new Error(`the emulator answered ${r.status} to ${path}: ${text.slice(0, 500)}`);
    },
  };
}

export type MotoControl = ReturnType<typeof motoControl>;
