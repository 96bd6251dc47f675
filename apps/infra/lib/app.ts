import { App, type AppProps, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { CentralStack } from "./central-stack";
import type { DeploymentConfig } from "./config";
import { ManagementAccountStack } from "./management-stack";
import { MembersStack } from "./members-stack";

/** The CDK app orgmfa's stacks live in (with the feature flags they rely on). */
export function newApp(props: AppProps = {}): App {
  return new App({
    ...props,
    context: {
      // Server access logs are delivered through a bucket policy, so the log bucket can enforce ownership.
      "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
      ...props.context,
    },
  });
}

/** The stacks of a deployment in `app`, checked by cdk-nag's AwsSolutions pack. */
export function addStacks(
  app: App,
  config: DeploymentConfig,
): { central: CentralStack; members: MembersStack; management: ManagementAccountStack } {
  const central = new CentralStack(app, "OrgMfaCentral", {
    config,
    env: { account: config.scannerAccountId, region: config.region },
    description: "orgmfa: organization-wide MFA scanner (delegated administrator account)",
  });
  const members = new MembersStack(app, "OrgMfaMembers", {
    config,
    env: { account: config.scannerAccountId, region: config.region },
    description: "orgmfa: the member audit role StackSet (delegated administrator account)",
  });
  const management = new ManagementAccountStack(app, "OrgMfaManagement", {
    config,
    env: { account: config.managementAccountId, region: config.region },
    description: "orgmfa: audit role of the management account (with Organizations read for discovery)",
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { central, members, management };
}

/** A new app holding both stacks (tests). */
export function buildApp(config: DeploymentConfig, props: AppProps = {}) {
  const app = newApp(props);
  return { app, ...addStacks(app, config) };
}
