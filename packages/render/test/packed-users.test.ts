import { accountEntry, buildReport } from "@orgmfa/core";
import { describe, expect, it } from "vitest";
import { defaultPolicy, FIDO, facts, NOW, target, user, VIRTUAL } from "../../core/test/fixtures";
import { renderHtml, scanFiles } from "../src";
import { userOf } from "../src/report-index";

// A scan of thousands of accounts keeps each account's users deflated (withPackedUsers). Everything
// that reads the report must see exactly what it would see with plain arrays.

describe("packed users", () => {
  const t = target();
  const outcome = facts([
    user("alice", { devices: [VIRTUAL] }),
    user("bob", { consoleAccess: true }),
    user("carol", { devices: [FIDO], activeAccessKeys: 2 }),
  ]);
  const build = (packUsers: boolean) =>
    buildReport({
      scanId: "s1",
      toolVersion: "0.1.0",
      startedAt: NOW,
      finishedAt: NOW,
      organizationId: "o-abcdefghij",
      partition: "aws",
      targets: [t],
      entries: new Map([[t.accountId, accountEntry(t, outcome, defaultPolicy(), NOW, { packUsers })]]),
      policy: defaultPolicy(),
    });

  it("gives the same report, byte for byte, in every output", () => {
    const plain = build(false);
    const packed = build(true);
    expect(JSON.stringify(packed, null, 2)).toBe(JSON.stringify(plain, null, 2));
    expect(scanFiles(packed)).toEqual(scanFiles(plain));
    expect(renderHtml(packed)).toBe(renderHtml(plain));
    expect(packed.summary.users).toEqual({ total: 3, console: plain.summary.users.console, withoutMfa: 1 });
  });

  it("keeps the users off the entry's own properties, and finds one by name", () => {
    const packed = build(true);
    const account = packed.accounts[0];
    expect(Object.getOwnPropertyDescriptor(account, "users")?.get).toBeTypeOf("function");
    expect(account?.users.map((u) => u.userName)).toEqual(["alice", "bob", "carol"]);
    expect(userOf(packed, t.accountId, "carol")?.activeAccessKeys).toBe(2);
    expect(userOf(packed, t.accountId, "nobody")).toBeUndefined();
  });
});
