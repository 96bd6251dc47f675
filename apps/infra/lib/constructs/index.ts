export { Alarms, type AlarmsProps, type QuarantineAlarmSources } from "./alarms";
export { DigestTopic, type DigestTopicProps } from "./digest-topic";
export { QuarantineEvents, type QuarantineEventsProps } from "./quarantine-events";
export { type ObjectLockDefault, ReportStore, type ReportStoreProps } from "./report-store";
export { FunctionRole, type FunctionRoleProps, ScanFunction, type ScanFunctionProps } from "./scan-function";
export { ScanWorkflow, type ScanWorkflowFunctions, type ScanWorkflowProps } from "./scan-workflow";
