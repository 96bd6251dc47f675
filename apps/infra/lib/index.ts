export { addStacks, buildApp, newApp } from "./app";
export { CentralStack, type CentralStackProps } from "./central-stack";
export {
  ACCOUNT_LIMIT_MINUTES,
  type DeploymentConfig,
  DISCOVER_LIMIT_MINUTES,
  deploymentSchema,
  LAMBDA_LIMIT_MINUTES,
  loadDeploymentConfig,
  parseDeploymentConfig,
  STACKSET_MAX_TARGET_OUS,
} from "./config";
export {
  Alarms,
  type AlarmsProps,
  DigestTopic,
  type DigestTopicProps,
  FunctionRole,
  type FunctionRoleProps,
  type ObjectLockDefault,
  type QuarantineAlarmSources,
  QuarantineEvents,
  type QuarantineEventsProps,
  ReportStore,
  type ReportStoreProps,
  ScanFunction,
  type ScanFunctionProps,
  ScanWorkflow,
  type ScanWorkflowFunctions,
  type ScanWorkflowProps,
} from "./constructs";
export { ManagementAccountStack, type ManagementAccountStackProps } from "./management-stack";
export { MembersStack, type MembersStackProps } from "./members-stack";
export {
  IAM_EVENT_BUS_NAME,
  IAM_EVENTS_REGION,
  iamEventBusArn,
  includeMemberTemplate,
  MEMBER_TEMPLATE,
  memberParameters,
  REPO_ROOT,
  TOOL_VERSION,
} from "./paths";
