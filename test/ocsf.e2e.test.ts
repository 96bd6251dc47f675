import { readFileSync } from "node:fs";
import { OCSF_VERSION } from "@orgmfa/render";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmulatedOrg, startEmulatedOrg } from "./emulated-org";
import { runInProcess } from "./in-process";

// `orgmfa scan --format ocsf` against the emulated organization: every line must be valid against the
// OCSF schema of the version we emit, compiled from github.com/ocsf/ocsf-schema (scripts/ocsf-schema.mjs).
const schema = JSON.parse(
  readFileSync(
    new URL(`../packages/render/schema/ocsf/${OCSF_VERSION}-compliance_finding-cloud.schema.json`, import.meta.url),
    "utf8",
  ),
);
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);

let e: EmulatedOrg;
beforeAll(async () => {
  e = await startEmulatedOrg();
});
afterAll(async () => {
  await e?.emu.stop();
});

describe("orgmfa scan --format ocsf", () => {
  it("writes one valid OCSF Compliance Finding per line for the emulated organization", async () => {
    const r = await runInProcess(["scan", "--org-role-arn", e.org.orgRoleArn, "--format", "ocsf"], { env: e.env });
    // 4: one account of the demo organization has no audit role, so it is not audited.
    expect(r.code, r.stderr).toBe(4);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThanOrEqual(9);

    const invalid: string[] = [];
    const events = lines.map(
      (l) =>
        JSON.parse(l) as {
          metadata: { uid: string; correlation_uid: string };
          compliance: { control: string };
          resource: { type: string };
        },
    );
    for (const [i, event] of events.entries()) {
      if (validate(event)) continue;
      for (const err of validate.errors ?? [])
        invalid.push(
          `line ${i + 1}: ${err.instancePath || "(top level)"} ${err.message} ${JSON.stringify(err.params)}`,
        );
    }
    expect(invalid).toEqual([]);

    expect(new Set(events.map((ev) => ev.metadata.correlation_uid)).size).toBe(1);
    expect(new Set(events.map((ev) => ev.metadata.uid)).size).toBe(events.length);
    const notAudited = events.filter((ev) => ev.compliance.control === "ACCOUNT_NOT_AUDITED");
    expect(notAudited.length).toBeGreaterThanOrEqual(1);
    expect(notAudited[0]?.resource).toMatchObject({ type: "AWS::::Account" });
    expect(events.some((ev) => ev.resource.type === "AWS::IAM::User")).toBe(true);
  });
});
