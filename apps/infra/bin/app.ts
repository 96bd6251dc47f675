import { App } from "aws-cdk-lib";
import { buildApp } from "../lib/app";
import { loadDeploymentConfig } from "../lib/config";
import { REPO_ROOT } from "../lib/paths";

// The config file is named by the context (cdk.json, or -c orgmfa:configFile=path).
const probe = new App();
const file =
  (probe.node.tryGetContext("orgmfa:configFile") as string | undefined) ?? "apps/infra/orgmfa.config.example.json";
try {
  buildApp(loadDeploymentConfig(file, REPO_ROOT)).app.synth();
} catch (e) {
  process.stderr.write(`orgmfa: ${(e as Error).message}\n`);
  process.exit(1);
}
