import type { Doc, Json, Resolved } from "./cloudformation";

// ── The deployment: every principal's policies and every resource's, by ARN ─────────────────────────
export interface PolicyRef {
  /** Where the statement lives, as a failure names it. */
  id: string;
  doc: Doc;
}
export interface RoleFacts {
  arn: string;
  name: string;
  account: string;
  identity: PolicyRef[];
  trust: PolicyRef;
}
export interface World {
  roles: Map<string, RoleFacts>;
  /** Resource policies by the ARN they govern (a bucket's also governs its objects). */
  resourcePolicies: Map<string, PolicyRef>;
  stacks: Resolved[];
}

/** The member template's policies are one template in every account: a statement is the same one in each. */
export const templateStatement = (id: string) => id.replace(/^StackSet-\d{12}-[a-z0-9-]+\//, "StackSet/");

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function buildWorld(stacks: Resolved[]): World {
  const roles = new Map<string, RoleFacts>();
  const resourcePolicies = new Map<string, PolicyRef>();
  const addResourcePolicy = (arn: string, id: string, statements: Array<Record<string, Json>>) => {
    const existing = resourcePolicies.get(arn);
    if (existing) existing.doc.Statement.push(...statements);
    else resourcePolicies.set(arn, { id, doc: { Version: "2012-10-17", Statement: [...statements] } });
  };
  for (const s of stacks) {
    const all = Object.entries(s.resources);
    const byRef = (type: string, value: string) => all.find(([, r]) => r.Type === type && r.ref === value);
    for (const [id, r] of all) {
      const P = r.Properties;
      if (r.Type === "AWS::IAM::Role") {
        const identity: PolicyRef[] = [];
        for (const inline of asArray(P.Policies as Array<{ PolicyName: string; PolicyDocument: Doc }>))
          identity.push({ id: `${s.stack}/${id} inline ${inline.PolicyName}`, doc: inline.PolicyDocument });
        for (const [pid, pr] of all)
          if (
            (pr.Type === "AWS::IAM::Policy" || pr.Type === "AWS::IAM::ManagedPolicy") &&
            asArray(pr.Properties.Roles as string[]).includes(r.ref)
          )
            identity.push({ id: `${s.stack}/${pid}`, doc: pr.Properties.PolicyDocument as Doc });
        for (const managed of asArray(P.ManagedPolicyArns as string[])) {
          const found = all.find(([, pr]) => pr.Type === "AWS::IAM::ManagedPolicy" && pr.ref === managed);
          if (!found) throw new Error(`${s.stack}/${id}: managed policy ${managed} is not in the templates`);
          identity.push({ id: `${s.stack}/${found[0]}`, doc: found[1].Properties.PolicyDocument as Doc });
        }
        roles.set(r.attrs.Arn as string, {
          arn: r.attrs.Arn as string,
          name: r.ref,
          account: s.account,
          identity,
          trust: { id: `${s.stack}/${id} trust policy`, doc: P.AssumeRolePolicyDocument as Doc },
        });
      } else if (r.Type === "AWS::KMS::Key") {
        resourcePolicies.set(r.attrs.Arn as string, { id: `${s.stack}/${id} key policy`, doc: P.KeyPolicy as Doc });
      } else if (r.Type === "AWS::S3::BucketPolicy") {
        const bucket = byRef("AWS::S3::Bucket", String(P.Bucket));
        if (bucket)
          addResourcePolicy(bucket[1].attrs.Arn as string, `${s.stack}/${id}`, (P.PolicyDocument as Doc).Statement);
      } else if (r.Type === "AWS::SNS::TopicPolicy") {
        for (const topic of asArray(P.Topics as string[]))
          addResourcePolicy(topic, `${s.stack}/${id}`, (P.PolicyDocument as Doc).Statement);
      } else if (r.Type === "AWS::SQS::QueuePolicy") {
        for (const url of asArray(P.Queues as string[])) {
          const queue = byRef("AWS::SQS::Queue", url);
          if (queue)
            addResourcePolicy(queue[1].attrs.Arn as string, `${s.stack}/${id}`, (P.PolicyDocument as Doc).Statement);
        }
      } else if (r.Type === "AWS::Events::EventBusPolicy") {
        const bus = byRef("AWS::Events::EventBus", String(P.EventBusName));
        if (bus && P.Statement)
          addResourcePolicy(bus[1].attrs.Arn as string, `${s.stack}/${id}`, [P.Statement as Record<string, Json>]);
      } else if (r.Type === "AWS::Lambda::Permission") {
        const fn = String(P.FunctionName);
        const principal = String(P.Principal);
        const condition: Record<string, Record<string, string>> = {};
        if (P.SourceArn) condition.ArnLike = { "aws:SourceArn": String(P.SourceArn) };
        if (P.SourceAccount) condition.StringEquals = { "aws:SourceAccount": String(P.SourceAccount) };
        addResourcePolicy(fn, `${s.stack}/${id}`, [
          {
            Sid: id,
            Effect: "Allow",
            Principal: principal.endsWith(".amazonaws.com") ? { Service: principal } : { AWS: principal },
            Action: P.Action as string,
            Resource: fn,
            ...(Object.keys(condition).length ? { Condition: condition } : {}),
          },
        ]);
      }
    }
  }
  // A role's trust policy is the resource policy of sts:AssumeRole on it.
  for (const role of roles.values()) resourcePolicies.set(role.arn, role.trust);
  return { roles, resourcePolicies, stacks };
}
