import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { callInventory, type InventoryCall } from "@orgmfa/contract";
import { beforeAll, describe, expect, it } from "vitest";
import type { DeploymentConfig } from "../lib";
import { REPO_ROOT } from "../lib/paths";
import { CONFIGURATIONS, config } from "./helpers";
import { type Deployment, deployment, saved, synthesized, type Templates } from "./proof/deployment";
import { describeCall, type Evaluated, evaluate, mutate, unusedGrants } from "./proof/evaluate";
import { asArray } from "./proof/world";

// The deployment's permissions, proven: every call of the call inventory (packages/contract/src/call-inventory/)
// evaluated by a real IAM policy engine (@cloud-copilot/iam-simulate) against everything AWS evaluates for
// it in the synthesized templates — the caller's identity policies, the resource's policy (bucket, topic,
// queue, event bus, the Lambda function's permissions), the KMS key policy, and the role's trust policy for
// sts:AssumeRole — with the request context AWS sends. Then each statement a call relies on is dropped in
// turn, and some call must be denied (no statement is decoration). docs/permissions.md says how to read a
// failure. ORGMFA_PROOF_TEMPLATES=<dir> also proves templates saved there (an earlier commit's).
//
// The machinery is in ./proof: cloudformation.ts resolves the templates, world.ts gathers every principal's
// and resource's policies, deployment.ts reads the facts the inventory needs, evaluate.ts evaluates a call.

/** The deployments proven: with the quarantine (and the report bucket's Object Lock), and without. */
const variant = (quarantine: boolean) => config(quarantine ? CONFIGURATIONS.quarantineObjectLock : { quarantine });

function proof(name: string, c: DeploymentConfig, templates: () => Templates) {
  describe(name, () => {
    let d: Deployment;
    let calls: InventoryCall[];
    let evaluated: Evaluated[];

    beforeAll(async () => {
      d = deployment(c, templates());
      calls = callInventory(d.facts);
      evaluated = [];
      for (const call of calls) evaluated.push(await evaluate(d, call));
    });

    it("finds every resource and role the inventory names in the templates", () => {
      expect(d.missing).toEqual([]);
    });

    it("allows every call of the inventory (identity, resource, key and trust policies together)", () => {
      const denied = evaluated
        .filter((e) => e.outcome !== "Allowed")
        .map((e) => `${e.outcome}: ${describeCall(e.call)}`);
      expect([...new Set(denied)]).toEqual([]);
      expect(calls.length).toBeGreaterThan(100);
    });

    it("denies some call when any statement a call relies on is dropped (no statement is decoration)", async () => {
      const results = await mutate(
        d,
        evaluated.filter((e) => e.outcome === "Allowed"),
      );
      expect(results.length).toBeGreaterThan(20);
      const idle = results.filter((r) => r.denied.length === 0).map((r) => r.statement);
      expect(idle, "statements whose removal denies no call (another statement grants the same)").toEqual([]);
    });

    it("reports what is granted that no call needs", () => {
      const report = unusedGrants(d, evaluated);
      console.info(`${name} — granted, not used by any inventory call (${report.length}):\n  ${report.join("\n  ")}`);
      // Clearly excessive: an identity policy that allows every action.
      for (const role of d.world.roles.values())
        for (const p of role.identity)
          for (const s of p.doc.Statement)
            if (s.Effect === "Allow") expect(asArray(s.Action as string | string[]), `${p.id}`).not.toContain("*");
    });
  });
}

describe("the deployment's permissions, proven by IAM's evaluation rules", () => {
  it("takes every call from the inventory, and the code makes each call where the inventory says", () => {
    const calls = [false, true].flatMap((quarantine) => {
      const c = variant(quarantine);
      return callInventory(deployment(c, synthesized(c)).facts);
    });
    const problems: string[] = [];
    for (const call of calls) {
      const file = path.join(REPO_ROOT, call.source);
      if (!existsSync(file)) problems.push(`${call.source} does not exist (${call.what})`);
      else if (call.code && !readFileSync(file, "utf8").includes(call.code))
        problems.push(`${call.source} does not contain ${JSON.stringify(call.code)} (${call.what})`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  for (const quarantine of [false, true]) {
    const c = variant(quarantine);
    proof(`synthesized, quarantine ${quarantine ? "on" : "off"}`, c, () => synthesized(c));
  }

  const dir = process.env.ORGMFA_PROOF_TEMPLATES;
  if (dir)
    for (const quarantine of [false, true]) {
      const c = variant(quarantine);
      proof(`saved in ${dir}, quarantine ${quarantine ? "on" : "off"}`, c, () => saved(dir, quarantine));
    }
});
