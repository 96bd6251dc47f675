import {
  type AccountFacts,
  type AccountOutcome,
  type AccountTarget,
  buildReport,
  type Policy,
  policyFromConfig,
  type RootFacts,
  type ScanReport,
  toDevice,
  type UserFacts,
} from "../src";

export const ACCOUNT = "111122223333";
export const NOW = new Date("2026-11-21T12:00:00Z");

export const HEADER =
  "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/** A credential-report row in AWS's real format. */
export function reportRow(o: {
  user: string;
  arn?: string;
  created?: string;
  password?: "true" | "false" | "not_supported";
  mfa?: boolean;
  key1?: boolean;
  key2?: boolean;
  cert1?: boolean;
}): string {
  const arn =
    o.arn ?? (o.user === "<root_account>" ? `arn:aws:iam::${ACCOUNT}:root` : `arn:aws:iam::${ACCOUNT}:user/${o.user}`);
  const created = o.created ?? "2026-01-02T03:04:05+00:00";
  const pw = o.password ?? "false";
  return [
    o.user,
    arn,
    created,
    pw,
    pw === "true" ? "2026-11-20T08:00:00+00:00" : "N/A",
    pw === "true" ? "2026-01-02T03:04:05+00:00" : "N/A",
    "N/A",
    String(o.mfa ?? false),
    String(o.key1 ?? false),
    o.key1 ? "2026-01-02T03:04:05+00:00" : "N/A",
    "N/A",
    "N/A",
    "N/A",
    String(o.key2 ?? false),
    "N/A",
    "N/A",
    "N/A",
    "N/A",
    String(o.cert1 ?? false),
    "N/A",
    "false",
    "N/A",
  ]
    .map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c))
    .join(",");
}

export function target(o: Partial<AccountTarget> = {}): AccountTarget {
  return {
    accountId: ACCOUNT,
    accountName: "prod",
    ouPath: "Root/Prod",
    owner: null,
    state: "ACTIVE",
    skip: null,
    ...o,
  };
}

export function user(name: string, o: Partial<UserFacts> & { devices?: string[] } = {}): UserFacts {
  const { devices, ...rest } = o;
  return {
    userName: name,
    arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
    createdAt: "2026-01-01T00:00:00.000Z",
    consoleAccess: false,
    passwordLastUsed: null,
    activeAccessKeys: 0,
    mfaDevices: (devices ?? []).map((s) => toDevice(s, "2026-02-01T00:00:00Z")),
    verifiedLive: true,
    mfaDevicesComplete: true,
    verdictAsOf: "2026-11-21T11:59:00.000Z",
    ...rest,
  };
}

export function root(o: Partial<RootFacts> = {}): RootFacts {
  return {
    arn: `arn:aws:iam::${ACCOUNT}:root`,
    credentials: "ABSENT",
    password: false,
    activeAccessKeys: false,
    activeSigningCertificates: false,
    mfaEnabled: false,
    virtualDevices: [],
    source: "GetAccountSummary",
    ...o,
  };
}

export function facts(users: UserFacts[], r: RootFacts = root()): AccountFacts {
  return {
    kind: "facts",
    accountId: ACCOUNT,
    partition: "aws",
    credentialReportGeneratedAt: "2026-11-21T11:59:00.000Z",
    collection: "REPORT_CONFIRMED_LIVE",
    notes: [],
    users,
    root: r,
  };
}

export const defaultPolicy = (cfg: Parameters<typeof policyFromConfig>[0] = {}) => policyFromConfig(cfg);

export const VIRTUAL = `arn:aws:iam::${ACCOUNT}:mfa/app`;
export const FIDO = `arn:aws:iam::${ACCOUNT}:u2f/user/x/key-1`;
export const HARDWARE = "GAHT12345678";
export const SMS = `arn:aws:iam::${ACCOUNT}:sms-mfa/x`;

/** A report of these accounts at NOW, with the defaults every test shares. */
export function reportAt(
  targets: AccountTarget[],
  outcomes: Map<string, AccountOutcome>,
  o: { scanId?: string; policy?: Policy; previous?: ScanReport | null } = {},
): ScanReport {
  return buildReport({
    scanId: o.scanId ?? "s1",
    toolVersion: "0.1.0",
    startedAt: NOW,
    finishedAt: NOW,
    organizationId: "o-abcdefghij",
    partition: "aws",
    targets,
    outcomes,
    policy: o.policy ?? defaultPolicy(),
    previous: o.previous ?? null,
  });
}
