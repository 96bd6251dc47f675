import { describe, expect, it } from "vitest";
import { ConfigError, parseConfigText, policyFromConfig } from "../src";

describe("config", () => {
  it("accepts a full config and derives the policy", () => {
    const cfg = parseConfigText(
      JSON.stringify({
        checks: { USER_API_NO_MFA: { severity: "HIGH" } },
        requirePhishingResistantMfa: true,
        exemptions: [
          {
            account: "*",
            principal: "root",
            checks: "*",
            reason: "centralized root access rollout",
            expires: "2027-01-31",
          },
        ],
        ownerTag: "team",
      }),
      "cfg.json",
    );
    const p = policyFromConfig(cfg);
    expect(p.checks.USER_API_NO_MFA).toEqual({ enabled: true, severity: "HIGH" });
    expect(p.checks.ROOT_NO_MFA).toEqual({ enabled: true, severity: "CRITICAL" });
    expect(p.requirePhishingResistantMfa).toBe(true);
  });
  it("names every bad field", () => {
    const bad = {
      exemptions: [{ account: "123", principal: "x", checks: ["NOPE"], expires: "soon" }],
      checks: { ROOT_NO_MFA: { severity: "URGENT" } },
      extra: 1,
    };
    let msg = "";
    try {
      parseConfigText(JSON.stringify(bad), "cfg.json");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/cfg\.json is invalid/);
    expect(msg).toMatch(/exemptions\[0\]\.account: must be a 12-digit account id/);
    expect(msg).toMatch(/exemptions\[0\]\.reason/);
    expect(msg).toMatch(/exemptions\[0\]\.expires: must be an ISO-8601 date/);
    expect(msg).toMatch(/exemptions\[0\]\.checks: must be "\*" or a list of check ids/);
    expect(msg).toMatch(/checks\.ROOT_NO_MFA\.severity/);
    expect(msg).toMatch(/extra/);
  });
  it("says when the file is not JSON", () => {
    expect(() => parseConfigText("{ nope", "cfg.json")).toThrow(/cfg\.json is not valid JSON/);
  });
});
