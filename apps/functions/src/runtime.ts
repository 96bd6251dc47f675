import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { ClientPool, tuneHeapForScan } from "@orgmfa/aws";
import { type FunctionSettings, POWERTOOLS, readFunctionSettings } from "@orgmfa/aws/settings";

/**
 * What every handler reads from its environment: the settings contract the CDK app builds each
 * function's environment with (packages/aws/src/pipeline/settings.ts). Validated once, so a
 * misconfigured function fails on its first line with the variable named.
 */
export type Settings = FunctionSettings;

export function settings(env: NodeJS.ProcessEnv = process.env): Settings {
  return readFunctionSettings(env);
}

export const logger = new Logger({ serviceName: POWERTOOLS.serviceName });
export const metrics = new Metrics({ namespace: POWERTOOLS.metricsNamespace, serviceName: POWERTOOLS.serviceName });

// Many accounts' short-lived allocations, little kept: collect before the heap grows far past it.
tuneHeapForScan();

/** The client pool for one invocation, as the function's own role (`roleName`: the role assumed in each account). */
export function poolFor(s: Settings, roleName = s.AUDIT_ROLE_NAME): ClientPool {
  return new ClientPool({
    region: s.AWS_REGION,
    roleName,
    externalId: s.EXTERNAL_ID,
    orgRoleArn: s.ORG_ROLE_ARN,
  });
}
