import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CHECK_DEFAULTS, type CheckId } from "@orgmfa/core";
import { findMoto } from "@orgmfa/emulator";
import { CUSTOMER_OWNED_ASFF_FIELDS } from "@orgmfa/render";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmulatedOrg, startEmulatedOrg } from "./emulated-org";
import { runInProcess } from "./in-process";

// `--format asff` is what `--security-hub` imports. It is checked against Security Hub's published
// API model (botocore's copy, through botocore's own validator), not against our idea of ASFF.
const VALIDATOR = fileURLToPath(new URL("../packages/emulator/python/validate_asff.py", import.meta.url));
const INSTALL = 'botocore is needed (it comes with the emulator): pip install "moto[server]==5.2.1"';

type Asff = Record<string, unknown> & {
  Id: string;
  GeneratorId: string;
  ProductFields: Record<string, string>;
  FindingProviderFields: { Severity: { Label: string }; Types: string[] };
};

/** The interpreter moto runs on (it has botocore), else python3. */
let interpreter: string | undefined;
const python = () => {
  interpreter ??= findMoto()?.command ?? "python3";
  return interpreter;
};

function validate(findings: unknown[]): { code: number | null; problems: string[]; summary: string } {
  const r = spawnSync(python(), [VALIDATOR], { input: JSON.stringify(findings), encoding: "utf8" });
  if (r.error) throw new Error(`Could not run ${python()} (${r.error.message}). Python 3 with ${INSTALL}`);
  if (r.status === 3) throw new Error(`${r.stderr.trim()}\n${INSTALL}`);
  if (r.status !== 0 && r.status !== 1) throw new Error(`validate_asff.py failed (${r.status}): ${r.stderr}`);
  return { code: r.status, problems: r.stdout.split("\n").filter(Boolean), summary: r.stderr.trim() };
}

let e: EmulatedOrg;
let findings: Asff[];

beforeAll(async () => {
  const botocore = spawnSync(python(), ["-c", "import botocore"], { encoding: "utf8" });
  if (botocore.error || botocore.status !== 0)
    throw new Error(`${python()} cannot import botocore: ${INSTALL}\n${botocore.stderr ?? ""}`);
  e = await startEmulatedOrg();
  const r = await runInProcess(["scan", "--org-role-arn", e.org.orgRoleArn, "--format", "asff"], { env: e.env });
  expect(r.code, r.stderr).toBe(4); // one in-scope account is not audited
  findings = JSON.parse(r.stdout) as Asff[];
});
afterAll(async () => {
  await e?.emu.stop();
});

describe("orgmfa scan --format asff against the Security Hub API model", () => {
  it("is valid BatchImportFindings input, every finding of every check", () => {
    expect(findings.length).toBeGreaterThan(3);
    expect(new Set(findings.map((f) => f.GeneratorId)).size).toBeGreaterThan(2);
    const v = validate(findings);
    expect(v.problems).toEqual([]);
    expect(v.code).toBe(0);
    expect(v.summary).toContain(`${findings.length} finding(s) checked`);
  });

  it("sends severity and types as a finding provider only (FindingProviderFields), nothing the customer owns", () => {
    for (const f of findings) {
      for (const key of CUSTOMER_OWNED_ASFF_FIELDS) expect(f, `${f.Id}: ${key}`).not.toHaveProperty(key);
      const checkId = f.ProductFields["orgmfa/CheckId"] as CheckId;
      expect(f.GeneratorId).toBe(`orgmfa/${checkId}`);
      expect(f.FindingProviderFields.Severity.Label, f.Id).toBe(CHECK_DEFAULTS[checkId].severity);
      expect(f.FindingProviderFields.Types.length, f.Id).toBe(1);
    }
  });

  it("reports what Security Hub would refuse (negative control)", () => {
    const [sample] = findings as [Asff];
    const { Title: _, ...noTitle } = sample;
    const badLabel = {
      ...sample,
      FindingProviderFields: { ...sample.FindingProviderFields, Severity: { Label: "SEVERE" } },
    };
    const { FindingProviderFields: __, ...noSeverity } = sample;
    const unknownMember = { ...sample, Analyst: "x" };
    const v = validate([noTitle, badLabel, sample, noSeverity, unknownMember]);
    expect(v.code).toBe(1);
    expect(v.problems).toEqual([
      `Findings[0] ${sample.Id}: Missing required parameter in Findings[0]: "Title"`,
      expect.stringMatching(
        /^Findings\[1\] .*: Findings\[1\]\.FindingProviderFields\.Severity\.Label: 'SEVERE' is not one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL$/,
      ),
      `Findings[3] ${sample.Id}: Findings[3]: no severity (FindingProviderFields.Severity.Label, or Severity.Label)`,
      expect.stringMatching(/^Findings\[4\] .*: Unknown parameter in Findings\[4\]: "Analyst", must be one of: /),
    ]);
  });
});

describe("orgmfa scan --security-hub on the emulator", () => {
  it("puts no top-level severity or types on the wire (moto stores a finding exactly as it was sent)", async () => {
    const r = await runInProcess(["scan", "--org-role-arn", e.org.orgRoleArn, "--security-hub", "--format", "json"], {
      env: e.env,
    });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).not.toMatch(/delivery to/);
    const accounts = [...new Set(findings.map((f) => f.AwsAccountId as string))];
    const stored = (
      await e.asAdmin(async () => (await Promise.all(accounts.map((a) => e.reader.findings(a)))).flat())
    ).filter((f) => f.GeneratorId?.startsWith("orgmfa/"));
    expect(stored.map((f) => f.Id).sort()).toEqual(findings.map((f) => f.Id).sort());
    for (const f of stored) {
      expect(f.Severity, f.Id).toBeUndefined();
      expect(f.Types, f.Id).toBeUndefined();
      expect(f.FindingProviderFields?.Severity?.Label, f.Id).toBeTruthy();
    }
  });
});
