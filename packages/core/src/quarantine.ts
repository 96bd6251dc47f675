import { findExemption } from "./exemptions";
import { DEFAULT_CENTRAL_ENFORCER_ROLE_NAME, DEFAULT_ENFORCER_ROLE_NAME } from "./names";
import type { Exemption, ScanReport } from "./report-model";

/**
 * Quarantine: console users without MFA are put in a group whose policy denies everything but
 * enrolling MFA (while no MFA is present), and let out when they no longer should be there. Pure: the
 * state read live, in; what to do and why, out. State-based, so duplicated, late or reordered events
 * and a daily sweep all end in the same place.
 */
export type QuarantineMode = "off" | "notify" | "enforce";
export const QUARANTINE_MODES: readonly QuarantineMode[] = ["off", "notify", "enforce"];

/**
 * The IAM calls after which a user is looked at again: the member template's forwarding rule, the
 * central rule and the Enforce function follow exactly these.
 */
export const QUARANTINE_IAM_EVENTS = [
  "CreateUser",
  "DeleteUser",
  "CreateLoginProfile",
  "UpdateLoginProfile",
  "DeleteLoginProfile",
  "EnableMFADevice",
  "DeactivateMFADevice",
  "DeleteVirtualMFADevice",
  "AddUserToGroup",
  "RemoveUserFromGroup",
] as const;

/** IAM's default quota of groups a user can be in (not adjustable): the 11th add fails. */
export const MAX_GROUPS_PER_USER = 10;
export const DEFAULT_QUARANTINE_GROUP = "OrgMfaQuarantine";
/** The member template's enforcer role (EnforcerRoleName), which `orgmfa enforce` assumes in each account. */
export const DEFAULT_ENFORCER_ROLE = DEFAULT_ENFORCER_ROLE_NAME;
/** The central identity the member enforcer roles trust (CentralEnforcerRoleName). */
export const CENTRAL_ENFORCER_ROLE = DEFAULT_CENTRAL_ENFORCER_ROLE_NAME;
/** The managed policy the member template creates beside the group (attached directly when the group cannot be joined). */
export const quarantinePolicyName = (groupName: string) => `${groupName}Policy`;

/** The config's `quarantine` section. */
export interface QuarantineConfig {
  /** The mode everywhere no OU or account says otherwise. @default "off" */
  mode?: QuarantineMode;
  /** By OU id: the deepest OU of an account's path that is named here wins over `mode`. */
  ous?: Record<string, QuarantineMode>;
  /** By account id: wins over every OU. */
  accounts?: Record<string, QuarantineMode>;
  /** Hours after a password is set before its user is quarantined (time to enrol). @default 0 */
  graceHours?: number;
  groupName?: string;
  /** The member enforcer role's name (the template's EnforcerRoleName). @default "OrgMfaQuarantineRole" */
  roleName?: string;
  /**
   * Days a console user first found without MFA has to enrol before being quarantined: the scan
   * that first finds them sets "enrol by" (first found + these days), findings, the digest and
   * report.html show it, the sweep notifies until then and quarantines after. @default none (at once)
   */
  deadlineDays?: number;
  /** By OU id: the deepest OU of an account's path named here wins over `deadlineDays` (0: no deadline there). */
  deadlineDaysByOu?: Record<string, number>;
}

/** The enrolment deadline, in days, for an account (the deepest OU of its path with one, else `deadlineDays`); 0: none. */
export function deadlineDaysFor(q: QuarantineConfig | undefined, ancestry: readonly string[]): number {
  for (let i = ancestry.length - 1; i >= 0; i--) {
    const d = q?.deadlineDaysByOu?.[ancestry[i] as string];
    if (d !== undefined) return d;
  }
  return q?.deadlineDays ?? 0;
}

/** The mode for an account: its own entry, else the deepest OU of its path with one, else the default. */
export function quarantineModeFor(
  q: QuarantineConfig | undefined,
  accountId: string,
  /** OU ids from the root down to the account's parent (the root id first). */
  ancestry: readonly string[],
): QuarantineMode {
  const own = q?.accounts?.[accountId];
  if (own) return own;
  for (let i = ancestry.length - 1; i >= 0; i--) {
    const m = q?.ous?.[ancestry[i] as string];
    if (m) return m;
  }
  return q?.mode ?? "off";
}

/** One user as read live, with the enforcer role, when the decision is made. */
export interface QuarantineUserState {
  accountId: string;
  userName: string;
  /** The user no longer exists (deleted since the event or the scan). */
  deleted?: boolean;
  /** When the user's console password was set (`GetLoginProfile`'s CreateDate); null: no console password. */
  passwordSetAt: Date | null;
  /** At least one MFA device is enabled for the user. */
  mfaEnabled: boolean;
  /** The groups the user is in, by name. */
  groups: readonly string[];
  /** The quarantine policy is attached to the user directly (the group could not be joined). */
  policyAttached: boolean;
}

export type QuarantineAction =
  | { kind: "none" }
  /** Join the group, or (in the maximum number of groups already) have the policy attached directly. */
  | { kind: "quarantine"; via: "group" | "policy" }
  /** Leave the group and/or have the directly attached policy detached. */
  | { kind: "release"; from: Array<"group" | "policy"> };

export interface QuarantineDecision {
  accountId: string;
  userName: string;
  mode: QuarantineMode;
  /** Whether the user should be quarantined now. */
  quarantine: boolean;
  /** Whether the user is quarantined now (in the group, or the policy attached). */
  quarantined: boolean;
  action: QuarantineAction;
  /** Why, in words a person reads in the plan and the digest. */
  reason: string;
  /** The exemption that keeps the user out, if any. */
  exemption?: { reason: string; expires: string } | null;
  /** The user may not be quarantined before this time (grace after a password was set). */
  graceUntil?: string | null;
  /** The user's enrolment deadline (first found + the deadline's days): not quarantined before it. */
  enrolBy?: string | null;
}

export interface DecideOptions {
  mode: QuarantineMode;
  groupName: string;
  now: Date;
  graceHours?: number;
  exemptions?: readonly Exemption[];
  /** The user's enrolment deadline, from the scan that first found them without MFA (none: no deadline). */
  enrolBy?: string | null;
  /**
   * The account has an enrolment deadline but this decision does not know the user's (an IAM event):
   * quarantine is the daily sweep's, once the deadline has passed; the event may only release.
   */
  deadlineUnknown?: boolean;
}

/**
 * What should happen to one user. Mode `off` wants nobody quarantined (turning quarantine off lets
 * everyone out); `notify` and `enforce` decide alike — whether the plan is applied is the caller's
 * (`enforce` only).
 */
export function decideQuarantine(u: QuarantineUserState, o: DecideOptions): QuarantineDecision {
  const inGroup = u.groups.includes(o.groupName);
  const quarantined = inGroup || u.policyAttached;
  const base = { accountId: u.accountId, userName: u.userName, mode: o.mode, quarantined };
  const out = (reason: string, extra: Partial<QuarantineDecision> = {}): QuarantineDecision => {
    const from: Array<"group" | "policy"> = [];
    if (inGroup) from.push("group");
    if (u.policyAttached) from.push("policy");
    return {
      ...base,
      quarantine: false,
      action: quarantined && !u.deleted ? { kind: "release", from } : { kind: "none" },
      reason,
      ...extra,
    };
  };
  if (u.deleted) return out("the user no longer exists");
  if (o.mode === "off") return out("quarantine is off here");
  if (u.passwordSetAt === null)
    return out("no console password: API-only users are never quarantined (it would break automation)");
  if (u.mfaEnabled) return out("has an MFA device enabled");
  const { active } = findExemption(
    o.exemptions ?? [],
    { accountId: u.accountId, checkId: "USER_CONSOLE_NO_MFA", principal: { kind: "user", userName: u.userName } },
    o.now,
  );
  if (active)
    return out(`exempted until ${active.expires}: ${active.reason}`, {
      exemption: { reason: active.reason, expires: active.expires },
    });
  const graceMs = Math.max(0, o.graceHours ?? 0) * 3_600_000;
  const graceEnds = u.passwordSetAt.getTime() + graceMs;
  if (graceMs > 0 && o.now.getTime() < graceEnds)
    return out(`password set less than ${o.graceHours} h ago: time to enrol MFA`, {
      graceUntil: new Date(graceEnds).toISOString(),
    });
  if (o.deadlineUnknown && !o.enrolBy)
    return out(
      "console password without MFA: an enrolment deadline applies here, so the daily sweep quarantines once it has passed",
    );
  if (o.enrolBy && o.now.getTime() < Date.parse(o.enrolBy))
    return out(`console password without MFA: enrol by ${o.enrolBy} (quarantined after that)`, { enrolBy: o.enrolBy });
  const reason = o.enrolBy
    ? `console password without MFA; the deadline ${o.enrolBy} has passed`
    : "console password without MFA";
  const dated = o.enrolBy ? { enrolBy: o.enrolBy } : {};
  if (quarantined) return { ...base, ...dated, quarantine: true, action: { kind: "none" }, reason };
  return {
    ...base,
    ...dated,
    quarantine: true,
    action: { kind: "quarantine", via: u.groups.length >= MAX_GROUPS_PER_USER ? "policy" : "group" },
    reason:
      u.groups.length >= MAX_GROUPS_PER_USER
        ? `${reason}; already in ${u.groups.length} groups (IAM's maximum), so the policy is attached to the user directly`
        : reason,
  };
}

/**
 * What a sweep starts from, read off a scan's report: for every audited account (even with nobody),
 * its console users without MFA — exempted ones too, so that a sweep lets them out — and its API-only
 * users without MFA still open, whom quarantine never touches but names.
 */
export function usersWithoutMfa(report: Pick<ScanReport, "accounts" | "findings">): {
  console: Record<string, string[]>;
  apiOnly: Record<string, string[]>;
  /** Enrolment deadlines of console users without MFA, by account and user (only where one is set). */
  enrolBy: Record<string, Record<string, string>>;
} {
  const console: Record<string, string[]> = {};
  const apiOnly: Record<string, string[]> = {};
  const enrolBy: Record<string, Record<string, string>> = {};
  for (const a of report.accounts) if (a.status === "AUDITED") console[a.accountId] = [];
  for (const f of report.findings) {
    if (!f.userName) continue;
    if (f.checkId === "USER_CONSOLE_NO_MFA" && f.enrolBy) {
      const byUser = enrolBy[f.accountId] ?? {};
      byUser[f.userName] = f.enrolBy;
      enrolBy[f.accountId] = byUser;
    }
    if (f.checkId === "USER_CONSOLE_NO_MFA") console[f.accountId]?.push(f.userName);
    else if (f.checkId === "USER_API_NO_MFA" && f.status === "OPEN")
      apiOnly[f.accountId] = [...(apiOnly[f.accountId] ?? []), f.userName];
  }
  return { console, apiOnly, enrolBy };
}
