import path from "node:path";
import { type DeployedSettings, functionEnvironment } from "@orgmfa/aws/settings";
import type { WorkflowFunction } from "@orgmfa/aws/workflow";
import type { IamStatement, ScannerPolicyInput } from "@orgmfa/contract";
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { LAMBDA_LIMIT_MINUTES } from "../config";
import { REPO_ROOT } from "../paths";
import { markAddedLevel } from "./logical-ids";
import { nagView, wildcardReason } from "./nag";

export interface FunctionRoleProps {
  /** What the role may do: its statements of `packages/contract/src/policies.ts`, made for this deployment. */
  readonly statements: (input: ScannerPolicyInput) => IamStatement[];
  /** This deployment's values for the statements (partition, account, bucket, key, topic, organization…). */
  readonly policyInput: ScannerPolicyInput;
  /** The report bucket of `policyInput`: cdk-nag names it by its logical ID in the wildcard resources it prints. */
  readonly reportBucket: s3.IBucket;
  readonly description: string;
  /**
   * The role's name: a name another account's role trusts (the member audit roles trust ScanBatch's).
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * A Lambda function's role with exactly its statements of policies.ts (the emulator's roles get the
 * very same ones, so the emulated tests run under these policies). Each wildcard resource is
 * acknowledged to cdk-nag with its reason (one without a reason fails synth), and so is X-Ray's `*`.
 */
export class FunctionRole extends iam.Role {
  constructor(scope: Construct, id: string, props: FunctionRoleProps) {
    super(scope, id, {
      roleName: props.roleName,
      description: props.description,
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    });
    for (const statement of props.statements(props.policyInput))
      this.addToPolicy(iam.PolicyStatement.fromJson(statement));
    const printed = props.statements(nagView(props.policyInput, props.reportBucket));
    for (const resource of printed.flatMap((st) => [st.Resource].flat()))
      if (resource.includes("*"))
        Validations.of(this).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${resource}]`,
          reason: wildcardReason(resource),
        });
    Validations.of(this).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) have no resource-level permissions.",
    });
  }
}

export interface ScanFunctionProps {
  /** The handler: `apps/functions/src/<handler>.ts`, bundled by esbuild. */
  readonly handler: WorkflowFunction;
  /** The role it runs as (a {@link FunctionRole}); it is granted writing the function's log group. */
  readonly role: iam.IRole;
  /** Its environment, through the settings contract of `@orgmfa/aws/settings` the handlers read it with. */
  readonly settings: DeployedSettings;
  /** Encrypts its log group. CloudWatch Logs must be allowed to use it (`ReportStore`'s key is). */
  readonly encryptionKey: kms.IKey;
  /**
   * At most Lambda's 15 minutes.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * Lambda's CPU grows with memory (1,769 MB is one vCPU).
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Concurrency reserved for it (taken from the account's unreserved pool; it can then take no more).
   * @default - none: it shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One of orgmfa's Lambda functions (Node.js 24 on arm64, an ESM bundle with source maps, JSON logs,
 * active tracing) with a log group of its own (one year, encrypted, retained, no fixed name: a retained
 * log group with a fixed name would make the next deploy after a rollback fail with "already exists").
 * The function is its default child: its logical ID, and every ID CDK derives from its path, are made
 * from this construct's id (see ./logical-ids.ts); the log group is `<id>-logs`.
 */
export class ScanFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ScanFunctionProps) {
    super(scope, id);
    markAddedLevel(this);
    const timeout = props.timeout ?? Duration.minutes(LAMBDA_LIMIT_MINUTES);
    const memorySize = props.memorySize ?? 1024;
    if (timeout.toSeconds() < 1 || timeout.toSeconds() > LAMBDA_LIMIT_MINUTES * 60)
      throw new Error(
        `ScanFunction ${id}: timeout must be 1 second to 15 minutes (Lambda's limit), not ${timeout.toHumanString()}`,
      );
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240)
      throw new Error(`ScanFunction ${id}: memorySize must be 128 to 10,240 MB, not ${memorySize}`);
    this.logGroup = new logs.LogGroup(this, `${id}-logs`, {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // A function given its own role and log group writes there only with this grant (CDK adds
    // AWSLambdaBasicExecutionRole only to roles it creates itself).
    this.logGroup.grantWrite(props.role);
    this.function = new NodejsFunction(this, "Default", {
      entry: path.join(REPO_ROOT, "apps/functions/src", `${props.handler}.ts`),
      handler: "handler",
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: props.role,
      environment: functionEnvironment(props.settings),
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      bundling: {
        format: OutputFormat.ESM,
        target: "node22",
        minify: true,
        sourceMap: true,
        mainFields: ["module", "main"],
        externalModules: [],
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
  }
}
