// What the HTTP layer needs from the rest of the node, and the per-request values middleware
// hands to route handlers. node.ts builds `HttpDeps`; nothing here reaches for globals.
import type { PopVerifier, VerifiedPop } from "../auth/pop-verifier.js";
import type { NonceStore } from "../auth/nonce-store.js";
import type { RegistryAuthorizer } from "../auth/registry-authorizer.js";
import type { RegisteredCaller } from "../auth/registry-rules.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { EnvelopeLabel, Tee } from "../tee/tee.js";
import type { NodeMetrics } from "./metrics.js";
import type { ServingKeys } from "../serving-keys.js";
import type { KvLocalApi } from "../store/api.js";
import type { SyncHandler } from "../cluster/sync-handler.js";
import type { NodesView, StatusView } from "../protocol/views.js";

export interface HttpDeps {
  config: Config;
  log: Logger;
  metrics: NodeMetrics;
  tee: Tee;
  /** Lower-case wallet of this node. */
  ownWallet: string;
  nonces: NonceStore;
  pop: PopVerifier;
  authorizer: RegistryAuthorizer;
  /** Keys derived from the master secret, present only while the node may serve. */
  servingKeys(): ServingKeys | undefined;
  /** The KV store of the current secret (only called while serving). */
  store(): KvLocalApi;
  /** Handles authenticated peer messages on /sync. */
  sync: SyncHandler;
  /** Why the node is not serving (shown in 503s and /status). */
  unavailableReason(): string;
  /** GET /status (PROTOCOL.md §9). */
  status(): Promise<StatusView>;
  /** GET /nodes. */
  nodes(): Promise<NodesView>;
}

export interface KmsVariables {
  caller: RegisteredCaller;
  /** Absent when the dev shortcut `x-tee-wallet` identified the caller. */
  pop: VerifiedPop | undefined;
  keys: ServingKeys;
  /** Decrypted inner JSON of the request (undefined for body-less requests). */
  body: unknown;
  /** Envelope label the reply is sealed under (undefined: the TEE's own, see Tee.encryptTo). */
  label: EnvelopeLabel | undefined;
  errorReason: string;
}

export type KmsEnv = { Variables: KmsVariables };
