import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { operatorStatements } from "@orgmfa/contract";
import { describe, expect, it } from "vitest";

// What the README tells a newcomer must be true of the code: the policy it prints is the one the
// deployment attaches, every page it points to exists, and it never sends anyone to `npx` a registry
// name the project does not own.
const ROOT = path.resolve(import.meta.dirname, "..");
const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
const docs = readdirSync(path.join(ROOT, "docs"))
  .filter((f) => f.endsWith(".md"))
  .map((f) => [f, readFileSync(path.join(ROOT, "docs", f), "utf8")] as const);

describe("the README", () => {
  it("prints the operator's policy exactly as policies.ts writes it", () => {
    const block = /<!-- operator-policy -->\s*```json\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(JSON.parse(block ?? "null")).toEqual({
      Version: "2012-10-17",
      Statement: operatorStatements({
        partition: "aws",
        organizationId: "o-exampleorgid",
        auditRoleName: "OrgMfaAuditRole",
      }),
    });
  });

  it("links only to pages that exist", () => {
    const links = [...readme.matchAll(/\]\((docs\/[^)#]+)(#[^)]*)?\)/g)].map((m) => m[1] ?? "");
    expect(links.length).toBeGreaterThan(5);
    for (const l of links) expect(existsSync(path.join(ROOT, l)), l).toBe(true);
  });

  it("never tells anyone to npx the orgmfa command", () => {
    for (const [name, text] of [["README.md", readme] as const, ...docs]) expect(text, name).not.toMatch(/npx orgmfa/);
  });

  it("has the test command CI runs, and a real-organization path near the top", () => {
    expect(readme).toMatch(/^npm test\b/m);
    const quickstart = readme.indexOf("## A real organization in three steps");
    expect(quickstart).toBeGreaterThan(0);
    expect(quickstart).toBeLessThan(readme.indexOf("## What the demo shows"));
  });
});
