import {
  AccountNotManagementOrDelegatedAdministratorException,
  IAMClient,
  ListOrganizationsFeaturesCommand,
  OrganizationNotInAllFeaturesModeException,
  ServiceAccessNotEnabledException,
} from "@aws-sdk/client-iam";
import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  TooManyRequestsException,
} from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DiscoveryError,
  discoverOrganization,
  ownersUnreadWarnings,
  ownerTagCacheFrom,
  readOwnerTags,
  resolveOu,
} from "../src";

// Organizations' shapes need a mock for what the emulator cannot show: how many calls are in flight.
const orgs = new OrganizationsClient({
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" },
  maxAttempts: 1,
});
const mock = mockClient(OrganizationsClient);
const ids = ["111111111111", "222222222222", "333333333333", "444444444444"];
const meta = { $metadata: {} };

beforeEach(() => {
  mock.reset();
  mock.on(DescribeOrganizationCommand).resolves({ Organization: { Id: "o-abcdefghij", MasterAccountId: ids[0] } });
  mock
    .on(ListAccountsForParentCommand)
    .resolves({ Accounts: ids.map((Id) => ({ Id, Name: `acct-${Id}`, State: "ACTIVE" })) });
  mock.on(ListRootsCommand).resolves({ Roots: [{ Id: "r-abcd" }] });
  mock.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [] });
});
afterEach(() => mock.reset());

describe("owner tags", () => {
  const tagged = (input: { ResourceId: string }) => ({
    Tags: [{ Key: "owner", Value: `team-${input.ResourceId.slice(0, 1)}` }],
  });

  it("are not read by discovery: the walk lists every account without a ListTagsForResource", async () => {
    const d = await discoverOrganization(orgs);
    expect(d.targets.map((t) => [t.accountId, t.owner])).toEqual(ids.map((id) => [id, null]));
    expect(mock.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);
  });

  it("are read in parallel (bounded), not one account after another", async () => {
    let inFlight = 0;
    let peak = 0;
    mock.on(ListTagsForResourceCommand).callsFake(async (input: { ResourceId: string }) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return tagged(input);
    });
    const o = await readOwnerTags(orgs, ids, "owner", { concurrency: 3 });
    expect(peak).toBe(3);
    expect(ids.map((id) => o.owners.get(id))).toEqual(["team-1", "team-2", "team-3", "team-4"]);
    expect(o).toMatchObject({ read: 4, fromCache: 0, unread: 0 });
  });

  it("a tag that cannot be read leaves the owner unknown, counted, and never throws", async () => {
    mock.on(ListTagsForResourceCommand).rejects(new TooManyRequestsException({ message: "Rate exceeded", ...meta }));
    const o = await readOwnerTags(orgs, ids, "owner");
    expect(o.owners.size).toBe(0);
    expect(o.unread).toBe(4);
    expect(ownersUnreadWarnings(o.unread, "owner")[0]?.message).toMatch(/4 in-scope account\(s\) have no owner/);
    expect(ownersUnreadWarnings(0, "owner")).toEqual([]);
  });

  it("stop at the deadline; the next read starts with the accounts never read, then the longest unread", async () => {
    const asked: string[] = [];
    // A clock of the test's own: each read takes 30 ms of it, so where the deadline falls never
    // depends on how busy the machine is.
    let clock = Date.parse("2026-12-01T00:00:00Z");
    const now = () => new Date(clock);
    mock.on(ListTagsForResourceCommand).callsFake(async (input: { ResourceId: string }) => {
      asked.push(input.ResourceId);
      clock += 30;
      return tagged(input);
    });
    const first = await readOwnerTags(orgs, ids, "owner", { concurrency: 1, now, deadline: clock + 45 });
    expect(first.read).toBeGreaterThan(0);
    expect(first.read).toBeLessThan(4);
    expect(first.unread).toBe(4 - first.read);
    const readFirst = asked.slice();

    // The cache goes through JSON, as it does between runs in S3.
    const cache = ownerTagCacheFrom(JSON.parse(JSON.stringify(first.cache)));
    asked.length = 0;
    const second = await readOwnerTags(orgs, ids, "owner", { concurrency: 1, cache, now, deadline: clock + 45 });
    // Never-read accounts come first: none of the first run's is asked again before them.
    expect(asked.slice(0, 4 - first.read)).toEqual(ids.filter((id) => !readFirst.includes(id)));
    // What was not refreshed keeps its earlier value.
    expect(second.read + second.fromCache + second.unread).toBe(4);
    for (const id of readFirst) expect(second.owners.get(id)).toBe(`team-${id.slice(0, 1)}`);

    // With time enough, the oldest reads are refreshed first and every owner is known.
    asked.length = 0;
    const third = await readOwnerTags(orgs, ids, "owner", { concurrency: 1, cache: second.cache, now });
    expect(third).toMatchObject({ read: 4, unread: 0 });
    const byAge = Object.entries(second.cache.accounts)
      .sort(([, a], [, b]) => a.readAt.localeCompare(b.readAt))
      .map(([id]) => id);
    expect(asked.slice(0, byAge.length)).toEqual(byAge);
  });

  it("a cache for another tag key, or a malformed one, is not used", async () => {
    mock.on(ListTagsForResourceCommand).rejects(new TooManyRequestsException({ message: "Rate exceeded", ...meta }));
    const readAt = new Date().toISOString();
    const other = { tag: "team", accounts: { [ids[0] as string]: { owner: "x", readAt } } };
    expect((await readOwnerTags(orgs, ids, "owner", { cache: other })).unread).toBe(4);
    expect(ownerTagCacheFrom("nope")).toBeNull();
    expect(
      ownerTagCacheFrom({
        tag: "owner",
        accounts: { "1": { owner: "x", readAt }, [ids[1] as string]: { owner: 3, readAt } },
      })?.accounts,
    ).toEqual({});
  });
});

describe("centralized root access (ListOrganizationsFeatures)", () => {
  const iam = new IAMClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" },
    maxAttempts: 1,
  });
  const iamMock = mockClient(IAMClient);
  afterEach(() => iamMock.reset());

  it.each([
    [
      "enabled",
      () => iamMock.on(ListOrganizationsFeaturesCommand).resolves({ EnabledFeatures: ["RootCredentialsManagement"] }),
      true,
    ],
    ["not enabled", () => iamMock.on(ListOrganizationsFeaturesCommand).resolves({ EnabledFeatures: [] }), false],
    // Centralized root access needs IAM's trusted access and all features: without them it is off.
    [
      "IAM without trusted access (ServiceAccessNotEnabledException)",
      () =>
        iamMock
          .on(ListOrganizationsFeaturesCommand)
          .rejects(new ServiceAccessNotEnabledException({ message: "trusted access is not enabled", ...meta })),
      false,
    ],
    [
      "an organization in consolidated-billing mode (OrganizationNotInAllFeaturesModeException)",
      () =>
        iamMock
          .on(ListOrganizationsFeaturesCommand)
          .rejects(new OrganizationNotInAllFeaturesModeException({ message: "not in all features mode", ...meta })),
      false,
    ],
    // A caller that may not ask cannot know: unknown, never "off".
    [
      "a caller that is neither the management account nor the delegated administrator",
      () =>
        iamMock.on(ListOrganizationsFeaturesCommand).rejects(
          new AccountNotManagementOrDelegatedAdministratorException({
            message: "not the management account or delegated administrator",
            ...meta,
          }),
        ),
      null,
    ],
  ] as const)("is %s → %s", async (_name, arrange, expected) => {
    arrange();
    expect((await discoverOrganization(orgs, {}, iam)).rootCredentialsManagement).toBe(expected);
  });
});

describe("OU references: an id, a path or a name", () => {
  const nodes = new Map([
    ["r-ab12", { path: "Root" }],
    ["ou-ab12-11111111", { path: "Root/Workloads" }],
    ["ou-ab12-22222222", { path: "Root/Workloads/Prod" }],
    ["ou-ab12-33333333", { path: "Root/Sandbox/Prod" }],
    ["ou-ab12-44444444", { path: "Root/Sandbox" }],
  ]);
  it.each([
    ["ou-ab12-22222222", "ou-ab12-22222222"],
    ["r-ab12", "r-ab12"],
    ["Root/Workloads/Prod", "ou-ab12-22222222"],
    ["Workloads/Prod", "ou-ab12-22222222"],
    ["workloads/prod/", "ou-ab12-22222222"],
    ["Workloads", "ou-ab12-11111111"],
    ["sandbox", "ou-ab12-44444444"],
  ])("%s is %s", (ref, id) => {
    expect(resolveOu(ref, nodes, "o-x")).toBe(id);
  });
  it("a name two OUs share is refused, naming both with their paths and ids", () => {
    expect(() => resolveOu("Prod", nodes, "o-x")).toThrow(
      /"Prod" names 2 OUs: Root\/Workloads\/Prod \(ou-ab12-22222222\), Root\/Sandbox\/Prod \(ou-ab12-33333333\)/,
    );
  });
  it("an id or name the organization does not have is a usage error", () => {
    expect(() => resolveOu("ou-zzzz-zzzzzzzz", nodes, "o-x")).toThrow(DiscoveryError);
    expect(() => resolveOu("Staging", nodes, "o-x")).toThrow(/is no OU id, path or name in organization o-x/);
  });
});
