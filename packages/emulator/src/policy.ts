import type { Caller } from "./control";

/**
 * The policy engine, loaded when first needed and never bundled (the CLI's bundle carries the emulator
 * for `orgmfa demo`): it reads its IAM data files beside its own modules, so it must stay where npm put it.
 */
const IAM_SIMULATE = "@cloud-copilot/iam-simulate";
let simulator: Promise<typeof import("@cloud-copilot/iam-simulate") | null> | undefined;
/**
 * The engine, or null where it is not installed: it is a development dependency (AGPL-3.0), never
 * shipped with the packed CLI, whose demo then judges AssumeRole as moto does and says so.
 */
const iamSimulate = () => {
  simulator ??= (import(IAM_SIMULATE) as Promise<typeof import("@cloud-copilot/iam-simulate")>).catch(() => null);
  return simulator;
};

/** Whether the emulator judges cross-account AssumeRole with the real policy engine (see `iamSimulate`). */
export async function hasPolicyEngine(): Promise<boolean> {
  return (await iamSimulate()) !== null;
}

const ROOT_POLICY = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

/**
 * Is `caller` allowed `action` on `resource` (in `resourceAccount`), with `resourcePolicy` (a role's trust
 * policy) if any? null when the engine is not installed. Evaluated by a real IAM policy engine (@cloud-copilot/iam-simulate) with AWS's request
 * context: the caller's identity policies (the root user's are implicitly everything), and for another
 * account's resource both the identity policy and the resource policy must allow.
 */
export async function allowed(
  caller: Caller,
  action: string,
  resource: string,
  resourceAccount: string,
  extra: Record<string, string>,
  resourcePolicy?: unknown,
): Promise<boolean | null> {
  const identityPolicies = (caller.type === "Account" ? [ROOT_POLICY] : caller.policies).map((policy, i) => ({
    name: `identity-${i}`,
    policy,
  }));
  const engine = await iamSimulate();
  if (!engine) return null; // not judged here: moto judges as it always did
  const { runSimulation } = engine;
  const r = await runSimulation(
    {
      request: {
        principal: caller.sessionArn ?? caller.arn,
        action,
        resource: { resource, accountId: resourceAccount },
        contextVariables: { ...caller.context, ...extra },
      },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
    },
    {},
  );
  if (r.resultType === "error") throw new Error(`policy evaluation failed: ${JSON.stringify(r.errors).slice(0, 500)}`);
  return r.overallResult === "Allowed";
}
