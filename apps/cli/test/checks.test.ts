import { CHECK_DEFAULTS, CHECK_IDS } from "@orgmfa/core";
import { describe, expect, it } from "vitest";
import { orgmfa } from "./run";

describe("orgmfa checks", () => {
  it("lists every check with its default severity in a table, exit 0", async () => {
    const r = await orgmfa(["checks"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/\n│ Check +│ Severity │ Related +│ Raised when +│ Needs +│\n/);
    for (const id of CHECK_IDS)
      expect(r.stdout).toMatch(new RegExp(`│ ${id}\\s*│ ${CHECK_DEFAULTS[id].severity}\\s*│`));
  });

  it("never cuts a check id, even in a narrow terminal", async () => {
    const r = await orgmfa(["checks", "--no-color"], { columns: 60 });
    expect(r.code).toBe(0);
    for (const id of CHECK_IDS) expect(r.stdout).toMatch(new RegExp(`│ ${id} +│`));
    expect(r.stdout).not.toContain("…");
  });

  it("--format json (any case) lists every check with what it needs, in order", async () => {
    const r = await orgmfa(["checks", "--format", "JSON"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const list = JSON.parse(r.stdout) as Array<{ id: string; severity: string; enabledByDefault: boolean }>;
    expect(list.map((c) => c.id)).toEqual([...CHECK_IDS]);
    expect(list.find((c) => c.id === "USER_MFA_NOT_PHISHING_RESISTANT")?.enabledByDefault).toBe(false);
    expect(list.find((c) => c.id === "ACCOUNT_NOT_AUDITED")).toMatchObject({
      severity: "HIGH",
      enabledByDefault: true,
    });
  });
});
