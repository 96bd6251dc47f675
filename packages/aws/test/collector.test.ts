import {
  CredentialReportNotPresentException,
  CredentialReportNotReadyException,
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  GetLoginProfileCommand,
  LimitExceededException,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListUsersCommand,
  ListVirtualMFADevicesCommand,
  NoSuchEntityException,
  ServiceFailureException,
} from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { AccountJobError, classifyFailure, collectAccount } from "../src";
import {
  ACCOUNT,
  arn,
  HEADER,
  iam,
  liveUsers,
  meta,
  mock,
  opts,
  row,
  T0,
  useCollectorMocks,
} from "./collector-fixture";

useCollectorMocks();

describe("live-verdict algorithm", () => {
  it("drops users deleted since the report, confirms users created since, and trusts only confirmable MFA", async () => {
    mock.on(GenerateCredentialReportCommand).resolves({ State: "COMPLETE" });
    mock.on(GetCredentialReportCommand).resolves({
      Content: new TextEncoder().encode(
        [
          HEADER,
          row("<root_account>", T0, "not_supported", true, false),
          row("gone", T0, "true", false, false),
          row("bob", T0, "true", true, false),
          row("late", T0, "true", false, false),
        ].join("\n"),
      ),
      GeneratedTime: new Date(T0),
      ReportFormat: "text/csv",
    });
    liveUsers(["bob", T0], ["late", T0], ["newbie", "2026-11-21T10:00:00Z"]);
    mock.on(ListVirtualMFADevicesCommand).resolves({
      VirtualMFADevices: [
        {
          SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/bob`,
          User: { UserName: "bob", Arn: arn("bob"), UserId: "b", Path: "/", CreateDate: new Date(T0) },
          EnableDate: new Date(T0),
        },
        // "late" enrolled after the report was generated
        {
          SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/late`,
          User: { UserName: "late", Arn: arn("late"), UserId: "l", Path: "/", CreateDate: new Date(T0) },
          EnableDate: new Date("2026-11-21T09:00:00Z"),
        },
        // root's own device, matched by exact ARN; a user called rootops is not root
        {
          SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/root-account-mfa-device`,
          User: {
            UserName: "root",
            Arn: `arn:aws:iam::${ACCOUNT}:root`,
            UserId: ACCOUNT,
            Path: "/",
            CreateDate: new Date(T0),
          },
          EnableDate: new Date(T0),
        },
        // created but never enabled: not assigned to anyone
        { SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/spare` },
      ],
    });
    mock.on(ListMFADevicesCommand, { UserName: "late" }).resolves({
      MFADevices: [
        {
          UserName: "late",
          SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/late`,
          EnableDate: new Date("2026-11-21T09:00:00Z"),
        },
      ],
    });
    mock
      .on(GetLoginProfileCommand, { UserName: "newbie" })
      .resolves({ LoginProfile: { UserName: "newbie", CreateDate: new Date() } });

    const facts = await collectAccount(iam, opts);
    expect(facts.users.map((u) => u.userName)).toEqual(["bob", "late", "newbie"]);
    const by = Object.fromEntries(facts.users.map((u) => [u.userName, u]));
    expect(by.bob).toMatchObject({ verifiedLive: false, consoleAccess: true, mfaDevices: [{ type: "VIRTUAL" }] });
    expect(by.late).toMatchObject({ verifiedLive: true, mfaDevices: [{ type: "VIRTUAL" }] });
    expect(by.newbie).toMatchObject({ verifiedLive: true, consoleAccess: true, mfaDevices: [] });
    expect(facts.credentialReportGeneratedAt).toBe("2026-11-21T08:00:00.000Z");
    expect(facts.root).toMatchObject({ credentials: "PRESENT", mfaEnabled: true, source: "GetAccountSummary" });
    expect(facts.root.virtualDevices.map((d) => d.serialNumber)).toEqual([
      `arn:aws:iam::${ACCOUNT}:mfa/root-account-mfa-device`,
    ]);
    // Only the users the report could not vouch for were asked about live.
    expect(
      mock
        .commandCalls(ListMFADevicesCommand)
        .map((c) => c.args[0].input.UserName)
        .sort(),
    ).toEqual(["late", "newbie"]);
  });

  it("polls a report that is being generated with GetCredentialReport, with backoff, until it is there", async () => {
    mock.on(GenerateCredentialReportCommand).resolves({ State: "STARTED" });
    mock
      .on(GetCredentialReportCommand)
      .rejectsOnce(new CredentialReportNotReadyException({ message: "Report is in progress", ...meta }))
      .resolves({ Content: new TextEncoder().encode(HEADER), GeneratedTime: new Date(T0) });
    liveUsers();
    const slept: number[] = [];
    const facts = await collectAccount(iam, {
      ...opts,
      firstPollMs: 10,
      maxPollMs: 15,
      reportWaitMs: 1000,
      sleep: async (ms) => void slept.push(ms),
    });
    expect(facts.collection).toBe("REPORT_CONFIRMED_LIVE");
    // Two waits of the schedule (10 ms, then 15), each counted from when the last poll was sent.
    expect(slept).toHaveLength(2);
    expect(slept[0]).toBeGreaterThan(0);
    expect(slept[0]).toBeLessThanOrEqual(10);
    expect(slept[1]).toBeGreaterThan(10);
    expect(slept[1]).toBeLessThanOrEqual(15);
    // Generated once; the poll that finds it complete is the one that fetches it.
    expect(mock.commandCalls(GenerateCredentialReportCommand)).toHaveLength(1);
    expect(mock.commandCalls(GetCredentialReportCommand)).toHaveLength(2);
  });

  it("asks for a report again when the one it waited for is gone", async () => {
    mock.on(GenerateCredentialReportCommand).resolvesOnce({ State: "STARTED" }).resolves({ State: "COMPLETE" });
    mock
      .on(GetCredentialReportCommand)
      .rejectsOnce(new CredentialReportNotPresentException({ message: "not present", ...meta }))
      .resolves({ Content: new TextEncoder().encode(HEADER), GeneratedTime: new Date(T0) });
    liveUsers();
    const facts = await collectAccount(iam, opts);
    expect(facts.collection).toBe("REPORT_CONFIRMED_LIVE");
    expect(mock.commandCalls(GenerateCredentialReportCommand)).toHaveLength(2);
  });

  it.each([
    [
      "LimitExceeded",
      () =>
        mock
          .on(GenerateCredentialReportCommand)
          .rejects(new LimitExceededException({ message: "Rate exceeded", ...meta })),
    ],
    [
      "a report that never appears",
      () => {
        mock.on(GenerateCredentialReportCommand).resolves({ State: "STARTED" });
        mock
          .on(GetCredentialReportCommand)
          .rejects(new CredentialReportNotPresentException({ message: "not present", ...meta }));
      },
    ],
    [
      "AccessDenied on GenerateCredentialReport (an SCP or a permissions boundary)",
      () =>
        mock
          .on(GenerateCredentialReportCommand)
          .rejects(
            Object.assign(
              new Error(
                "User: arn:aws:sts::111122223333:assumed-role/OrgMfaAuditRole/orgmfa is not authorized to perform: iam:GenerateCredentialReport with an explicit deny in a service control policy",
              ),
              { name: "AccessDenied", $fault: "client", ...meta },
            ),
          ),
    ],
    [
      "AccessDenied on GetCredentialReport",
      () => {
        mock.on(GenerateCredentialReportCommand).resolves({ State: "COMPLETE" });
        mock
          .on(GetCredentialReportCommand)
          .rejects(Object.assign(new Error("not authorized"), { name: "AccessDenied", $fault: "client", ...meta }));
      },
    ],
    [
      "ServiceFailure",
      () =>
        mock.on(GenerateCredentialReportCommand).rejects(new ServiceFailureException({ message: "internal", ...meta })),
    ],
    [
      "an error code IAM adds later",
      () =>
        mock
          .on(GenerateCredentialReportCommand)
          .rejects(Object.assign(new Error("new"), { name: "SomethingNewException", $fault: "client", ...meta })),
    ],
    [
      "no capacity for a report, for longer than the bounded wait",
      () =>
        mock.on(GenerateCredentialReportCommand).rejects(
          new LimitExceededException({
            message: "No more capacity to launch new report generation tasks",
            ...meta,
          }),
        ),
    ],
    [
      "ReportInProgress forever",
      () => {
        mock.on(GenerateCredentialReportCommand).resolves({ State: "COMPLETE" });
        mock
          .on(GetCredentialReportCommand)
          .rejects(new CredentialReportNotReadyException({ message: "Report is in progress", ...meta }));
      },
    ],
  ])("falls back to the fully live path on %s, and says so", async (_name, arrange) => {
    arrange();
    liveUsers(["alice", T0], ["ci", T0]);
    mock
      .on(GetLoginProfileCommand, { UserName: "alice" })
      .resolves({ LoginProfile: { UserName: "alice", CreateDate: new Date() } });
    mock.on(ListAccessKeysCommand, { UserName: "ci" }).resolves({
      AccessKeyMetadata: [
        { UserName: "ci", AccessKeyId: "AKIA1", Status: "Active" },
        { UserName: "ci", AccessKeyId: "AKIA2", Status: "Inactive" },
      ],
    });
    const facts = await collectAccount(iam, opts);
    expect(facts.collection).toBe("FULLY_LIVE");
    expect(facts.notes.join(" ")).toMatch(/Credential report unavailable/);
    expect(facts.users.map((u) => [u.userName, u.consoleAccess, u.activeAccessKeys, u.verifiedLive])).toEqual([
      ["alice", true, 0, true],
      ["ci", false, 1, true],
    ]);
  });

  it("waits for report-generation capacity (LimitExceeded), briefly, then uses the report", async () => {
    const content = [HEADER, row("alice", T0, "true", true, false)].join("\n");
    mock
      .on(GenerateCredentialReportCommand)
      .rejectsOnce(
        new LimitExceededException({ message: "No more capacity to launch new report generation tasks", ...meta }),
      )
      .rejectsOnce(
        new LimitExceededException({ message: "No more capacity to launch new report generation tasks", ...meta }),
      )
      .resolves({ State: "COMPLETE" });
    mock
      .on(GetCredentialReportCommand)
      .resolves({ Content: new TextEncoder().encode(content), GeneratedTime: new Date(T0) });
    liveUsers(["alice", T0]);
    const facts = await collectAccount(iam, { ...opts, reportWaitMs: 60_000, reportCapacityWaitMs: 10_000 });
    expect(facts.collection).toBe("REPORT_CONFIRMED_LIVE");
    expect(mock.commandCalls(GenerateCredentialReportCommand)).toHaveLength(3);
  });

  it("never yields 'no users' when the report and the live fallback both fail", async () => {
    mock.on(GenerateCredentialReportCommand).rejects(new LimitExceededException({ message: "Rate exceeded", ...meta }));
    mock.on(ListUsersCommand).rejects(new ServiceFailureException({ message: "internal", ...meta }));
    const err = await collectAccount(iam, opts).catch((e) => e);
    expect(err).toBeInstanceOf(AccountJobError);
    expect(classifyFailure(err, "collect").reason).toBe("CREDENTIAL_REPORT_UNAVAILABLE");
  });

  it("a user deleted between ListUsers and the live calls is dropped, not a failure", async () => {
    mock.on(GenerateCredentialReportCommand).resolves({ State: "COMPLETE" });
    mock
      .on(GetCredentialReportCommand)
      .resolves({ Content: new TextEncoder().encode(HEADER), GeneratedTime: new Date(T0) });
    liveUsers(["ghost", T0]);
    mock
      .on(ListMFADevicesCommand, { UserName: "ghost" })
      .rejects(new NoSuchEntityException({ message: "The user with name ghost cannot be found.", ...meta }));
    const facts = await collectAccount(iam, opts);
    expect(facts.users).toEqual([]);
  });
});
