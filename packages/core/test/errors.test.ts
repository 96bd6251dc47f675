import { describe, expect, it } from "vitest";
import { ConfigError, CredentialReportFormatError, EXIT, OrgMfaError, ReportSchemaError } from "../src";

describe("one error base: the kind travels with the error", () => {
  it("names each error by its class and derives the exit code from its kind", () => {
    const config = new ConfigError("exemptions[0].reason: is required");
    expect(config).toBeInstanceOf(OrgMfaError);
    expect(config).toMatchObject({ name: "ConfigError", kind: "input", exitCode: EXIT.USAGE, isPersonFacing: true });
    const report = new ReportSchemaError(["/scanId: must be a non-empty string"]);
    expect(report).toMatchObject({ name: "ReportSchemaError", kind: "input", exitCode: EXIT.USAGE });
    expect(report.message).toContain("/scanId: must be a non-empty string");
    // One account's malformed credential report is that account's failure, never the run's usage error.
    const account = new CredentialReportFormatError("no header row");
    expect(account).toMatchObject({ kind: "account", exitCode: EXIT.ERROR, isPersonFacing: false });
  });

  it("keeps the cause it explains", () => {
    const cause = new Error("AccessDenied");
    expect(new ConfigError("cannot read", { cause }).cause).toBe(cause);
  });
});
