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
  OrgMfaError,
  type QuarantineConfig,
  type QuarantineDecision,
  type QuarantineMode,
  type QuarantineUserState,
  quarantineModeFor,
  quarantinePolicyName,
} from "@orgmfa/core";
import { SNS_MAX_BYTES, section, shrinkToFit, snsSubject } from "@orgmfa/render";
import pLimit from "p-limit";
import type { ClientPool } from "./client-pool";
import { errorCode, errorMessage, isNoSuchEntity } from "./errors";
import { FORWARDING_DLQ_NAME, FORWARDING_REGION, type ForwardingBacklog } from "./forwarding";

/** The quarantine's group and policy in one account (the member template's names). */
export interface QuarantineTarget {
  accountId: string;
  partition: string;
  groupName: string;
}

export const quarantinePolicyArn = (t: QuarantineTarget) =>
  `arn:${t.partition}:iam::${t.accountId}:policy/${quarantinePolicyName(t.groupName)}`;

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
    if (isNoSuchEntity(e))
      return { ...base, deleted: true, passwordSetAt: null, mfaEnabled: false, groups: [], policyAttached: false };
    throw e;
  }
  const policyArn = quarantinePolicyArn(t);
  const [passwordSetAt, mfaEnabled, groups, policyAttached] = await Promise.all([
    iam.send(new GetLoginProfileCommand({ UserName: userName })).then(
      (r) => r.LoginProfile?.CreateDate ?? new Date(0),
      (e) => {
        if (isNoSuchEntity(e)) return null;
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
    if (isNoSuchEntity(e)) throw new QuarantineNotDeployedError(t, e);
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
export class QuarantineNotDeployedError extends OrgMfaError {
  readonly kind = "account";
  constructor(t: QuarantineTarget, cause?: unknown) {
    super(
      `account ${t.accountId} has no quarantine group ${t.groupName}: deploy the member template there with EnableQuarantine=true`,
      { cause },
    );
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
          if (!isNoSuchEntity(e)) throw e;
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
  /** Enrolment deadlines by account and user (the scan's findings' `enrolBy`): nobody is quarantined before theirs. */
  enrolBy?: Readonly<Record<string, Readonly<Record<string, string>>>>;
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
                    enrolBy: o.enrolBy?.[target.accountId]?.[userName] ?? null,
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

/** A sweep's counts: the plan's and the workflow's summary. */
export interface SweepSummary {
  quarantined: number;
  released: number;
  /** Changes decided but not made: a plan without --apply, or `notify` mode. */
  pending: number;
  /** Users looked at whose state is already right. */
  unchanged: number;
  failed: number;
  /** Accounts not reconciled where quarantine is not off (no enforcer role or group, or unreadable). */
  accountsNotReconciled: number;
}

export function summarizeSweep(r: {
  accounts: readonly SweepAccount[];
  decisions: readonly AppliedDecision[];
}): SweepSummary {
  const count = (p: (d: AppliedDecision) => boolean) => r.decisions.filter(p).length;
  return {
    quarantined: count((d) => d.applied && d.action.kind === "quarantine"),
    released: count((d) => d.applied && d.action.kind === "release"),
    pending: count((d) => !d.applied && !d.error && d.action.kind !== "none"),
    unchanged: count((d) => d.action.kind === "none"),
    failed: count((d) => !!d.error),
    accountsNotReconciled: r.accounts.filter((a) => a.status !== "reconciled" && a.mode !== "off").length,
  };
}

/** How a decision ended, in the words the plan, the records and the announcements share. */
export function decisionOutcome(d: AppliedDecision): { state: "none" | "done" | "planned" | "failed"; text: string } {
  const a = d.action;
  if (a.kind === "none") return { state: "none", text: "unchanged" };
  if (d.error) return { state: "failed", text: `FAILED to ${a.kind}: ${d.error.code}` };
  const via = a.kind === "quarantine" && a.via === "policy" ? " (policy)" : "";
  const done = a.kind === "quarantine" ? "quarantined" : "released";
  return d.applied ? { state: "done", text: `${done}${via}` } : { state: "planned", text: `would ${a.kind}${via}` };
}

/** Room left in an SNS message (256 KiB) for what the caller puts before the announcement's lines. */
const ANNOUNCEMENT_MAX_BYTES = SNS_MAX_BYTES - 6 * 1024;

/**
 * What a sweep says on the digest topic, or null when there is nothing to say: the changes made,
 * pending or failed with their reasons, the accounts not reconciled, the accounts whose IAM events
 * wait in their forwarding dead-letter queue (`forwarding`: the sweep's reads of those queues; an
 * account whose queue could not be read is not named — most have no forwarding), then the API-only
 * users without MFA by name (never quarantined, not forgotten). Cut as the scan digest is: each list
 * ends in "… and N more" after `listLimit` lines, and the lists shrink until the lines fit in
 * `maxBytes` (UTF-8) — a Publish over SNS's 256 KB would fail every daily run.
 */
export function sweepAnnouncement(
  r: {
    accounts: readonly SweepAccount[];
    decisions: readonly AppliedDecision[];
    forwarding?: readonly ForwardingBacklog[];
  },
  apiOnlyWithoutMfa: Readonly<Record<string, readonly string[]>>,
  o: { listLimit?: number; maxBytes?: number } = {},
): { subject: string; lines: string[] } | null {
  const s = summarizeSweep(r);
  const waiting = (r.forwarding ?? []).filter((b) => (b.events ?? 0) > 0);
  const notForwarded = waiting.reduce((n, b) => n + (b.events ?? 0), 0);
  // Users before their enrolment deadline: told, every sweep until they enrol or it passes.
  const deadlines = r.decisions
    .filter((d) => d.enrolBy && !d.quarantine && d.action.kind === "none")
    .sort((a, b) => (a.enrolBy ?? "").localeCompare(b.enrolBy ?? ""))
    .map((d) => `${d.accountId} ${d.userName}: enrol MFA by ${d.enrolBy} (quarantined after that)`);
  if (
    s.quarantined + s.released + s.pending + s.failed + s.accountsNotReconciled + waiting.length + deadlines.length ===
    0
  )
    return null;
  const changes = r.decisions
    .filter((d) => d.action.kind !== "none")
    .map((d) => {
      const out = decisionOutcome(d);
      return `${d.accountId} ${d.userName}: ${out.text}${out.state === "planned" ? ` (${d.mode})` : ""} — ${d.reason}`;
    });
  const notReconciled = r.accounts
    .filter((a) => a.status !== "reconciled" && a.mode !== "off")
    .map((a) => `${a.accountId}: not reconciled — ${a.error?.message}`);
  const names = new Map(r.accounts.map((a) => [a.accountId, a.accountName]));
  const events = (n: number) => `${n} IAM event${n === 1 ? "" : "s"}`;
  const unforwarded = waiting.map(
    (b) =>
      `${b.accountId}${names.get(b.accountId) ? ` (${names.get(b.accountId)})` : ""}: ${events(b.events ?? 0)} not forwarded`,
  );
  const apiOnly = Object.entries(apiOnlyWithoutMfa).flatMap(([id, users]) => users.map((u) => `${id} ${u}`));
  const render = (limit: number) =>
    [
      ...section(`Changes (${changes.length}):`, changes, limit),
      ...section(`Before their enrolment deadline (${deadlines.length}):`, deadlines, limit),
      ...section(`Accounts not reconciled (${notReconciled.length}):`, notReconciled, limit),
      ...section(
        `IAM events not forwarded to the central bus (${unforwarded.length} account${unforwarded.length === 1 ? "" : "s"}, ${events(notForwarded)}), kept in each account's ${FORWARDING_DLQ_NAME} (${FORWARDING_REGION}) — fix the forwarding (the central bus's policy, the account's forwarding role), then purge the queue (the daily sweep has reconciled those accounts' users already):`,
        unforwarded,
        limit,
      ),
      ...section(
        `API-only users without MFA (${apiOnly.length}), never quarantined — it would break their automation; give them MFA or roles:`,
        apiOnly,
        limit,
      ),
    ].slice(1); // the first section's blank line: the caller puts its own before the lines
  const lines = shrinkToFit(render, (l) => l.join("\n"), {
    start: o.listLimit ?? 200,
    maxBytes: o.maxBytes ?? ANNOUNCEMENT_MAX_BYTES,
  });
  return {
    subject: snsSubject(
      `orgmfa quarantine: ${s.quarantined} quarantined, ${s.released} released, ${s.pending} pending${deadlines.length ? `, ${deadlines.length} to enrol by a deadline` : ""}${notForwarded ? `, ${events(notForwarded)} not forwarded` : ""}`,
    ),
    lines,
  };
}
