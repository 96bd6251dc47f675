export * from "./client-pool";
export * from "./discovery";
export * from "./errors";
export * from "./iam-collector";
export * from "./run-scan";
export * from "./scan-accounts";
