export * from "./app";
export * from "./central-stack";
export * from "./config";
export * from "./constructs";
export * from "./management-stack";
export * from "./members-stack";
export * from "./paths";
