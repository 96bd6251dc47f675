export * from "./delivery";
export * from "./seed";
export * from "./server";
