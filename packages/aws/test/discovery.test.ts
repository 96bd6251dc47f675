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
import { discoverOrganization, ownersUnreadWarnings } from "../src";

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

describe("discovery", () => {
  it("reads owner tags in parallel (bounded), not one account after another", async () => {
    let inFlight = 0;
    let peak = 0;
    mock.on(ListTagsForResourceCommand).callsFake(async (input: { ResourceId: string }) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return { Tags: [{ Key: "owner", Value: `team-${input.ResourceId.slice(0, 1)}` }] };
    });
    const d = await discoverOrganization(orgs, { ownerTag: "owner", concurrency: 3 });
    expect(peak).toBe(3);
    expect(d.targets.map((t) => t.owner)).toEqual(["team-1", "team-2", "team-3", "team-4"]);
  });

  it("an owner tag that cannot be read leaves the owner empty and never fails discovery", async () => {
    mock.on(ListTagsForResourceCommand).rejects(new TooManyRequestsException({ message: "Rate exceeded", ...meta }));
    const d = await discoverOrganization(orgs, { ownerTag: "owner" });
    expect(d.targets).toHaveLength(4);
    expect(d.targets.every((t) => t.owner === null && t.skip === null)).toBe(true);
    expect(d.ownersUnread).toBe(4);
  });

  it("stops reading owner tags at the deadline, counts what it left unread, and still lists every account", async () => {
    let calls = 0;
    mock.on(ListTagsForResourceCommand).callsFake(async (input: { ResourceId: string }) => {
      calls++;
      await new Promise((r) => setTimeout(r, 30));
      return { Tags: [{ Key: "owner", Value: `team-${input.ResourceId.slice(0, 1)}` }] };
    });
    const d = await discoverOrganization(orgs, {
      ownerTag: "owner",
      concurrency: 1,
      ownerTagDeadline: Date.now() + 45,
    });
    expect(d.targets).toHaveLength(4);
    expect(calls).toBeLessThan(4);
    expect(d.ownersUnread).toBe(4 - calls);
    expect(d.targets.filter((t) => t.owner !== null)).toHaveLength(calls);
    expect(ownersUnreadWarnings(d.ownersUnread, "owner")[0]?.message).toMatch(/in-scope account\(s\) have no owner/);
  });
});
