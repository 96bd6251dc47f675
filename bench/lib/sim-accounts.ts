import type { ScanReport } from "@orgmfa/core";
import { type AccountFailure, type OrgShape, type UserKind, userKind } from "./org-spec";
import { expectedVerdict, verdictOf } from "./verdicts";

/**
 * The simulated organization's accounts and the truth about them, which every simulated service reads
 * (`simulated-aws.ts` keeps one and hands it to each): account `i` has id `100000000000 + i`; its
 * users, whether it fails and whether the quarantine is deployed there are its shape's (`org-spec.ts`),
 * by index, so nothing is stored per user and the truth is known at any size.
 */

export const FIRST_ACCOUNT = 100_000_000_000;
export const ORG_ID = "o-simulated01";
/** When every generated entity was created. */
export const CREATED = Date.parse("2024-01-02T03:04:05Z");

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

export interface SimAccountsOptions {
  /** Accounts, the management account (index 0) included. */
  accounts: number;
  /** Users in every account, unless the shape says otherwise. */
  usersPerAccount: number;
  shape: OrgShape;
  /** Every n-th account's root user has no MFA. */
  rootWithoutMfaEvery: number;
  /** The account the base credentials act in. */
  scannerAccountIndex: number;
}

export class SimAccounts {
  readonly count: number;
  readonly managementAccountId: string;
  readonly scannerAccountId: string;
  private readonly shape: OrgShape;
  /** Users of each size of account, made once (accounts share them: the truth is by index in the account). */
  private readonly usersBySize = new Map<number, SimUser[]>();

  constructor(private readonly o: SimAccountsOptions) {
    this.count = o.accounts;
    this.shape = o.shape;
    this.managementAccountId = this.accountId(0);
    this.scannerAccountId = this.accountId(o.scannerAccountIndex);
  }

  accountId(i: number): string {
    return String(FIRST_ACCOUNT + i);
  }

  /** The index of an account of the organization, or -1. */
  accountIndex(accountId: string): number {
    const i = Number(accountId) - FIRST_ACCOUNT;
    return Number.isInteger(i) && i >= 0 && i < this.count ? i : -1;
  }

  /** Whether the root user of an account has MFA. */
  rootHasMfa(accountId: string): boolean {
    return this.accountIndex(accountId) % this.o.rootWithoutMfaEvery !== 1;
  }

  /** The users of an account (without one: the `usersPerAccount` of a uniform organization). */
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

  /**
   * Whether the quarantine is deployed in an account: the member stack's enforcer role, quarantine
   * group and policy, and its forwarding dead-letter queue.
   */
  quarantineDeployed(accountId: string): boolean {
    const i = this.accountIndex(accountId);
    return i >= 0 && this.shape.quarantineDeployed(i) && this.failure(accountId) !== "assume-role-denied";
  }

  /** Accounts the shape fails (assume-role denied, throttled beyond retries). */
  failingAccounts(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.shape.failure(i) !== null) n++;
    return n;
  }

  /** Users in heavy accounts and in all, over every account. */
  userCounts(heavyFrom = 100): { users: number; heavyAccounts: number; maxUsers: number } {
    let users = 0;
    let heavyAccounts = 0;
    let maxUsers = 0;
    for (let i = 0; i < this.count; i++) {
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
    for (let i = 0; i < this.count; i++) if (this.shape.failure(i) === null) n += this.shape.users(i);
    return n;
  }
}

/**
 * Every user and root user of a report against the simulation's truth: users compared, verdicts
 * wrong (with a few examples), accounts not audited that the simulation does not fail (`failed`), and
 * accounts the simulation fails reported FAILED (`failedAsSimulated`; one of them audited is wrong).
 */
export function checkAgainstSimulation(
  report: ScanReport,
  sim: Pick<SimAccounts, "failure" | "users" | "rootHasMfa">,
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
