// The registry record views live in the protocol module (shared with the SDK); the node's chain,
// auth and cluster code import them from here.
export * from "../protocol/registry-records.js";
