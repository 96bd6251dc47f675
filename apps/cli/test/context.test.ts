import { ClientPool, DiscoveryError, EmptyScopeError, ScannerCredentialsError } from "@orgmfa/aws";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ContextFlags, withCommandContext } from "../src/context";
import { UsageError } from "../src/errors";
import { Capture } from "./run";

// The command context translates what the user can fix into a UsageError in the words of their flags,
// and closes its pools however the command ends. Driven here with failures no emulator is needed for;
// test/cli.corpus.test.ts shows the same messages against the emulated organization.
const io = { stdout: new Capture(), stderr: new Capture() };
const flags: ContextFlags = { region: "us-east-1" };

/** What `withCommandContext` rejects with when the command throws `e`. */
async function failureOf(f: ContextFlags, e: unknown, alreadyDone?: () => string): Promise<unknown> {
  return withCommandContext(
    f,
    io,
    async () => {
      throw e;
    },
    alreadyDone ? { alreadyDone } : {},
  ).then(
    () => expect.unreachable(),
    (failure: unknown) => failure,
  );
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("withCommandContext", () => {
  it("names the scope filters as the user set them when nothing is left in scope", async () => {
    const e = new EmptyScopeError({
      listed: 3,
      suspended: 1,
      excluded: 2,
      filters: { accounts: ["111122223333"], excludeOus: ["ou-ab12-cdefgh34"] },
    });
    const failure = await failureOf({ ...flags, accounts: ["111122223333"] }, e);
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as UsageError).message).toBe(
      "No account is in scope, so nothing would be scanned (3 listed: 1 suspended or closed, 2 excluded). Filters in force: --accounts 111122223333; config excludeOus ou-ab12-cdefgh34. Change the filters so that at least one active account remains.",
    );
    expect((failure as UsageError).cause).toBe(e);
  });

  it("points at --org-role-arn when the organization cannot be read through it", async () => {
    const arn = "arn:aws:iam::111122223333:role/OrgMfaAuditRole";
    const cause = Object.assign(new Error("not authorized to perform sts:AssumeRole"), { name: "AccessDenied" });
    const failure = await failureOf({ ...flags, orgRoleArn: arn }, new DiscoveryError("denied", "access", { cause }));
    expect((failure as UsageError).message).toMatch(
      new RegExp(
        `^Cannot read the organization through --org-role-arn ${arn} \\(AccessDenied: not authorized to perform sts:AssumeRole\\)\\. Check that the role exists in the management account`,
      ),
    );
  });

  it("says what had already landed when the command's own credentials stop working part-way", async () => {
    const e = new ScannerCredentialsError("ExpiredToken", "STS refused the scanner's credentials (ExpiredToken)");
    const failure = await failureOf(
      flags,
      e,
      () => "The Security Hubs of the 2 member account(s) scanned before it hold their new findings.",
    );
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as UsageError).message).toMatch(
      /^STS refused the scanner's credentials \(ExpiredToken\)\. These are the credentials orgmfa runs as .* The scan stopped; no report was written and nothing else was delivered\. The Security Hubs of the 2 member account\(s\) scanned before it hold their new findings\.$/,
    );
  });

  it("passes any other failure through as it is", async () => {
    const e = new Error("boom");
    expect(await failureOf(flags, e)).toBe(e);
  });

  it("explains a caller identity that cannot be had: no credentials", async () => {
    vi.stubEnv("AWS_PROFILE", undefined);
    const noCredentials = async () => {
      throw Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      });
    };
    const failure = await withCommandContext(flags, { ...io, credentials: noCredentials }, (ctx) => ctx.caller()).then(
      () => expect.unreachable(),
      (f: unknown) => f,
    );
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as UsageError).message).toBe(
      "No AWS credentials were found. Set AWS_PROFILE (or pass --profile), run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
    );
  });

  it("closes every pool it opened, however the command ends", async () => {
    const destroy = vi.spyOn(ClientPool.prototype, "destroy");
    await withCommandContext(flags, io, async (ctx) => {
      ctx.poolFor("OrgMfaQuarantineRole");
      expect(destroy).not.toHaveBeenCalled();
    });
    expect(destroy).toHaveBeenCalledTimes(2);
    destroy.mockClear();
    await failureOf(flags, new Error("boom"));
    expect(destroy).toHaveBeenCalledTimes(1);
  });
});
