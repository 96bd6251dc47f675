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
  return { stackSetOus: BENCH_OUS, scannerAccount: "security-tooling", accounts: list };
}

/** How many users of each kind `usersPerAccount` users hold. */
export function mixOf(usersPerAccount: number): Record<UserKind, number> {
  const mix: Record<UserKind, number> = { virtual: 0, hardware: 0, fido: 0, consoleNoMfa: 0, keyOnly: 0, none: 0 };
  for (let i = 0; i < usersPerAccount; i++) mix[userKind(i)]++;
  return mix;
}
