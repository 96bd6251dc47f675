export * from "./seed";
export * from "./server";
