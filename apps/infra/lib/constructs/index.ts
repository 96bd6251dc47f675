export * from "./alarms";
export * from "./digest-topic";
export * from "./quarantine-events";
export * from "./report-store";
export * from "./scan-function";
export * from "./scan-workflow";
