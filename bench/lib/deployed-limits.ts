import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** The workflow's functions, by their entry's name (apps/functions/src/<name>.ts). */
export const WORKFLOW_FUNCTIONS = ["discover", "owners", "scan-batch", "publish", "enforce"] as const;
export type WorkflowFunction = (typeof WORKFLOW_FUNCTIONS)[number];

export interface FunctionLimits {
  timeoutSeconds: number;
  memoryMb: number;
}

/**
 * Each function's timeout and memory as the CDK app deploys them: CentralStack synthesized (without
 * bundling, as apps/infra's tests do) from the example deployment config with the quarantine on, and
 * read off its AWS::Lambda::Function resources — never restated here.
 */
export async function deployedLimits(): Promise<Record<WorkflowFunction, FunctionLimits>> {
  const infra = await import("@orgmfa/infra");
  const { Template } = await import("aws-cdk-lib/assertions");
  const example = JSON.parse(readFileSync(path.join(infra.REPO_ROOT, "apps/infra/orgmfa.config.example.json"), "utf8"));
  const config = infra.parseDeploymentConfig({ ...example, quarantine: true }, "the example config");
  const outdir = mkdtempSync(path.join(os.tmpdir(), "orgmfa-bench-cdk-"));
  try {
    const built = infra.buildApp(config, { outdir, context: { "aws:cdk:bundling-stacks": [] } });
    const functions = Object.entries(Template.fromStack(built.central).findResources("AWS::Lambda::Function"));
    const out: Partial<Record<WorkflowFunction, FunctionLimits>> = {};
    for (const name of WORKFLOW_FUNCTIONS) {
      // The function's construct id is its name; the logical id drops the dash and adds a hash.
      const id = name.replace(/-/g, "");
      const f = functions.find(([logicalId]) => new RegExp(`^${id}[A-F0-9]{8}$`).test(logicalId))?.[1];
      const timeout = Number(f?.Properties?.Timeout);
      const memory = Number(f?.Properties?.MemorySize ?? 128); // Lambda's default when unset
      if (!f || !Number.isFinite(timeout)) throw new Error(`CentralStack has no ${name} function with a timeout`);
      out[name] = { timeoutSeconds: timeout, memoryMb: memory };
    }
    return out as Record<WorkflowFunction, FunctionLimits>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
