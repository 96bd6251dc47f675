import { AddUserToGroupCommand, ListUsersCommand } from "@aws-sdk/client-iam";
import type { AccountTarget } from "@orgmfa/core";
import { beforeEach, describe, expect, it } from "vitest";
import { ClientPool, errorCode, ScannerCredentialsError, scanAccounts } from "../src";
import { type Answer, assumed, loopbackAws } from "./loopback";

// A loopback STS + IAM that answers with AWS's exact Query-protocol error documents, so the SDK's own
// retry layer and error parsing run as they do against AWS (a mocked `send` would skip both).
const error = (ns: "sts" | "iam", status: number, code: string, message: string): Answer => ({
  status,
  body: `<ErrorResponse xmlns="https://${ns}.amazonaws.com/doc/${ns === "sts" ? "2011-06-15" : "2010-05-08"}/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`,
});
const listUsers: Answer = {
  status: 200,
  body: `<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><IsTruncated>false</IsTruncated><Users/></ListUsersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>`,
};

/** Requests seen, by action. */
const seen = new Map<string, number>();
/** How each action is answered: the n-th request of it (0-based) gets the answer. */
let answer: (action: string, n: number, form: URLSearchParams) => Answer;

const aws = loopbackAws((_req, raw) => {
  const form = new URLSearchParams(raw);
  const action = form.get("Action") ?? "";
  const n = seen.get(action) ?? 0;
  seen.set(action, n + 1);
  return answer(action, n, form);
});
beforeEach(() => {
  seen.clear();
  answer = (action, _n, form) =>
    action === "AssumeRole" ? assumed(form.get("RoleArn") ?? "") : error("iam", 400, "InvalidAction", action);
});

const poolOf = (maxAttempts = 10) =>
  new ClientPool({
    region: "us-east-1",
    endpoint: aws.endpoint(),
    baseCredentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" }),
    maxAttempts,
  });
const targets = (...ids: string[]): AccountTarget[] =>
  ids.map((accountId) => ({
    accountId,
    accountName: accountId,
    ouPath: "Root",
    owner: null,
    state: "ACTIVE",
    skip: null,
    ouIds: [],
  }));

describe("IAM's quota errors are not throttling", () => {
  it("AddUserToGroup past 10 groups (LimitExceeded) is sent once, not retried as throttling", async () => {
    answer = (action, _n, form) =>
      action === "AssumeRole"
        ? assumed(form.get("RoleArn") ?? "")
        : error("iam", 409, "LimitExceeded", "Cannot exceed quota for GroupsPerUser: 10");
    const pool = poolOf();
    try {
      const started = Date.now();
      const e = await pool
        .iam("111122223333")
        .send(new AddUserToGroupCommand({ GroupName: "q", UserName: "alice" }))
        .catch((x: unknown) => x);
      expect(errorCode(e)).toBe("LimitExceededException");
      expect((e as { $metadata?: { attempts?: number } }).$metadata?.attempts).toBe(1);
      expect(seen.get("AddUserToGroup")).toBe(1);
      // Without IamRetryStrategy the SDK retries it 9 times with throttling backoff (tens of seconds).
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      pool.destroy();
    }
  });

  it("real throttling is still retried by the SDK's adaptive strategy", async () => {
    answer = (action, n, form) =>
      action === "AssumeRole"
        ? assumed(form.get("RoleArn") ?? "")
        : n < 2
          ? error("iam", 400, "Throttling", "Rate exceeded")
          : listUsers;
    const pool = poolOf();
    try {
      const r = await pool.iam("111122223333").send(new ListUsersCommand({}));
      expect(r.Users).toEqual([]);
      expect(r.$metadata.attempts).toBe(3);
    } finally {
      pool.destroy();
    }
  });
});

describe("failures of AssumeRole, by whose problem they are", () => {
  it("RegionDisabledException is the account's own reason, not ASSUME_ROLE_DENIED", async () => {
    answer = (action) =>
      action === "AssumeRole"
        ? error(
            "sts",
            403,
            "RegionDisabledException",
            "STS is not activated in this region for account:111122223333. Your account administrator can activate STS in this region using the IAM Console.",
          )
        : listUsers;
    const pool = poolOf(1);
    try {
      const outcomes = await scanAccounts(pool, targets("111122223333"));
      expect(outcomes.get("111122223333")).toMatchObject({
        kind: "failure",
        reason: "STS_REGION_DISABLED",
        error: { code: "RegionDisabledException" },
      });
    } finally {
      pool.destroy();
    }
  });

  it.each([
    ["ExpiredToken", "The security token included in the request is expired"],
    ["InvalidClientTokenId", "The security token included in the request is invalid."],
  ])(
    "the scanner's own credentials refused (%s) stop the scan once, not one failure per account",
    async (code, msg) => {
      answer = (action) => (action === "AssumeRole" ? error("sts", 403, code, msg) : listUsers);
      const pool = poolOf(1);
      const ended: string[] = [];
      try {
        const ids = Array.from({ length: 12 }, (_, i) => String(100000000000 + i));
        const e = await scanAccounts(pool, targets(...ids), {
          concurrency: 2,
          onAccountDone: (o) => ended.push(o.accountId),
        }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ScannerCredentialsError);
        expect((e as ScannerCredentialsError).code).toMatch(new RegExp(`^${code}`));
        expect((e as Error).message).toMatch(/scanner's own credentials/);
        // No account was recorded as failed for it, and accounts not yet started were never tried.
        expect(ended).toEqual([]);
        expect(seen.get("AssumeRole")).toBeLessThanOrEqual(2);
      } finally {
        pool.destroy();
      }
    },
  );

  it("AccessDenied on AssumeRole stays the account's ASSUME_ROLE_DENIED", async () => {
    answer = (action) =>
      action === "AssumeRole"
        ? error("sts", 403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole")
        : listUsers;
    const pool = poolOf(1);
    try {
      const outcomes = await scanAccounts(pool, targets("111122223333", "444455556666"));
      expect([...outcomes.values()].map((o) => o.kind === "failure" && o.reason)).toEqual([
        "ASSUME_ROLE_DENIED",
        "ASSUME_ROLE_DENIED",
      ]);
    } finally {
      pool.destroy();
    }
  });
});
