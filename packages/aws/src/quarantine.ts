import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  DetachUserPolicyCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  type IAMClient,
  ListMFADevicesCommand,
  paginateGetGroup,
  paginateListAttachedUserPolicies,
  paginateListEntitiesForPolicy,
  paginateListGroupsForUser,
  RemoveUserFromGroupCommand,
} from "@aws-sdk/client-iam";
import {
  type AccountTarget,
  DEFAULT_QUARANTINE_GROUP,
  type DecideOptions,
  decideQuarantine,
  type Exemption,
  type QuarantineConfig,
  type QuarantineDecision,
  type QuarantineMode,
  type QuarantineUserState,
  quarantineModeFor,
  quarantinePolicyName,
} from "@orgmfa/core";
import pLimit from "p-limit";
import type { ClientPool } from "./client-pool";
import { errorCode, errorMessage } from "./errors";

/** The quarantine's group and policy in one account (the member template's names). */
export interface QuarantineTarget {
  accountId: string;
  partition: string;
  groupName: string;
}

export const quarantinePolicyArn = (t: QuarantineTarget) =>
  `arn:${t.partition}:iam::${t.accountId}:policy/${quarantinePolicyName(t.groupName)}`;

const missing = (e: unknown) => errorCode(e) === "NoSuchEntity" || errorCode(e) === "NoSuchEntityException";

/**
 * One user's state as it is now, read with the enforcer role: whether the user exists, their console
 * password and when it was set, whether an MFA device is enabled, their groups, and whether the
 * quarantine policy is attached to them directly.
 */
export async function readQuarantineState(
  iam: IAMClient,
  t: QuarantineTarget,
  userName: string,
): Promise<QuarantineUserState> {
  const base = { accountId: t.accountId, userName };
  try {
    await iam.send(new GetUserCommand({ UserName: userName }));
  } catch (e) {
    if (missing(e))
      return { ...base, deleted: true, passwordSetAt: null, mfaEnabled: false, groups: [], policyAttached: false };
    throw e;
  }
  const policyArn = quarantinePolicyArn(t);
  const [passwordSetAt, mfaEnabled, groups, policyAttached] = await Promise.all([
    iam.send(new GetLoginProfileCommand({ UserName: userName })).then(
      (r) => r.LoginProfile?.CreateDate ?? new Date(0),
      (e) => {
        if (missing(e)) return null;
        throw e;
      },
    ),
    // One page is enough: any device listed for the user is an enabled one.
    iam.send(new ListMFADevicesCommand({ UserName: userName })).then((r) => (r.MFADevices ?? []).length > 0),
    (async () => {
      const names: string[] = [];
      for await (const page of paginateListGroupsForUser({ client: iam }, { UserName: userName }))
        for (const g of page.Groups ?? []) if (g.GroupName) names.push(g.GroupName);
      return names;
    })(),
    (async () => {
      for await (const page of paginateListAttachedUserPolicies({ client: iam }, { UserName: userName }))
        if ((page.AttachedPolicies ?? []).some((p) => p.PolicyArn === policyArn)) return true;
      return false;
    })(),
  ]);
  return { ...base, passwordSetAt, mfaEnabled, groups, policyAttached };
}

/** Who is quarantined in an account now: the group's members and the users the policy is attached to. */
export async function quarantinedUsers(iam: IAMClient, t: QuarantineTarget): Promise<string[]> {
  const names = new Set<string>();
  try {
    for await (const page of paginateGetGroup({ client: iam }, { GroupName: t.groupName }))
      for (const u of page.Users ?? []) if (u.UserName) names.add(u.UserName);
  } catch (e) {
    if (missing(e)) throw new QuarantineNotDeployedError(t, e);
    throw e;
  }
  for await (const page of paginateListEntitiesForPolicy(
    { client: iam },
    { PolicyArn: quarantinePolicyArn(t), EntityFilter: "User" },
  ))
    for (const u of page.PolicyUsers ?? []) if (u.UserName) names.add(u.UserName);
  return [...names].sort();
}

/** The account has no quarantine group (EnableQuarantine is not "true" in its member stack). */
export class QuarantineNotDeployedError extends Error {
  constructor(t: QuarantineTarget, cause?: unknown) {
    super(
      `account ${t.accountId} has no quarantine group ${t.groupName}: deploy the member template there with EnableQuarantine=true`,
      { cause },
    );
    this.name = "QuarantineNotDeployedError";
  }
}

export interface AppliedDecision extends QuarantineDecision {
  /** The change was made (enforce mode, applied); false when only planned. */
  applied: boolean;
  /** The change was attempted and failed: the code and message. */
  error?: { code: string; message: string } | null;
}

/**
 * Makes the one change a decision asks for. A user who reached IAM's maximum number of groups since
 * the decision gets the policy attached directly instead; removing a user who already left is done.
 */
export async function applyQuarantine(
  iam: IAMClient,
  t: QuarantineTarget,
  d: QuarantineDecision,
): Promise<AppliedDecision> {
  const policyArn = quarantinePolicyArn(t);
  const user = { UserName: d.userName };
  try {
    if (d.action.kind === "quarantine") {
      if (d.action.via === "group") {
        try {
          await iam.send(new AddUserToGroupCommand({ ...user, GroupName: t.groupName }));
        } catch (e) {
          if (errorCode(e) !== "LimitExceeded" && errorCode(e) !== "LimitExceededException") throw e;
          await iam.send(new AttachUserPolicyCommand({ ...user, PolicyArn: policyArn }));
          return {
            ...d,
            action: { kind: "quarantine", via: "policy" },
            reason: `${d.reason}; the group could not be joined (IAM's maximum of groups), so the policy is attached directly`,
            applied: true,
          };
        }
      } else await iam.send(new AttachUserPolicyCommand({ ...user, PolicyArn: policyArn }));
    } else if (d.action.kind === "release") {
      for (const from of d.action.from) {
        try {
          if (from === "group") await iam.send(new RemoveUserFromGroupCommand({ ...user, GroupName: t.groupName }));
          else await iam.send(new DetachUserPolicyCommand({ ...user, PolicyArn: policyArn }));
        } catch (e) {
          if (!missing(e)) throw e;
        }
      }
    }
    return { ...d, applied: d.action.kind !== "none" };
  } catch (e) {
    return { ...d, applied: false, error: { code: errorCode(e), message: errorMessage(e) } };
  }
}

/**
 * Whether a decision is carried out: in `enforce` mode, when applying; in `off` mode only a release
 * (turning quarantine off lets everyone out); `notify` only reports.
 */
export const isApplied = (d: QuarantineDecision, apply: boolean) =>
  apply && d.action.kind !== "none" && (d.mode === "enforce" || (d.mode === "off" && d.action.kind === "release"));

/** Reads a user's state, decides, and (when `apply`) makes the change: what one event or one sweep step does. */
export async function reconcileUser(
  iam: IAMClient,
  t: QuarantineTarget,
  userName: string,
  o: DecideOptions & { apply: boolean },
): Promise<AppliedDecision> {
  const decision = decideQuarantine(await readQuarantineState(iam, t, userName), o);
  return isApplied(decision, o.apply) ? applyQuarantine(iam, t, decision) : { ...decision, applied: false };
}

/** One account's part of a sweep. */
export interface SweepAccount {
  accountId: string;
  accountName: string;
  mode: QuarantineMode;
  /**
   * `reconciled`: every user looked at; `not-deployed`: no enforcer role or quarantine group there
   * (the member stack without EnableQuarantine=true); `failed`: it could not be read.
   */
  status: "reconciled" | "not-deployed" | "failed";
  error: { code: string; message: string } | null;
  /** Users looked at: the console users without MFA the scan found, and whoever is quarantined now. */
  users: number;
}

export interface SweepOptions {
  quarantine: QuarantineConfig | undefined;
  exemptions?: readonly Exemption[];
  now: Date;
  /** Make the changes (`enforce` mode only, and releases in `off` mode); otherwise plan only. */
  apply: boolean;
  partition: string;
  /** Accounts at once. @default 8 */
  concurrency?: number;
}

/**
 * The sweep over the in-scope accounts: in each, the console users without MFA the scan found and the
 * users quarantined now are each read live through the enforcer role, decided, and (when applying)
 * changed. An account where quarantine is off and nobody is quarantined needs no call beyond listing
 * who is. One account's failure never stops the others; it is in the result.
 */
export async function sweepQuarantine(
  enforcers: ClientPool,
  targets: readonly AccountTarget[],
  consoleWithoutMfa: ReadonlyMap<string, readonly string[]>,
  o: SweepOptions,
): Promise<{ accounts: SweepAccount[]; decisions: AppliedDecision[] }> {
  const groupName = o.quarantine?.groupName ?? DEFAULT_QUARANTINE_GROUP;
  const accounts: SweepAccount[] = [];
  const decisions: AppliedDecision[] = [];
  const limit = pLimit(Math.max(1, o.concurrency ?? 8));
  await Promise.all(
    targets
      .filter((t) => t.skip === null)
      .map((target) =>
        limit(async () => {
          const mode = quarantineModeFor(o.quarantine, target.accountId, target.ouIds ?? []);
          const t = { accountId: target.accountId, partition: o.partition, groupName };
          const account: SweepAccount = {
            accountId: target.accountId,
            accountName: target.accountName,
            mode,
            status: "reconciled",
            error: null,
            users: 0,
          };
          accounts.push(account);
          try {
            const iam = enforcers.iam(target.accountId);
            const members = await quarantinedUsers(iam, t);
            const users = [
              ...new Set([...members, ...(mode === "off" ? [] : (consoleWithoutMfa.get(target.accountId) ?? []))]),
            ].sort();
            account.users = users.length;
            const userLimit = pLimit(4);
            const decided = await Promise.all(
              users.map((userName) =>
                userLimit(() =>
                  reconcileUser(iam, t, userName, {
                    mode,
                    groupName,
                    now: o.now,
                    graceHours: o.quarantine?.graceHours,
                    exemptions: o.exemptions,
                    apply: o.apply,
                  }),
                ),
              ),
            );
            decisions.push(...decided);
          } catch (e) {
            const code = errorCode(e);
            const notDeployed =
              e instanceof QuarantineNotDeployedError || code === "AccessDenied" || code === "AccessDeniedException";
            account.status = notDeployed ? "not-deployed" : "failed";
            account.error = {
              code: e instanceof QuarantineNotDeployedError ? "QuarantineNotDeployed" : code,
              message:
                e instanceof QuarantineNotDeployedError
                  ? e.message
                  : notDeployed
                    ? `the enforcer role cannot be assumed or used in ${target.accountId} (${errorMessage(e)}): deploy the member template there with EnableQuarantine=true, and run as the role its CentralEnforcerRoleName names`
                    : errorMessage(e),
            };
          } finally {
            enforcers.release(target.accountId);
          }
        }),
      ),
  );
  const byAccount = (a: { accountId: string }, b: { accountId: string }) => a.accountId.localeCompare(b.accountId);
  accounts.sort(byAccount);
  decisions.sort((a, b) => byAccount(a, b) || a.userName.localeCompare(b.userName));
  return { accounts, decisions };
}
