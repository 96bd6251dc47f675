import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { buildApp, type DeploymentConfig, parseDeploymentConfig } from "../lib";
import { REPO_ROOT } from "../lib/paths";

/** The example deployment configuration, as a user copies it. */
export const EXAMPLE = JSON.parse(readFileSync(path.join(REPO_ROOT, "apps/infra/orgmfa.config.example.json"), "utf8"));

/** The example with `over` on top, validated as the CDK app validates a configuration file. */
export const config = (over: Record<string, unknown> = {}): DeploymentConfig =>
  parseDeploymentConfig({ ...EXAMPLE, ...over }, "test config");

/**
 * The configurations the infrastructure tests synthesize, each as its overrides of the example: the
 * logical-ID record (fixtures/logical-ids.json) holds every resource of each.
 */
export const CONFIGURATIONS = {
  /** The example as it is (`npx cdk synth`, the end-to-end test of the bundles). */
  example: {},
  /** The stack tests: a bucket-wide Object Lock default on top. */
  objectLock: { objectLock: { mode: "GOVERNANCE", days: 400 } },
  /** The quarantine tests: no operator, an enforcer operator. */
  quarantine: {
    quarantine: true,
    enforcerOperatorRoleName: "AWSReservedSSO_SecurityAdmin",
    operatorRoleName: undefined,
  },
  /** The permission proof's deployment with the quarantine (and Object Lock), reading root through root sessions. */
  quarantineObjectLock: {
    quarantine: true,
    objectLock: { mode: "GOVERNANCE", days: 400 },
    scan: { ...EXAMPLE.scan, assumeRoot: true },
  },
} as const satisfies Record<string, Record<string, unknown>>;
export type ConfigurationName = keyof typeof CONFIGURATIONS;

// Lambda bundling is skipped in tests (STYLE.md 11); `npx cdk synth` bundles for real.
export const NO_BUNDLING = { "aws:cdk:bundling-stacks": [] };

/** The app of `c`, synthesized into a new directory (throws when cdk-nag reports an unacknowledged violation). */
export function synth(c: DeploymentConfig) {
  const outdir = mkdtempSync(path.join(tmpdir(), "orgmfa-cdk-"));
  const built = buildApp(c, { outdir, context: NO_BUNDLING });
  const assembly = built.app.synth();
  return { ...built, outdir, assembly };
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a JS template.
export const PARTITION = "${AWS::Partition}";
/** The template's `!Sub "arn:${AWS::Partition}:iam::…"`. */
export const iamSub = (rest: string) => ({ "Fn::Sub": `arn:${PARTITION}:iam::${rest}` });

/** A template value as text: tokens as <Reports.Arn>, <AWS::Partition>, other references as <token>. */
export const text = (v: unknown): string => {
  if (typeof v === "string") return v;
  const o = v as Record<string, unknown>;
  if (o["Fn::Join"]) return (o["Fn::Join"] as [string, unknown[]])[1].map(text).join("");
  if (o.Ref) return String(o.Ref).startsWith("AWS::") ? `<${o.Ref}>` : "<token>";
  const att = o["Fn::GetAtt"] as [string, string] | undefined;
  if (att) return att[0].startsWith("Reports") ? `<Reports.${att[1]}>` : "<token>";
  return JSON.stringify(v);
};

/** A statement of a synthesized policy document. */
export type Statement = { Sid?: string; Action: unknown; Resource: unknown; Condition?: unknown };

/** The state machine's definition (Amazon States Language), with a placeholder for each token. */
// biome-ignore lint/suspicious/noExplicitAny: Amazon States Language, checked field by field by the tests.
export function definitionOf(central: Template): Record<string, any> {
  const sm = Object.values(central.findResources("AWS::StepFunctions::StateMachine"))[0];
  const parts = sm?.Properties.DefinitionString["Fn::Join"][1] as unknown[];
  // Tokens (ARNs, Refs) sit inside JSON strings; a placeholder keeps the document parseable.
  return JSON.parse(parts.map((p) => (typeof p === "string" ? p : "TOKEN")).join(""));
}

/** The three stacks' templates of `c`, synthesized, and the state machine's definition. */
export function synthTemplates(c: DeploymentConfig) {
  const s = synth(c);
  const central = Template.fromStack(s.central);
  return {
    central,
    members: Template.fromStack(s.members),
    management: Template.fromStack(s.management),
    outdir: s.outdir,
    definition: definitionOf(central),
  };
}

/** Each function's role (logical id), by the function's construct id. */
export const functionRolesOf = (central: Template) => {
  const out: Record<string, string> = {};
  for (const [id, f] of Object.entries(central.findResources("AWS::Lambda::Function")))
    if (/^(discover|scanbatch|publish)[A-F0-9]{8}$/.test(id))
      out[id.replace(/[A-F0-9]{8}$/, "")] = f.Properties.Role["Fn::GetAtt"][0];
  return out as { discover: string; scanbatch: string; publish: string };
};

/** The statements of a role's policies (by the role's logical id). */
export const statementsIn = (central: Template, role: string): Statement[] =>
  Object.values(central.findResources("AWS::IAM::Policy"))
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
