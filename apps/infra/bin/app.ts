import { addStacks, newApp } from "../lib/app";
import { loadDeploymentConfig } from "../lib/config";
import { REPO_ROOT } from "../lib/paths";

// The config file is named by the context: cdk.json's "orgmfa:configFile", or -c orgmfa:configFile=path.
const DEFAULT_CONFIG = "apps/infra/orgmfa.config.example.json";
const app = newApp();
try {
  const file = (app.node.tryGetContext("orgmfa:configFile") as string | undefined) ?? DEFAULT_CONFIG;
  addStacks(app, loadDeploymentConfig(file, REPO_ROOT));
  app.synth();
} catch (e) {
  process.stderr.write(`orgmfa: ${(e as Error).message}\n`);
  process.exit(1);
}
