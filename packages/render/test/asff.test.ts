import { CHECK_DEFAULTS, CHECK_IDS, CHECK_INFO, type CheckId, type Finding, SEVERITIES } from "@orgmfa/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ACCOUNT, facts, reportAt, target, user } from "../../core/test/fixtures";
import { archivedAsff, CUSTOMER_OWNED_ASFF_FIELDS, type StoredAsffFinding, toAsff } from "../src";

const ctx = { region: "us-east-1", scanningAccountId: "999999999999" };
const report = reportAt([target()], new Map([[ACCOUNT, facts([user("u", { consoleAccess: true })])]]));

function finding(checkId: CheckId, severity: Finding["severity"]): Finding {
  return {
    id: `orgmfa/${checkId}/${ACCOUNT}/user/u`,
    checkId,
    severity,
    accountId: ACCOUNT,
    accountName: "prod",
    principalArn: `arn:aws:iam::${ACCOUNT}:user/u`,
    userName: "u",
    title: `${checkId}: u`,
    status: "OPEN",
    exemption: null,
    evidence: {},
  };
}

/** A finding as GetFindings returns it after an analyst changed its severity and types. */
function stored(
  checkId: CheckId,
  analyst = { label: "LOW", types: ["Software and Configuration Checks/Triage/Accepted"] },
) {
  const sent = toAsff(finding(checkId, "CRITICAL"), report, ctx);
  return {
    ...sent,
    Severity: { Label: analyst.label, Original: "CRITICAL", Normalized: 1 },
    Types: analyst.types,
    Workflow: { Status: "NOTIFIED" },
  } as StoredAsffFinding;
}

describe("ASFF as a finding provider sends it", () => {
  it.each(CHECK_IDS)("%s: severity and types in FindingProviderFields only, nothing the customer owns", (checkId) => {
    for (const severity of SEVERITIES) {
      const f = toAsff(finding(checkId, severity), report, ctx);
      expect(f.FindingProviderFields).toEqual({
        Severity: { Label: severity, Original: severity },
        Types: [CHECK_INFO[checkId].asffType],
      });
      for (const key of CUSTOMER_OWNED_ASFF_FIELDS) expect(f, key).not.toHaveProperty(key);
    }
  });

  it.each(CHECK_IDS)("%s: archiving keeps the provider's severity and types, never copies the analyst's", (checkId) => {
    const archived = archivedAsff(stored(checkId), new Date("2030-01-01T00:00:00Z"));
    expect(archived).toMatchObject({ RecordState: "ARCHIVED", Compliance: { Status: "PASSED" } });
    expect(archived.FindingProviderFields).toEqual({
      Severity: { Label: "CRITICAL", Original: "CRITICAL" },
      Types: [CHECK_INFO[checkId].asffType],
    });
    for (const key of CUSTOMER_OWNED_ASFF_FIELDS) expect(archived, key).not.toHaveProperty(key);
  });

  it("never sends back whatever an analyst set at the top level", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CHECK_IDS),
        fc.constantFrom(...SEVERITIES),
        fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 }),
        (checkId, label, types) => {
          const archived = archivedAsff(stored(checkId, { label, types }), new Date("2030-01-01T00:00:00Z"));
          expect(archived.FindingProviderFields).toEqual({
            Severity: { Label: "CRITICAL", Original: "CRITICAL" },
            Types: [CHECK_INFO[checkId].asffType],
          });
          for (const key of CUSTOMER_OWNED_ASFF_FIELDS) expect(archived).not.toHaveProperty(key);
        },
      ),
    );
  });

  it.each(CHECK_IDS)(
    "%s: a stored finding without FindingProviderFields is archived with the check's defaults",
    (checkId) => {
      const { FindingProviderFields: _, ...withoutProviderFields } = stored(checkId);
      const archived = archivedAsff(withoutProviderFields, new Date("2030-01-01T00:00:00Z"));
      expect(archived.FindingProviderFields).toEqual({
        Severity: { Label: CHECK_DEFAULTS[checkId].severity, Original: CHECK_DEFAULTS[checkId].severity },
        Types: [CHECK_INFO[checkId].asffType],
      });
      expect(archived).not.toHaveProperty("Severity");
      expect(archived).not.toHaveProperty("Types");
    },
  );

  it("refuses to archive a finding it cannot have generated rather than invent its severity", () => {
    const { FindingProviderFields: _, ...foreign } = { ...stored("USER_CONSOLE_NO_MFA"), GeneratorId: "prowler/iam" };
    expect(() => archivedAsff(foreign, new Date())).toThrow(/not an orgmfa finding/);
  });
});
