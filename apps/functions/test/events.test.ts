import { describe, expect, it } from "vitest";
import { discoveryErrorText, isDiscoveryFailed } from "../src/discovery-failed";
import { eventUserName, type IamCloudTrailEvent } from "../src/enforce";

const event = (detail: Partial<IamCloudTrailEvent["detail"]>, account = "111111111111") => ({
  account,
  detail: { eventName: "DeactivateMFADevice", ...detail },
});

describe("the user an IAM event is about (Enforce)", () => {
  it("is the call's userName when it names one", () => {
    expect(eventUserName(event({ requestParameters: { userName: "alice" } }))).toBe("alice");
  });

  it("is the calling IAM user of the same account when the call names no one (IAM defaults to the caller)", () => {
    const self = { type: "IAMUser", accountId: "111111111111", userName: "bob" };
    expect(eventUserName(event({ requestParameters: {}, userIdentity: self }))).toBe("bob");
    expect(eventUserName(event({ requestParameters: null, userIdentity: self }))).toBe("bob");
  });

  it("is nobody when the caller is a role, root, or a user of another account", () => {
    const role = { type: "AssumedRole", accountId: "111111111111" };
    const root = { type: "Root", accountId: "111111111111" };
    const other = { type: "IAMUser", accountId: "222222222222", userName: "mallory" };
    for (const caller of [role, root, other]) expect(eventUserName(event({ userIdentity: caller }))).toBeNull();
  });
});

describe("Publish's input after Discover failed", () => {
  it("is told from a run's reference by the error Step Functions put beside it", () => {
    expect(isDiscoveryFailed({ discoveryError: { Error: "States.Timeout" } })).toBe(true);
    expect(isDiscoveryFailed({ bucket: "b", scanId: "s", contextKey: "k", discoveryError: {} })).toBe(false);
  });

  it("says the error in one readable line: a Lambda error's JSON cause becomes its type and message", () => {
    const cause = JSON.stringify({ errorType: "ScanConfigError", errorMessage: "the scan configuration\nis invalid" });
    expect(discoveryErrorText({ Error: "ScanConfigError", Cause: cause })).toBe(
      "ScanConfigError — ScanConfigError: the scan configuration is invalid",
    );
    expect(discoveryErrorText({ Error: "States.Timeout", Cause: "Task timed out" })).toBe(
      "States.Timeout — Task timed out",
    );
    expect(discoveryErrorText({})).toBe("unknown error");
    expect(discoveryErrorText({ Cause: "x".repeat(5000) })).toHaveLength(2000);
  });
});
