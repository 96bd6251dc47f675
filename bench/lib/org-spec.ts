import type { AccountSpec, OrgSpec, UserSpec } from "@orgmfa/emulator";

/** The kind of user the mix names, and the verdict an exact scan must reach for it. */
export type UserKind = "virtual" | "hardware" | "fido" | "consoleNoMfa" | "keyOnly" | "none";

/**
 * The mix in slots of 20 users: 14 console + virtual MFA (70%), 1 console + hardware or FIDO
 * (5%; hardware and FIDO alternate between slots), 3 console without MFA (15%), 1 key-only without MFA
 * (5%), 1 without credentials (5%). Spread through the slot so no kind clusters at the end of a page.
 */
const SLOT: ReadonlyArray<UserKind | "physical"> = [
  "virtual",
  "virtual",
  "consoleNoMfa",
  "virtual",
  "virtual",
  "physical",
  "virtual",
  "virtual",
  "keyOnly",
  "virtual",
  "consoleNoMfa",
  "virtual",
  "virtual",
  "none",
  "virtual",
  "virtual",
  "consoleNoMfa",
  "virtual",
  "virtual",
  "virtual",
];

export function userKind(i: number): UserKind {
  const k = SLOT[i % SLOT.length] ?? "virtual";
  if (k !== "physical") return k;
  return Math.floor(i / SLOT.length) % 2 === 0 ? "hardware" : "fido";
}

export function userSpec(name: string, kind: UserKind): UserSpec {
  switch (kind) {
    case "virtual":
      return { name, console: true, devices: ["virtual"] };
    case "hardware":
      return { name, console: true, devices: ["hardware"] };
    case "fido":
      return { name, console: true, devices: ["fido"] };
    case "consoleNoMfa":
      return { name, console: true };
    case "keyOnly":
      return { name, activeKeys: 1 };
    case "none":
      return { name };
  }
}

/** Leaf OUs the accounts are spread over (6 OUs with the "Workloads" parent). */
export const BENCH_OUS = ["Security", "Workloads/Prod", "Workloads/Dev", "Sandbox", "Infrastructure"];

/**
 * `accounts` member accounts of `usersPerAccount` users each, in the mix above; the first is the
 * security-tooling account the scanner runs in. Every account is in a StackSet target OU, so every
 * account (and the management account, through its own stack) has the audit role.
 */
export function benchOrgSpec(accounts: number, usersPerAccount: number): OrgSpec {
  const list: AccountSpec[] = [];
  for (let a = 0; a < accounts; a++) {
    const users: UserSpec[] = [];
    for (let i = 0; i < usersPerAccount; i++) users.push(userSpec(`user-${String(i).padStart(3, "0")}`, userKind(i)));
    list.push({
      name: a === 0 ? "security-tooling" : `member-${String(a).padStart(3, "0")}`,
      ou: a === 0 ? "Security" : (BENCH_OUS[1 + (a % (BENCH_OUS.length - 1))] ?? "Sandbox"),
      users: [],
    });
    const last = list.at(-1);
    if (last) last.users = users;
  }
  // rootAudit: the management account's audit role may open root sessions (the AssumeRoot run).
  return { stackSetOus: BENCH_OUS, scannerAccount: "security-tooling", accounts: list, rootAudit: true };
}

/** How many users of each kind `usersPerAccount` users hold. */
export function mixOf(usersPerAccount: number): Record<UserKind, number> {
  const mix: Record<UserKind, number> = { virtual: 0, hardware: 0, fido: 0, consoleNoMfa: 0, keyOnly: 0, none: 0 };
  for (let i = 0; i < usersPerAccount; i++) mix[userKind(i)]++;
  return mix;
}

/** How an account of the simulated organization cannot be scanned. */
export type AccountFailure =
  /** Its roles cannot be assumed (the member stack missing there, or an SCP denying it): AccessDenied. */
  | "assume-role-denied"
  /** Every IAM request is throttled, beyond the SDK's retries (another tool flooding the account's IAM). */
  | "throttled";

/**
 * How the accounts of the simulated organization (`simulated-aws.ts`, by account index) differ: users
 * per account, accounts that cannot be scanned, accounts where the quarantine is not deployed. A
 * function of the index, so the organization is generated, never stored.
 */
export interface OrgShape {
  /** A name for results. */
  name: string;
  users(accountIndex: number): number;
  failure(accountIndex: number): AccountFailure | null;
  /** The member stack has EnableQuarantine=true there: the enforcer role and the quarantine group exist. */
  quarantineDeployed(accountIndex: number): boolean;
}

/** Every account alike: `users` users, none failing, the quarantine deployed everywhere. */
export function uniformOrg(users: number): OrgShape {
  return {
    name: `uniform: ${users} users in every account`,
    users: () => users,
    failure: () => null,
    quarantineDeployed: () => true,
  };
}

/** A deterministic hash of an account index and a salt to [0, 2^32) (murmur3's finaliser). */
function hash(i: number, salt: number): number {
  let h = Math.imul(i ^ salt, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export interface HeavyTailOptions {
  /** Users in a typical account: uniformly `typical ± spread`. @default 20 ± 5 */
  typical?: number;
  spread?: number;
  /** Share of accounts with hundreds of users. @default 0.01 */
  heavyShare?: number;
  /** Users in a heavy account: uniformly in [min, max]. @default [300, 800] */
  heavyUsers?: readonly [number, number];
  /** Share of accounts whose roles cannot be assumed. @default 0.005 */
  deniedShare?: number;
  /** Share of accounts whose IAM throttles every request. @default 0.002 */
  throttledShare?: number;
  /** Share of accounts without the quarantine (no enforcer role, no group). @default 0.02 */
  quarantineMissingShare?: number;
  /** Accounts that never fail (the management account, the scanner's account): Discover needs them. */
  neverFail?: readonly number[];
}

/**
 * The heavy tail real organizations have: most accounts with about 20 users, about 1% with hundreds
 * (300–800), a few that cannot be scanned (roles denied, IAM throttled beyond retries), and a few
 * where the quarantine is not deployed. Which accounts, by a hash of the index: spread through the
 * organization, the same in every run.
 */
export function heavyTailedOrg(o: HeavyTailOptions = {}): OrgShape {
  const typical = o.typical ?? 20;
  const spread = o.spread ?? 5;
  const heavyShare = o.heavyShare ?? 0.01;
  const [hMin, hMax] = o.heavyUsers ?? [300, 800];
  const denied = o.deniedShare ?? 0.005;
  const throttled = o.throttledShare ?? 0.002;
  const missing = o.quarantineMissingShare ?? 0.02;
  const never = new Set(o.neverFail ?? [0]);
  const share = (i: number, salt: number) => hash(i, salt) / 2 ** 32;
  return {
    name: `heavy-tailed: ${typical} ± ${spread} users, ${heavyShare * 100}% of accounts with ${hMin}–${hMax}; ${denied * 100}% assume-role denied, ${throttled * 100}% throttled beyond retries; quarantine not deployed in ${missing * 100}%`,
    users: (i) =>
      share(i, 0x9e3779b9) < heavyShare
        ? hMin + (hash(i, 0x7f4a7c15) % (hMax - hMin + 1))
        : typical - spread + (hash(i, 0x165667b1) % (2 * spread + 1)),
    failure: (i) => {
      if (never.has(i)) return null;
      const x = share(i, 0x27d4eb2f);
      return x < denied ? "assume-role-denied" : x < denied + throttled ? "throttled" : null;
    },
    quarantineDeployed: (i) => never.has(i) || share(i, 0x61c88647) >= missing,
  };
}
