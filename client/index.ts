// Public surface of the Nova KMS SDK.
export { NovaKmsClient, DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_MS } from "./nova-kms-client.js";
export type { DeriveRequest, KvApi, NovaKmsClientOptions, SignCertRequest } from "./nova-kms-client.js";
export type { DeriveResult, KvEntry, KvPutResult, SignedCertificate } from "./responses.js";
export { KeysApi, DEFAULT_DATA_KEY_BYTES } from "./keys-api.js";
export type { CreateKeyRequest, DataKeyOptions, KeyChanges, SignInput } from "./keys-api.js";
export { KEY_PURPOSES, VERSION_STATES } from "./key-responses.js";
export type {
  DataKeyResult,
  DecryptResult,
  EncryptResult,
  Key,
  KeyPage,
  KeyPurpose,
  KeyVersion,
  MacResult,
  PublicKeyResult,
  ReencryptResult,
  SignResult,
  VersionAction,
  VersionPage,
  VersionState,
} from "./key-responses.js";
export { SecretsApi } from "./secrets-api.js";
export type { Secret, SecretPage, SecretSummary, SecretVersionRef } from "./secret-responses.js";
export type { BinaryInput, PageRequest } from "./request-inputs.js";
export type { NodeStatus } from "../enclave/protocol/views.js";
export { NodeDiscovery, describeNode, DEFAULT_DISCOVERY_TTL_MS } from "./discovery.js";
export type { KmsNodeInfo, KmsRegistryView } from "./discovery.js";
export type { AppTee, FetchLike } from "./signed-request.js";
export {
  KmsClientError,
  KmsConflictError,
  KmsDiscoveryError,
  KmsNotFoundError,
  KmsRequestError,
  KmsResponseVerificationError,
  KmsTransportError,
  type FailedAttempt,
} from "./errors.js";
