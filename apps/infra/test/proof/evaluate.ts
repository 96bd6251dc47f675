import { runSimulation } from "@cloud-copilot/iam-simulate";
import { type CallPrincipal, type InventoryCall, principalName } from "@orgmfa/contract";
import type { Doc, Json } from "./cloudformation";
import type { Deployment } from "./deployment";
import { asArray, type PolicyRef, type RoleFacts, templateStatement } from "./world";

// ── One call, evaluated ───────────────────────────────────────────────────────────────────────────
export type Outcome = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";
export interface Evaluated {
  call: InventoryCall;
  outcome: Outcome | string;
  /** The statements the allowing decision used ("<policy id>#<index>"). */
  used: string[];
  /** The policies the call was evaluated against (their ids). */
  policies: string[];
}

export const MEMBER_ROLE_IDS = {
  audit: "AuditRole",
  enforcer: "EnforcerRole",
  forwarder: "ForwardIamEventsRole",
} as const;

export function roleFor(d: Deployment, p: CallPrincipal): RoleFacts | string {
  if (p.kind === "central-role") {
    const arn = d.centralRoles[p.role];
    return (arn && d.world.roles.get(arn)) || `no role for ${p.role} in the central template`;
  }
  if (p.kind === "member-role") {
    const stack = d.world.stacks.find(
      (s) => s.account === p.account && s.resources[MEMBER_ROLE_IDS[p.role]] !== undefined,
    );
    const arn = stack?.resources[MEMBER_ROLE_IDS[p.role]]?.attrs.Arn;
    return (arn && d.world.roles.get(arn)) || `no ${MEMBER_ROLE_IDS[p.role]} in account ${p.account}`;
  }
  return `${p.service} is a service, not a role`;
}

export function resourcePolicyFor(d: Deployment, resource: string): PolicyRef | undefined {
  const direct = d.world.resourcePolicies.get(resource);
  if (direct) return direct;
  // An object's policy is its bucket's.
  const s3 = /^(arn:[^:]+:s3:::[^/]+)\//.exec(resource);
  return s3 ? d.world.resourcePolicies.get(s3[1] as string) : undefined;
}

/**
 * iam-simulate (0.1.173) keeps a request's context key only when the action lists it; KMS's
 * `kms:EncryptionContext:<key>` is listed as a variable key it does not match (it matches only the
 * `…/<name>` form), so it would be dropped silently and a key policy conditioned on it could never be
 * satisfied. The proof renames that key — in the policies and in the request alike, operator and
 * values untouched — to a `/`-form key the engine keeps. Any other dropped key fails the evaluation.
 */
export const EC = /^kms:EncryptionContext:(.+)$/i;
export const ecKey = (k: string) => k.replace(EC, "aws:PrincipalTag/kms-encryption-context.$1");
export function engineSafe(doc: Doc): Doc {
  return {
    ...doc,
    Statement: doc.Statement.map((st) =>
      st.Condition
        ? {
            ...st,
            Condition: Object.fromEntries(
              Object.entries(st.Condition as Record<string, Record<string, Json>>).map(([op, kv]) => [
                op,
                Object.fromEntries(Object.entries(kv).map(([k, v]) => [ecKey(k), v])),
              ]),
            ),
          }
        : st,
    ),
  };
}

export async function evaluate(
  d: Deployment,
  call: InventoryCall,
  drop?: { policy: string; index: number },
): Promise<Evaluated> {
  const fail = (outcome: string): Evaluated => ({ call, outcome, used: [], policies: [] });
  const org = d.facts.organizationId;
  let principal: string;
  let identity: PolicyRef[] = [];
  const context: Record<string, string | string[]> = { "aws:SecureTransport": "true" };
  if (call.principal.kind === "service") {
    principal = call.principal.service;
  } else {
    const role = roleFor(d, call.principal);
    if (typeof role === "string") return fail(role);
    principal = `arn:aws:sts::${role.account}:assumed-role/${role.name}/orgmfa`;
    identity = role.identity;
    Object.assign(context, {
      "aws:PrincipalArn": role.arn,
      "aws:PrincipalAccount": role.account,
      "aws:PrincipalOrgID": org,
      "aws:PrincipalType": "AssumedRole",
    });
  }
  let resource = call.resource;
  if (call.assumes) {
    const role = roleFor(d, call.assumes);
    if (typeof role === "string") return fail(role);
    resource = role.arn;
  }
  if (resource.includes("<")) return fail(`the resource is missing from the templates: ${resource}`);
  if (resource !== "*")
    Object.assign(context, { "aws:ResourceAccount": call.resourceAccount, "aws:ResourceOrgID": org });
  Object.assign(context, call.context ?? {});
  const resourcePolicy = resource === "*" ? undefined : resourcePolicyFor(d, resource);
  const without = (ref: PolicyRef) =>
    engineSafe(
      drop && drop.policy === templateStatement(ref.id)
        ? { ...ref.doc, Statement: ref.doc.Statement.filter((_s, i) => i !== drop.index) }
        : ref.doc,
    );
  const r = await runSimulation(
    {
      request: {
        principal,
        action: call.action,
        resource: { resource, accountId: call.resourceAccount },
        contextVariables: Object.fromEntries(Object.entries(context).map(([k, v]) => [ecKey(k), v])),
      },
      identityPolicies: identity.map((p) => ({ name: p.id, policy: without(p) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy: without(resourcePolicy) } : {}),
    },
    {},
  );
  if (r.resultType === "error") return fail(`simulation error: ${JSON.stringify(r.errors)}`);
  const ignored = (r.resultType === "single" ? [r.result] : r.results).flatMap((x) => x.ignoredContextKeys ?? []);
  const notGlobal = ignored.filter((k) => !/^aws:(Principal|Resource)(Arn|Account|OrgID|Type)$/i.test(k));
  if (notGlobal.length) return fail(`the engine dropped context keys AWS sends: ${notGlobal.join(", ")}`);
  const used: string[] = [];
  const results = r.resultType === "single" ? [r.result] : r.results;
  for (const one of results) {
    const a = one.analysis;
    for (const s of a?.identityAnalysis?.allowStatements ?? [])
      used.push(`${templateStatement(s.policyId)}#${s.statement.index() - 1}`);
    if (resourcePolicy)
      for (const s of a?.resourceAnalysis?.allowStatements ?? [])
        used.push(`${templateStatement(resourcePolicy.id)}#${s.statement.index() - 1}`);
  }
  return {
    call,
    outcome: r.overallResult,
    used,
    policies: [...identity.map((p) => p.id), ...(resourcePolicy ? [resourcePolicy.id] : [])].map(templateStatement),
  };
}

export const describeCall = (c: InventoryCall) =>
  `${principalName(c.principal)} ${c.action} on ${c.resource || `the ${c.assumes ? principalName(c.assumes) : "role"}`} — ${c.what} (${c.source})`;

/** Every statement the allowing decisions used, dropped in turn: the calls denied without it. */
export async function mutate(d: Deployment, allowed: Evaluated[]) {
  const usedBy = new Map<string, Evaluated[]>();
  for (const e of allowed) for (const u of new Set(e.used)) usedBy.set(u, [...(usedBy.get(u) ?? []), e]);
  const results: Array<{ statement: string; denied: string[] }> = [];
  for (const [statement, users] of usedBy) {
    const hash = statement.lastIndexOf("#");
    const drop = { policy: statement.slice(0, hash), index: Number(statement.slice(hash + 1)) };
    const denied: string[] = [];
    // Only the calls evaluated against that policy can change.
    for (const e of allowed.filter((x) => x.policies.includes(drop.policy))) {
      const m = await evaluate(d, e.call, drop);
      if (m.outcome !== "Allowed") denied.push(describeCall(e.call));
    }
    results.push({ statement, denied });
    void users;
  }
  return results;
}

/** Actions an identity policy grants that no inventory call of that role makes (reported, not failed). */
export function unusedGrants(d: Deployment, evaluated: Evaluated[]): string[] {
  const out: string[] = [];
  const glob = (pattern: string) =>
    new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i");
  const used = new Set(evaluated.filter((e) => e.outcome === "Allowed").flatMap((e) => e.used));
  for (const role of d.world.roles.values())
    for (const p of role.identity)
      p.doc.Statement.forEach((s, i) => {
        if (s.Effect !== "Allow") return;
        const id = `${templateStatement(p.id)}#${i}`;
        if (used.has(id)) {
          const calls = evaluated.filter((e) => e.used.includes(id)).map((e) => e.call.action);
          for (const action of asArray(s.Action as string | string[]))
            if (!calls.some((a) => glob(action).test(a)))
              out.push(`${id} (${role.name}): ${action} is granted, no call makes it`);
        } else
          out.push(
            `${id} (${role.name}): ${JSON.stringify(s.Action)} on ${JSON.stringify(s.Resource)} — no call uses this statement`,
          );
      });
  for (const p of new Set(d.world.resourcePolicies.values()))
    p.doc.Statement.forEach((s, i) => {
      if (s.Effect === "Allow" && !used.has(`${templateStatement(p.id)}#${i}`))
        out.push(
          `${p.id}#${i}: ${JSON.stringify(s.Principal)} ${JSON.stringify(s.Action)} — no call uses this statement`,
        );
    });
  return [...new Set(out)];
}
