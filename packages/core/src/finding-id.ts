import { CHECK_IDS, type CheckId } from "./checks";
import type { Finding } from "./report-model";

/** Whom a finding is about. */
export type Principal = { kind: "user"; userName: string } | { kind: "root" } | { kind: "account" };

/** The one place that says whether a finding is about an IAM user, root, or the account itself. */
export function principalOf(f: Pick<Finding, "userName" | "principalArn">): Principal {
  if (f.userName !== null) return { kind: "user", userName: f.userName };
  return f.principalArn !== null ? { kind: "root" } : { kind: "account" };
}

/** How a finding's principal reads: the user name, `root`, or `none` for an account-level finding. */
export function principalLabel(f: Pick<Finding, "userName" | "principalArn">, none = "—"): string {
  const p = principalOf(f);
  return p.kind === "user" ? p.userName : p.kind === "root" ? "root" : none;
}

/**
 * The stable id of a finding, `orgmfa/<check>/<account>/user/<name>` | `/root` | `/account`: the
 * same gap in the same account has the same id in every scan, so Security Hub upserts it and scans
 * can be compared. {@link parseFindingId} reads it back.
 */
export function findingId(checkId: CheckId, accountId: string, principal: Principal): string {
  const who = principal.kind === "user" ? `user/${principal.userName}` : principal.kind;
  return `orgmfa/${checkId}/${accountId}/${who}`;
}

/** The parts of an orgmfa finding id, or null when `id` is not one. */
export function parseFindingId(id: string): { checkId: CheckId; accountId: string; principal: Principal } | null {
  const m = /^orgmfa\/([A-Z_]+)\/(\d{12})\/(user\/(.+)|root|account)$/.exec(id);
  if (!m || !(CHECK_IDS as readonly string[]).includes(m[1] ?? "")) return null;
  const principal: Principal =
    m[4] !== undefined ? { kind: "user", userName: m[4] } : m[3] === "root" ? { kind: "root" } : { kind: "account" };
  return { checkId: m[1] as CheckId, accountId: m[2] ?? "", principal };
}
