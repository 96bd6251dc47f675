import { App, type AppProps, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { CentralStack } from "./central-stack";
import type { DeploymentConfig } from "./config";
import { ManagementAccountStack } from "./management-stack";

/** Both stacks of a deployment, checked by cdk-nag's AwsSolutions pack. */
export function buildApp(
  config: DeploymentConfig,
  props: AppProps = {},
): {
  app: App;
  central: CentralStack;
  management: ManagementAccountStack;
} {
  const app = new App({
    ...props,
    context: {
      // Server access logs are delivered through a bucket policy, so the log bucket can enforce ownership.
      "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
      ...props.context,
    },
  });
  const central = new CentralStack(app, "OrgMfaCentral", {
    config,
    env: { account: config.scannerAccountId, region: config.region },
    description: "orgmfa: organization-wide MFA scanner (delegated administrator account)",
  });
  const management = new ManagementAccountStack(app, "OrgMfaManagement", {
    config,
    env: { account: config.managementAccountId, region: config.region },
    description: "orgmfa: audit role of the management account (with Organizations read for discovery)",
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, central, management };
}
