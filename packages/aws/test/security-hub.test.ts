import {
  AccessDeniedException,
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import { type AccountOutcome, type AccountTarget, buildReport, policyFromConfig } from "@orgmfa/core";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { ClientPool, syncSecurityHub } from "../src";

// The emulator never refuses a finding; Security Hub does (FailedFindings with an ErrorCode), so
// partial failures are produced here with AWS's response shape.
const NOW = new Date("2026-11-21T12:00:00Z");
const SCANNER = "999999999999";
const ACCOUNTS = ["111111111111", "222222222222", "333333333333"];

function report() {
  const targets: AccountTarget[] = ACCOUNTS.map((accountId) => ({
    accountId,
    accountName: `acct-${accountId.slice(0, 1)}`,
    ouPath: "Root",
    owner: null,
    state: "ACTIVE",
    skip: null,
  }));
  const outcomes = new Map<string, AccountOutcome>(
    ACCOUNTS.map((accountId) => [
      accountId,
      {
        kind: "facts",
        accountId,
        partition: "aws",
        credentialReportGeneratedAt: NOW.toISOString(),
        collection: "REPORT_CONFIRMED_LIVE",
        notes: [],
        users: [
          {
            userName: "alice",
            arn: `arn:aws:iam::${accountId}:user/alice`,
            createdAt: NOW.toISOString(),
            consoleAccess: true,
            passwordLastUsed: null,
            activeAccessKeys: 0,
            mfaDevices: [],
            verifiedLive: true,
          },
        ],
        root: {
          arn: `arn:aws:iam::${accountId}:root`,
          credentials: "ABSENT",
          password: false,
          activeAccessKeys: false,
          activeSigningCertificates: false,
          mfaEnabled: false,
          virtualDevices: [],
          source: "GetAccountSummary",
        },
      },
    ]),
  );
  return buildReport({
    scanId: "scan-1",
    toolVersion: "0.1.0",
    startedAt: NOW,
    finishedAt: NOW,
    organizationId: "o-abcdefghij",
    partition: "aws",
    targets,
    outcomes,
    policy: policyFromConfig(),
  });
}

const mock = mockClient(SecurityHubClient);
afterEach(() => mock.reset());

describe("Security Hub sync", () => {
  it("re-imports refused findings, reports the ones still refused, and keeps going past a denied hub", async () => {
    const [first, second, third] = ACCOUNTS as [string, string, string];
    mock.on(GetFindingsCommand).callsFake((input) => {
      const account = input.Filters?.AwsAccountId?.[0]?.Value;
      if (account === third)
        throw new AccessDeniedException({
          message: "not authorized to perform: securityhub:GetFindings",
          $metadata: {},
        });
      return { Findings: [] };
    });
    const calls: Record<string, number> = {};
    mock.on(BatchImportFindingsCommand).callsFake((input) => {
      const account = input.Findings?.[0]?.AwsAccountId ?? "";
      calls[account] = (calls[account] ?? 0) + 1;
      const refuse = account === second || (account === first && calls[account] === 1);
      return refuse
        ? {
            FailedCount: 1,
            SuccessCount: 0,
            FailedFindings: input.Findings?.map((f: AwsSecurityFinding) => ({
              Id: f.Id,
              ErrorCode: "InvalidInput",
              ErrorMessage: "Finding does not adhere to Amazon Finding Format",
            })),
          }
        : { FailedCount: 0, SuccessCount: input.Findings?.length ?? 0, FailedFindings: [] };
    });

    const pool = new ClientPool({
      region: "us-east-1",
      baseCredentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" }),
    });
    const r = await syncSecurityHub(pool, {
      report: report(),
      policy: policyFromConfig(),
      region: "us-east-1",
      scanningAccountId: SCANNER,
      failedFindingRetries: 3,
      retryDelayMs: 1,
    });
    pool.destroy();

    const hub = (id: string) => r.hubs.find((h) => h.accountId === id);
    expect(hub(first)).toMatchObject({ imported: 1, failed: [], error: null });
    expect(calls[first]).toBe(2);
    expect(hub(second)?.imported).toBe(0);
    expect(hub(second)?.failed).toEqual([
      {
        id: `orgmfa/USER_CONSOLE_NO_MFA/${second}/user/alice`,
        code: "InvalidInput",
        message: "Finding does not adhere to Amazon Finding Format",
      },
    ]);
    expect(calls[second]).toBe(4); // the first try and three retries
    expect(hub(third)?.error).toMatchObject({ code: "AccessDeniedException" });
    expect(r.problems).toBe(2);
    expect(r.imported).toBe(1);
  });
});
