import type { ScanReport } from "@orgmfa/core";
import type { UserVerdictFacts, Verdicts } from "./baselines";
import type { UserKind } from "./org-spec";

export type Verdict = "console no MFA" | "api no MFA" | "no MFA no credentials" | "ok";

/** The verdict of a user from what a scan established (console and keys must be known). */
export function verdictOf(f: { hasMfa: boolean; console: boolean; activeKeys: number }): Verdict {
  if (f.hasMfa) return "ok";
  if (f.console) return "console no MFA";
  if (f.activeKeys > 0) return "api no MFA";
  return "no MFA no credentials";
}

/** The verdict the emulator was seeded to produce for a kind of user. */
export function expectedVerdict(kind: UserKind): Verdict {
  switch (kind) {
    case "virtual":
    case "hardware":
    case "fido":
      return "ok";
    case "consoleNoMfa":
      return "console no MFA";
    case "keyOnly":
      return "api no MFA";
    case "none":
      return "no MFA no credentials";
  }
}

/** The users of every audited account of an orgmfa report; failed accounts are listed apart. */
export function verdictsOfReport(report: ScanReport): { verdicts: Verdicts; failed: string[] } {
  const verdicts: Verdicts = new Map();
  const failed: string[] = [];
  for (const a of report.accounts) {
    if (a.status === "FAILED") failed.push(`${a.accountId} ${a.reason ?? ""} ${a.error?.code ?? ""}`.trim());
    if (a.status !== "AUDITED") continue;
    const users = new Map<string, UserVerdictFacts>();
    for (const u of a.users)
      users.set(u.userName, {
        hasMfa: u.mfaDevices.length > 0 || u.mfaActive === true,
        console: u.consoleAccess,
        activeKeys: u.activeAccessKeys,
      });
    verdicts.set(a.accountId, users);
  }
  return { verdicts, failed };
}

export interface Comparison {
  /** Users compared (every user of the reference). */
  users: number;
  /** Users whose verdict differs, missing or unexpected users, accounts missing — with a few examples. */
  differences: number;
  examples: string[];
}

/**
 * Compares a run with the exact scan, user by user. `mfaOnly`: compare only whether the user has MFA
 * (the seed algorithm cannot tell console from API users).
 */
export function compareVerdicts(run: Verdicts, exact: Verdicts, mfaOnly: boolean): Comparison {
  let users = 0;
  let differences = 0;
  const examples: string[] = [];
  const differ = (what: string) => {
    differences++;
    if (examples.length < 5) examples.push(what);
  };
  for (const [account, reference] of exact) {
    const mine = run.get(account);
    if (!mine) {
      differ(`account ${account} missing`);
      continue;
    }
    for (const [name, ref] of reference) {
      users++;
      const got = mine.get(name);
      if (!got) {
        differ(`${account}/${name} missing`);
        continue;
      }
      const want = mfaOnly ? String(ref.hasMfa) : verdictOf(known(ref));
      const have = mfaOnly ? String(got.hasMfa) : verdictOf(known(got));
      if (want !== have) differ(`${account}/${name}: ${have}, exact scan says ${want}`);
    }
    for (const name of mine.keys()) if (!reference.has(name)) differ(`${account}/${name} not in the exact scan`);
  }
  for (const account of run.keys()) if (!exact.has(account)) differ(`account ${account} not in the exact scan`);
  return { users, differences, examples };
}

function known(f: UserVerdictFacts): { hasMfa: boolean; console: boolean; activeKeys: number } {
  if (f.console === null || f.activeKeys === null) throw new Error("a full verdict needs console and keys");
  return { hasMfa: f.hasMfa, console: f.console, activeKeys: f.activeKeys };
}
