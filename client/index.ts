// Public surface of the Nova KMS SDK.
export { NovaKmsClient, DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_MS } from "./nova-kms-client.js";
export type { DeriveRequest, KvApi, NovaKmsClientOptions, SignCertRequest } from "./nova-kms-client.js";
export type { DeriveResult, KvEntry, KvPutResult, SignedCertificate } from "./responses.js";
export type { NodeStatus } from "../enclave/protocol/views.js";
export { NodeDiscovery, describeNode, DEFAULT_DISCOVERY_TTL_MS } from "./discovery.js";
export type { KmsNodeInfo, KmsRegistryView } from "./discovery.js";
export type { AppTee, FetchLike } from "./signed-request.js";
export {
  KmsClientError,
  KmsDiscoveryError,
  KmsRequestError,
  KmsResponseVerificationError,
  KmsTransportError,
  type FailedAttempt,
} from "./errors.js";
