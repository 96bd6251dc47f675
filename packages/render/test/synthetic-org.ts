// A synthetic organization's report built in memory, as the pipeline benchmark's (bench/lib/org-spec.ts)
// mix: no AWS, no emulator, just the core's own aggregation over generated facts.
import {
  type AccountEntry,
  type AccountOutcome,
  type AccountTarget,
  accountEntry,
  buildReport,
  type Exemption,
  policyFromConfig,
  type ScanReport,
  type UserFacts,
} from "@orgmfa/core";

export const SYNTHETIC_NOW = new Date("2026-11-21T12:00:00Z");

/** Leaf OUs the accounts are spread over, as the benchmark's. */
const OUS = ["Root/Security", "Root/Workloads/Prod", "Root/Workloads/Dev", "Root/Sandbox", "Root/Infrastructure"];

export interface SyntheticOrg {
  /** Member accounts. */
  accounts: number;
  /** Users per audited account. */
  users: number;
  /** Every `failEvery`-th account (from the second) could not be audited (0: none). */
  failEvery?: number;
  /** Every `skipEvery`-th account (from the third) is suspended, so skipped (0: none). */
  skipEvery?: number;
  /** Exemptions of the config the scan ran with. */
  exemptions?: Exemption[];
  /** An account's name (default `member-00042`). */
  name?: (i: number) => string;
  /** Pack each account's users as Publish does for thousands of accounts (default true). */
  packUsers?: boolean;
  /** Config warnings to record. */
  warnings?: Array<{ field: string; message: string }>;
}

export const accountIdOf = (i: number) => String(300000000000 + i);

/** The benchmark's mix in slots of 20: 13 virtual MFA, 1 FIDO, 3 console without MFA, 2 key only, 1 nothing. */
const SLOT = "vvcvvfvvkvcvvnvvcvkv";

function userOf(accountId: string, i: number): UserFacts {
  const name = `user-${String(i).padStart(3, "0")}`;
  const kind = SLOT[i % SLOT.length];
  const device = (type: "mfa" | "u2f") => ({
    serialNumber: `arn:aws:iam::${accountId}:${type}/${name}`,
    type: type === "mfa" ? ("VIRTUAL" as const) : ("FIDO" as const),
    enabledAt: "2026-02-01T00:00:00.000Z",
  });
  return {
    userName: name,
    arn: `arn:aws:iam::${accountId}:user/${name}`,
    createdAt: "2026-01-01T00:00:00.000Z",
    consoleAccess: kind !== "k" && kind !== "n",
    passwordLastUsed: kind === "c" ? "2026-11-20T09:00:00.000Z" : null,
    activeAccessKeys: kind === "k" ? 1 : 0,
    mfaDevices: kind === "v" ? [device("mfa")] : kind === "f" ? [device("u2f")] : [],
    mfaActive: kind === "v" || kind === "f",
    verifiedLive: kind === "c" || kind === "k",
    mfaDevicesComplete: kind !== "f",
    verdictAsOf: "2026-11-21T11:59:00.000Z",
  };
}

/** The report of a generated organization, as `orgmfa scan` would build it. */
export function syntheticReport(o: SyntheticOrg): ScanReport {
  const policy = policyFromConfig({ exemptions: o.exemptions ?? [] });
  const targets: AccountTarget[] = [];
  const entries = new Map<string, AccountEntry>();
  for (let i = 0; i < o.accounts; i++) {
    const accountId = accountIdOf(i);
    const skipped = !!o.skipEvery && i % o.skipEvery === 2;
    const target: AccountTarget = {
      accountId,
      accountName: o.name?.(i) ?? `member-${String(i).padStart(5, "0")}`,
      ouPath: OUS[i % OUS.length] ?? "Root",
      owner: i % 3 === 0 ? `team-${i % 40}@example.com` : null,
      state: skipped ? "SUSPENDED" : "ACTIVE",
      skip: skipped ? "SUSPENDED" : null,
    };
    targets.push(target);
    const outcome: AccountOutcome =
      o.failEvery && i % o.failEvery === 1
        ? {
            kind: "failure",
            accountId,
            reason: "ASSUME_ROLE_DENIED",
            error: { code: "AccessDenied", message: `not authorized to assume OrgMfaAuditRole in ${accountId}` },
          }
        : {
            kind: "facts",
            accountId,
            partition: "aws",
            credentialReportGeneratedAt: "2026-11-21T11:58:00.000Z",
            collection: "REPORT_CONFIRMED_LIVE",
            notes: [],
            users: Array.from({ length: o.users }, (_, u) => userOf(accountId, u)),
            root: {
              arn: `arn:aws:iam::${accountId}:root`,
              credentials: i % 50 === 0 ? "PRESENT" : "ABSENT",
              password: i % 50 === 0,
              activeAccessKeys: false,
              activeSigningCertificates: false,
              mfaEnabled: false,
              virtualDevices: [],
              source: "GetAccountSummary",
            },
          };
    entries.set(
      accountId,
      accountEntry(target, skipped ? undefined : outcome, policy, SYNTHETIC_NOW, { packUsers: o.packUsers ?? true }),
    );
  }
  return buildReport({
    scanId: "synthetic-scan",
    toolVersion: "0.1.0",
    startedAt: new Date(SYNTHETIC_NOW.getTime() - 600_000),
    finishedAt: SYNTHETIC_NOW,
    organizationId: "o-abcdefghij",
    partition: "aws",
    targets,
    entries,
    policy,
    warnings: o.warnings ?? [],
    run: {
      callerArn: `arn:aws:sts::${accountIdOf(0)}:assumed-role/OrgMfaScanner/orgmfa`,
      region: "eu-west-1",
      filters: { accounts: [], excludeAccounts: [], ous: [], excludeOus: [] },
      configSha256: "0".repeat(64),
      completeInventory: false,
    },
  });
}
