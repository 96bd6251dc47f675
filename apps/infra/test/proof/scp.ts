import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { ScpDocument, ScpStatement } from "@orgmfa/contract";

// The MFA guardrail SCP, evaluated by a real policy engine (@cloud-copilot/iam-simulate) the way AWS
// evaluates a request in a member account: the caller's identity policies, and the SCPs of every level
// from the root down to the account — each level with FullAWSAccess (AWS's default, attached
// everywhere; without an Allow at every level the engine denies everything implicitly), the guardrail
// attached to the account's OU.

export type Outcome = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

export const ACCOUNT = "111122223333";
export const ROOT_ID = "r-exam";
export const OU_ID = "ou-exam-11111111";
const FULL_AWS_ACCESS = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
/** An administrator's identity policy: everything. Whatever is denied, the SCP denied. */
export const ADMINISTRATOR = FULL_AWS_ACCESS;

/** One request: who (principal and the context AWS derives from them), what, on what. */
export interface ScpRequest {
  principal: string;
  action: string;
  resource: string;
  context: Record<string, string>;
}

/**
 * How a policy variable with no value in the request is read. AWS: "If a variable that has no value
 * in the authorization context is used as part of the Resource or NotResource element of a policy, the
 * resource that includes a policy variable with no value will not match any resource" (IAM User Guide,
 * "Policy variables with no value") — so a Deny with `NotResource: user/${aws:username}` would apply to
 * every resource of a caller without `aws:username` (a role). iam-simulate (0.1.173) instead leaves
 * such an entry undecided and the statement unapplied ("engine"). Every case must hold under both
 * readings; "aws" substitutes a value that matches no resource, as AWS's sentence says.
 */
export type VariableReading = "engine" | "aws";
export const READINGS: readonly VariableReading[] = ["engine", "aws"];

const NO_VALUE = "<no-value>";
function resolvedAsAws(doc: ScpDocument, context: Record<string, string>): ScpDocument {
  const fill = (pattern: string) =>
    pattern.replace(/\$\{([^}]+)\}/g, (whole, key: string) => (key.trim() in context ? whole : NO_VALUE));
  return {
    ...doc,
    Statement: doc.Statement.map((s) => ({
      ...s,
      ...(s.NotResource ? { NotResource: s.NotResource.map(fill) } : {}),
      ...(typeof s.Resource === "string" ? { Resource: fill(s.Resource) } : {}),
    })),
  };
}

/** The request under `scp` (attached to the account's OU) and an administrator's identity policy. */
export async function underScp(scp: ScpDocument, req: ScpRequest, reading: VariableReading): Promise<Outcome> {
  const policy = reading === "aws" ? resolvedAsAws(scp, req.context) : scp;
  const r = await runSimulation(
    {
      request: {
        principal: req.principal,
        action: req.action,
        resource: { resource: req.resource, accountId: ACCOUNT },
        contextVariables: req.context,
      },
      identityPolicies: [{ name: "AdministratorAccess", policy: ADMINISTRATOR }],
      serviceControlPolicies: [
        { orgIdentifier: ROOT_ID, policies: [{ name: "FullAWSAccess", policy: FULL_AWS_ACCESS }] },
        {
          orgIdentifier: OU_ID,
          policies: [
            { name: "FullAWSAccess", policy: FULL_AWS_ACCESS },
            { name: "OrgMfaRequireMfaForIamUsers", policy },
          ],
        },
        { orgIdentifier: ACCOUNT, policies: [{ name: "FullAWSAccess", policy: FULL_AWS_ACCESS }] },
      ],
      resourceControlPolicies: [],
    },
    {},
  );
  if (r.resultType === "error") throw new Error(`${req.action} on ${req.resource}: ${JSON.stringify(r.errors)}`);
  const ignored = r.resultType === "single" ? (r.result.ignoredContextKeys ?? []) : [];
  // A context key the engine drops would make a condition on it undecidable: never silently.
  if (ignored.length) throw new Error(`${req.action}: the engine dropped context keys ${ignored.join(", ")}`);
  return r.overallResult as Outcome;
}

/** A changed copy of the guardrail, named for the report. */
export interface Mutation {
  name: string;
  doc: ScpDocument;
}

const clone = (doc: ScpDocument): ScpDocument => structuredClone(doc);
type Condition = ScpStatement["Condition"];
const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

/** Actions a person without MFA must never get, whatever the list of exceptions becomes. */
const NEVER_EXEMPT = [
  "iam:DeactivateMFADevice",
  "iam:DeleteVirtualMFADevice",
  "iam:CreateAccessKey",
  "iam:CreateLoginProfile",
  "iam:UpdateLoginProfile",
  "iam:ListUsers",
  "iam:CreateUser",
  "sts:AssumeRole",
  "s3:GetObject",
  "iam:*",
];

/**
 * Every statement dropped, every condition key dropped or changed, every list entry dropped, the
 * exceptions widened: each must change the outcome of some case of the table, or it is decoration.
 */
export function mutationsOf(doc: ScpDocument): Mutation[] {
  const out: Mutation[] = [];
  const edit = (name: string, i: number, change: (s: ScpStatement) => void) => {
    const d = clone(doc);
    change(d.Statement[i] as ScpStatement);
    out.push({ name: `${doc.Statement[i]?.Sid}: ${name}`, doc: d });
  };
  doc.Statement.forEach((s, i) => {
    out.push({
      name: `${s.Sid}: dropped`,
      doc: { ...clone(doc), Statement: clone(doc).Statement.filter((_x, j) => j !== i) },
    });
    edit("Effect Allow", i, (m) => {
      (m as { Effect: string }).Effect = "Allow";
    });
    for (const [op, keys] of Object.entries(s.Condition))
      for (const [key, value] of Object.entries(keys)) {
        const at = (m: ScpStatement) => m.Condition[op] as Condition[string];
        edit(`Condition ${op} ${key} dropped`, i, (m) => {
          delete at(m)[key];
          if (Object.keys(at(m)).length === 0) delete m.Condition[op];
        });
        if (Array.isArray(value))
          for (const [k, v] of value.entries())
            edit(`Condition ${op} ${key} without ${v}`, i, (m) => {
              at(m)[key] = list(at(m)[key] as string[]).filter((_x, j) => j !== k);
            });
        if (op === "Bool")
          edit(`Condition Bool ${key} = "${value === "false" ? "true" : "false"}"`, i, (m) => {
            at(m)[key] = value === "false" ? "true" : "false";
          });
        if (op === "Bool" && key === "aws:MultiFactorAuthPresent")
          edit(`Condition ${key} under BoolIfExists (also denies requests without the key)`, i, (m) => {
            delete at(m)[key];
            m.Condition.BoolIfExists = { [key]: value };
          });
        if (op === "ArnLike")
          edit(`Condition ArnLike ${key} widened to every IAM principal`, i, (m) => {
            at(m)[key] = "arn:*:iam::*:*";
          });
      }
    for (const field of ["Action", "NotAction", "NotResource"] as const) {
      const values = s[field];
      if (!values) continue;
      for (const [k, v] of values.entries())
        edit(`${field} without ${v}`, i, (m) => {
          m[field] = (m[field] as string[]).filter((_x, j) => j !== k);
        });
    }
    if (s.NotAction)
      for (const action of NEVER_EXEMPT)
        edit(`NotAction with ${action}`, i, (m) => {
          m.NotAction = [...(m.NotAction as string[]), action];
        });
    if (s.Action) {
      // Acting on anything but a user: listed here, they would be denied everywhere.
      const enrolment = doc.Statement.flatMap((x) => x.NotAction ?? []).filter((a) => !s.Action?.includes(a));
      for (const action of enrolment)
        edit(`Action with ${action}`, i, (m) => {
          m.Action = [...(m.Action as string[]), action];
        });
    }
    if (s.NotResource)
      for (const [k, v] of s.NotResource.entries())
        edit(`NotResource ${v} widened to every user`, i, (m) => {
          (m.NotResource as string[])[k] = "arn:*:iam::*:user/*";
        });
    if (s.Resource === "*")
      edit("Resource narrowed to S3", i, (m) => {
        m.Resource = "arn:*:s3:::*";
      });
  });
  return out;
}
