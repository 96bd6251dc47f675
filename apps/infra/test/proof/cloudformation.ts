// CloudFormation, resolved as it deploys: each template's parameters, conditions, intrinsic functions and
// references, with made-up deterministic physical names (the permission proof reads the deployment from it).

export type Json = unknown;
export type Doc = { Version?: string; Statement: Array<Record<string, Json>> };
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources, read field by field.
export type Resources = Record<string, { Type: string; Properties?: any; Condition?: string }>;
export interface Template_ {
  Parameters?: Record<string, { Default?: string }>;
  Conditions?: Record<string, Json>;
  Resources: Resources;
}

// ── CloudFormation, resolved as it deploys (physical names made up, deterministic) ─────────────────────
export const NO_VALUE = Symbol("AWS::NoValue");

export interface Resolved {
  stack: string;
  account: string;
  region: string;
  /** Resources whose condition holds, with resolved properties, Ref and attributes. */
  resources: Record<
    string,
    { Type: string; Properties: Record<string, Json>; ref: string; attrs: Record<string, string> }
  >;
}

export function resolveStack(
  stack: string,
  template: Template_,
  account: string,
  region: string,
  params: Record<string, string> = {},
): Resolved {
  const partition = "aws";
  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(template.Parameters ?? {}))
    if (v.Default !== undefined) parameters[k] = v.Default;
  Object.assign(parameters, params);
  const pseudo: Record<string, string> = {
    "AWS::Partition": partition,
    "AWS::Region": region,
    "AWS::AccountId": account,
    "AWS::StackName": stack,
    "AWS::URLSuffix": "amazonaws.com",
  };
  const conditions: Record<string, boolean> = {};
  const condition = (name: string): boolean => {
    if (!(name in conditions)) conditions[name] = Boolean(resolve(template.Conditions?.[name]));
    return conditions[name] as boolean;
  };
  const physical: Record<string, { ref: string; attrs: Record<string, string> }> = {};
  const phys = (id: string) => {
    const cached = physical[id];
    if (cached) return cached;
    const r = template.Resources[id];
    if (!r) throw new Error(`${stack}: no resource ${id}`);
    const props = r.Properties ?? {};
    const named = (prop: string, fallback = `${stack}-${id}`) =>
      props[prop] !== undefined ? String(resolve(props[prop])) : fallback;
    const arn = (svc: string, rest: string, acct = account, reg = region) =>
      `arn:${partition}:${svc}:${reg}:${acct}:${rest}`;
    let out: { ref: string; attrs: Record<string, string> };
    switch (r.Type) {
      case "AWS::IAM::Role": {
        const name = named("RoleName");
        out = { ref: name, attrs: { Arn: `arn:${partition}:iam::${account}:role/${name}`, RoleId: `AROA${id}` } };
        break;
      }
      case "AWS::IAM::ManagedPolicy": {
        const a = `arn:${partition}:iam::${account}:policy/${named("ManagedPolicyName")}`;
        out = { ref: a, attrs: { PolicyArn: a } };
        break;
      }
      case "AWS::IAM::Group": {
        const name = named("GroupName");
        out = { ref: name, attrs: { Arn: `arn:${partition}:iam::${account}:group/${name}` } };
        break;
      }
      case "AWS::S3::Bucket": {
        const name = named("BucketName", `${stack}-${id}`.toLowerCase());
        out = { ref: name, attrs: { Arn: `arn:${partition}:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com` } };
        break;
      }
      case "AWS::SNS::Topic": {
        const name = named("TopicName");
        const a = arn("sns", name);
        out = { ref: a, attrs: { TopicArn: a, TopicName: name } };
        break;
      }
      case "AWS::SQS::Queue": {
        const name = named("QueueName");
        const url = `https://sqs.${region}.amazonaws.com/${account}/${name}`;
        out = { ref: url, attrs: { Arn: arn("sqs", name), QueueName: name, QueueUrl: url } };
        break;
      }
      case "AWS::KMS::Key": {
        const keyId = `00000000-0000-4000-8000-${id.slice(0, 12).toLowerCase().padEnd(12, "0")}`;
        out = { ref: keyId, attrs: { Arn: arn("kms", `key/${keyId}`), KeyId: keyId } };
        break;
      }
      case "AWS::Lambda::Function": {
        const name = named("FunctionName");
        out = { ref: name, attrs: { Arn: arn("lambda", `function:${name}`) } };
        break;
      }
      case "AWS::Logs::LogGroup": {
        const name = named("LogGroupName");
        out = { ref: name, attrs: { Arn: arn("logs", `log-group:${name}:*`) } };
        break;
      }
      case "AWS::StepFunctions::StateMachine": {
        const name = named("StateMachineName");
        const a = arn("states", `stateMachine:${name}`);
        out = { ref: a, attrs: { Arn: a, Name: name } };
        break;
      }
      case "AWS::Events::EventBus": {
        const name = named("Name");
        out = { ref: name, attrs: { Arn: arn("events", `event-bus/${name}`), Name: name } };
        break;
      }
      case "AWS::Events::Rule": {
        const name = named("Name");
        const bus = props.EventBusName !== undefined ? String(resolve(props.EventBusName)) : "default";
        const a = arn("events", `rule/${bus === "default" ? "" : `${bus.split("/").pop()}/`}${name}`);
        out = { ref: name, attrs: { Arn: a } };
        break;
      }
      case "AWS::Scheduler::Schedule": {
        const name = named("Name");
        out = { ref: name, attrs: { Arn: arn("scheduler", `schedule/${named("GroupName", "default")}/${name}`) } };
        break;
      }
      case "AWS::CloudWatch::Alarm": {
        const name = named("AlarmName");
        out = { ref: name, attrs: { Arn: arn("cloudwatch", `alarm:${name}`) } };
        break;
      }
      default:
        out = { ref: `${stack}-${id}`, attrs: {} };
    }
    physical[id] = out;
    return out;
  };
  const sub = (text: string, vars: Record<string, Json> = {}) =>
    text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
      if (name.startsWith("!")) return `\${${name.slice(1)}}`;
      if (name in vars) return String(resolve(vars[name]));
      if (name.includes(".")) {
        const [id, attr] = name.split(".") as [string, string];
        return getAtt(id, attr);
      }
      return String(ref(name));
    });
  const ref = (name: string): string => {
    if (name in pseudo) return pseudo[name] as string;
    if (name in parameters) return parameters[name] as string;
    if (template.Resources[name]) return phys(name).ref;
    throw new Error(`${stack}: unresolved Ref ${name}`);
  };
  const getAtt = (id: string, attr: string): string => {
    const v = phys(id).attrs[attr];
    if (v === undefined) throw new Error(`${stack}: unresolved GetAtt ${id}.${attr}`);
    return v;
  };
  function resolve(v: Json): Json {
    if (Array.isArray(v)) return v.map(resolve).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== "object") return v;
    const o = v as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const a = o[k];
      switch (k) {
        case "Ref":
          return a === "AWS::NoValue" ? NO_VALUE : ref(String(a));
        case "Fn::GetAtt": {
          const [id, attr] = typeof a === "string" ? (a.split(".") as [string, string]) : (a as [string, string]);
          return getAtt(id, attr);
        }
        case "Fn::Join": {
          const [sep, parts] = a as [string, Json[]];
          return (resolve(parts) as Json[]).join(sep);
        }
        case "Fn::Sub":
          return Array.isArray(a) ? sub(String(a[0]), a[1] as Record<string, Json>) : sub(String(a));
        case "Fn::Select": {
          const [i, list] = a as [Json, Json];
          return (resolve(list) as Json[])[Number(resolve(i))];
        }
        case "Fn::Split": {
          const [sep, s] = a as [string, Json];
          return String(resolve(s)).split(sep);
        }
        case "Fn::If": {
          const [c, yes, no] = a as [string, Json, Json];
          return resolve(condition(c) ? yes : no);
        }
        case "Fn::Equals": {
          const [x, y] = a as [Json, Json];
          return String(resolve(x)) === String(resolve(y));
        }
        case "Fn::And":
          return (a as Json[]).every((x) => resolve(x) === true);
        case "Fn::Or":
          return (a as Json[]).some((x) => resolve(x) === true);
        case "Fn::Not":
          return !(resolve((a as Json[])[0]) as boolean);
        case "Condition":
          return condition(String(a));
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(o)) {
      const r = resolve(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }
  const resources: Resolved["resources"] = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Condition && !condition(r.Condition)) continue;
    resources[id] = { Type: r.Type, Properties: resolve(r.Properties ?? {}) as Record<string, Json>, ...phys(id) };
  }
  return { stack, account, region, resources };
}
