import {
  GenerateCredentialReportCommand,
  GetAccountSummaryCommand,
  GetCredentialReportCommand,
  GetLoginProfileCommand,
  ListMFADevicesCommand,
  ListUsersCommand,
  ListVirtualMFADevicesCommand,
} from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { classifyFailure, collectAccount } from "../src";
import { ACCOUNT, arn, HEADER, iam, liveUsers, mock, opts, row, T0, useCollectorMocks } from "./collector-fixture";

useCollectorMocks();

describe("the critical path", () => {
  it("issues GenerateCredentialReport, ListUsers, ListVirtualMFADevices and GetAccountSummary at once", async () => {
    // A barrier: each of the four answers only once all four are in flight. Called one after
    // another, the first would wait for the others forever (here: fail after a second).
    const arrived = new Set<string>();
    let open: () => void = () => undefined;
    const allIn = new Promise<void>((r) => {
      open = r;
    });
    const barrier = (name: string) => async () => {
      arrived.add(name);
      if (arrived.size === 4) open();
      await Promise.race([
        allIn,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${[...arrived]} in flight`)), 1000)),
      ]);
    };
    const content = [HEADER, row("alice", T0, "true", true, false)].join("\n");
    mock.on(GenerateCredentialReportCommand).callsFake(async () => {
      await barrier("GenerateCredentialReport")();
      return { State: "COMPLETE" };
    });
    mock
      .on(GetCredentialReportCommand)
      .resolves({ Content: new TextEncoder().encode(content), GeneratedTime: new Date(T0) });
    mock.on(ListUsersCommand).callsFake(async () => {
      await barrier("ListUsers")();
      return { Users: [{ UserName: "alice", Arn: arn("alice"), UserId: "a", Path: "/", CreateDate: new Date(T0) }] };
    });
    mock.on(ListVirtualMFADevicesCommand).callsFake(async () => {
      await barrier("ListVirtualMFADevices")();
      return {
        VirtualMFADevices: [
          {
            SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/alice`,
            User: { Arn: arn("alice") } as never,
            EnableDate: new Date(T0),
          },
        ],
      };
    });
    mock.on(GetAccountSummaryCommand).callsFake(async () => {
      await barrier("GetAccountSummary")();
      return { SummaryMap: { AccountMFAEnabled: 1, AccountPasswordPresent: 1 } };
    });
    const facts = await collectAccount(iam, opts);
    expect(arrived.size).toBe(4);
    // alice's MFA is proven by the live virtual list: no confirmation round at all.
    expect(facts.users.map((u) => [u.userName, u.verifiedLive, u.mfaDevicesComplete])).toEqual([
      ["alice", false, false],
    ]);
    expect(mock.commandCalls(ListMFADevicesCommand)).toHaveLength(0);
  });
});

describe("freshness: a report younger than the tolerance is trusted", () => {
  it("confirms live only users created since and users the live lists contradict; MFA without a virtual device costs no call", async () => {
    const content = [
      HEADER,
      row("bob", T0, "true", false, false), // console, no MFA: trusted
      row("ci", T0, "false", false, true), // key, no MFA: trusted
      row("carol", T0, "true", true, false), // MFA, not a virtual device: the report's word is enough
      row("dan", T0, "true", false, false), // no MFA in the report, but a live virtual device: contradicted
    ].join("\n");
    mock.on(GenerateCredentialReportCommand).resolves({ State: "COMPLETE" });
    mock
      .on(GetCredentialReportCommand)
      .resolves({ Content: new TextEncoder().encode(content), GeneratedTime: new Date(T0) });
    liveUsers(["bob", T0], ["ci", T0], ["carol", T0], ["dan", T0], ["newbie", "2026-11-21T08:01:00+00:00"]);
    mock.on(ListVirtualMFADevicesCommand).resolves({
      VirtualMFADevices: [
        {
          SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/dan`,
          User: { Arn: arn("dan") } as never,
          EnableDate: new Date(T0),
        },
      ],
    });
    mock.on(ListMFADevicesCommand, { UserName: "carol" }).resolves({
      MFADevices: [{ UserName: "carol", SerialNumber: "GAHT0001", EnableDate: new Date(T0) }],
    });
    mock.on(ListMFADevicesCommand, { UserName: "dan" }).resolves({
      MFADevices: [{ UserName: "dan", SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/dan`, EnableDate: new Date(T0) }],
    });
    const twoMinutesLater = () => Date.parse(T0) + 120_000;
    const facts = await collectAccount(iam, { ...opts, now: twoMinutesLater });
    const byName = Object.fromEntries(facts.users.map((u) => [u.userName, u]));
    expect(byName.bob).toMatchObject({
      consoleAccess: true,
      mfaDevices: [],
      verifiedLive: false,
      mfaDevicesComplete: true,
    });
    expect(byName.ci).toMatchObject({ consoleAccess: false, activeAccessKeys: 1, verifiedLive: false });
    expect(byName.carol).toMatchObject({
      verifiedLive: false,
      mfaDevices: [],
      mfaActive: true,
      mfaDevicesComplete: false,
    });
    expect(byName.dan).toMatchObject({ verifiedLive: true, mfaDevices: [{ type: "VIRTUAL" }] });
    expect(byName.newbie?.verifiedLive).toBe(true);
    const names = (calls: Array<{ args: [{ input: { UserName?: string } }] }>) =>
      calls.map((x) => x.args[0].input.UserName ?? "").sort();
    expect(names(mock.commandCalls(ListMFADevicesCommand))).toEqual(["dan", "newbie"]);
    expect(names(mock.commandCalls(GetLoginProfileCommand))).toEqual(["dan", "newbie"]);
    expect(facts.notes).toEqual([]);

    // The same report seen three hours later is only a pre-filter: bob and ci are confirmed too.
    mock.resetHistory();
    const stale = await collectAccount(iam, { ...opts, now: () => Date.parse(T0) + 3 * 3600_000 });
    expect(names(mock.commandCalls(GetLoginProfileCommand))).toEqual(["bob", "carol", "ci", "dan", "newbie"]);
    expect(stale.notes.join(" ")).toMatch(/The credential report was 180 min old/);
  });
});

describe("failure classification", () => {
  it.each([
    [{ name: "AccessDenied", message: "not authorized to perform: sts:AssumeRole" }, "assume", "ASSUME_ROLE_DENIED"],
    [{ name: "ThrottlingException", message: "Rate exceeded" }, "collect", "THROTTLED"],
    [{ name: "Throttling", message: "Rate exceeded" }, "assume", "THROTTLED"],
    [{ name: "TimeoutError", message: "socket timed out" }, "collect", "TIMEOUT"],
    [{ name: "AccessDenied", message: "iam:ListUsers" }, "collect", "ERROR"],
    [
      { name: "RegionDisabledException", message: "STS is not activated in this region" },
      "assume",
      "STS_REGION_DISABLED",
    ],
  ] as const)("%o during %s is %s", (e, phase, reason) => {
    expect(classifyFailure(Object.assign(new Error(e.message), { name: e.name }), phase).reason).toBe(reason);
  });
});
