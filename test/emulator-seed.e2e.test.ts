import {
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  type GetCredentialReportCommandOutput,
  GetLoginProfileCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListUsersCommand,
  ListVirtualMFADevicesCommand,
} from "@aws-sdk/client-iam";
import {
  CreateAccountCommand,
  CreateOrganizationCommand,
  DescribeCreateAccountStatusCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import {
  accountAdminCredentials,
  createUser,
  type Emulator,
  REGION,
  startEmulator,
  type UserSpec,
} from "@orgmfa/emulator";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Seeding creates users in one request per account (`Emulator.createUsers`); tests and benchmarks
// rely on it leaving exactly the state the IAM API calls leave (`createUser`).
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

const SPECS: UserSpec[] = [
  { name: "alice", console: true, devices: ["virtual"] },
  { name: "bob", console: true, devices: ["hardware", "fido"] },
  { name: "carol", console: true },
  { name: "dave", activeKeys: 1, inactiveKeys: 1 },
  { name: "erin", inactiveKeys: 2, unenabledVirtual: true },
  { name: "frank", console: true, deactivated: true },
  { name: "grace" },
];

const admin = { accessKeyId: "testing", secretAccessKey: "testing" };
const iamOf = (credentials: AwsCredentialIdentity) =>
  new IAMClient({ endpoint: emu.endpoint, region: REGION, credentials, maxAttempts: 1 });

async function newAccount(orgs: OrganizationsClient, name: string): Promise<string> {
  const created = await orgs.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
  const status = await orgs.send(
    new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: created.CreateAccountStatus?.Id }),
  );
  return status.CreateAccountStatus?.AccountId ?? "";
}

/** What a scan can see of an account's users, with the account id and generated ids taken out. */
async function observed(iam: IAMClient, accountId: string) {
  // Hardware serials carry the account's last four digits (seed.ts), ARNs the account id.
  const strip = (s: string | undefined) =>
    (s ?? "").replaceAll(accountId, "<account>").replace(`GAHT${accountId.slice(-4)}`, "GAHT<account>");
  const users = (await iam.send(new ListUsersCommand({}))).Users ?? [];
  const perUser = [];
  for (const u of users.sort((a, b) => String(a.UserName).localeCompare(String(b.UserName)))) {
    const UserName = u.UserName;
    const login = await iam.send(new GetLoginProfileCommand({ UserName })).then(
      () => true,
      () => false,
    );
    const keys = (await iam.send(new ListAccessKeysCommand({ UserName }))).AccessKeyMetadata ?? [];
    const devices = (await iam.send(new ListMFADevicesCommand({ UserName }))).MFADevices ?? [];
    perUser.push({
      name: UserName,
      arn: strip(u.Arn),
      login,
      keys: keys.map((k) => k.Status),
      devices: devices.map((d) => strip(d.SerialNumber)).sort(),
    });
  }
  const virtual = (await iam.send(new ListVirtualMFADevicesCommand({}))).VirtualMFADevices ?? [];
  await iam.send(new GenerateCredentialReportCommand({}));
  // IAM answers ReportInProgress while it generates: ask until the report is there.
  let report: GetCredentialReportCommandOutput | undefined;
  while (!report) {
    report = await iam.send(new GetCredentialReportCommand({})).catch(async (e: { name?: string }) => {
      if (e.name !== "CredentialReportNotReadyException") throw e;
      await new Promise((r) => setTimeout(r, 50));
      return undefined;
    });
  }
  const rows = Buffer.from(report.Content ?? new Uint8Array())
    .toString("utf8")
    .split("\n")
    .map((line) => line.split(","))
    // user, password_enabled, mfa_active, access_key_1_active, access_key_2_active
    .map((c) => [c[0], c[3], c[7], c[8], c[13]].join(","));
  return {
    users: perUser,
    virtual: virtual.map((v) => `${strip(v.SerialNumber)} → ${v.User?.UserName ?? "unassigned"}`).sort(),
    report: rows.sort(),
  };
}

describe("the emulator's seeding", () => {
  it("creates users in one request per account with exactly the state the IAM API calls leave", async () => {
    const orgs = new OrganizationsClient({ endpoint: emu.endpoint, region: REGION, credentials: admin });
    await orgs.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
    const viaApi = await newAccount(orgs, "via-api");
    const viaBulk = await newAccount(orgs, "via-bulk");

    const apiIam = iamOf(await accountAdminCredentials(emu.endpoint, viaApi));
    for (const u of SPECS) await createUser(apiIam, viaApi, u, emu);
    await emu.createUsers(viaBulk, SPECS);

    const expected = await observed(apiIam, viaApi);
    const actual = await observed(iamOf(await accountAdminCredentials(emu.endpoint, viaBulk)), viaBulk);
    expect(actual).toEqual(expected);
    // The comparison saw every kind of state the specs hold.
    expect(expected.users).toHaveLength(SPECS.length);
    expect(expected.users.find((u) => u.name === "bob")?.devices).toHaveLength(2);
    expect(expected.users.find((u) => u.name === "dave")?.keys.sort()).toEqual(["Active", "Inactive"]);
    expect(expected.virtual.some((v) => v.endsWith("unassigned"))).toBe(true);
  });

  it("names what was wrong when a user cannot be created", async () => {
    const orgs = new OrganizationsClient({ endpoint: emu.endpoint, region: REGION, credentials: admin });
    const id = await newAccount(orgs, "twice");
    await emu.createUsers(id, [{ name: "zed" }]);
    await expect(emu.createUsers(id, [{ name: "zed" }])).rejects.toThrow(/iam-users.*zed already exists/s);
  });
});
