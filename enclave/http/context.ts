// What the HTTP layer needs from the rest of the node, and the per-request values middleware hands
// to route handlers. node.ts builds `HttpDeps`; app.ts hands each route only the part it uses.
import type { NoncePools } from "../auth/nonce-pools.js";
import type { PopVerifier, VerifiedPop } from "../auth/pop-verifier.js";
import type { RegistryAuthorizer } from "../auth/registry-authorizer.js";
import type { RegisteredCaller } from "../auth/registry-rules.js";
import type { SyncHandler } from "../cluster/sync-handler.js";
import type { Config } from "../config.js";
import type { EnvelopeLabel } from "../crypto/envelope.js";
import type { Logger } from "../log.js";
import type { NodesView, StatusView } from "../protocol/views.js";
import type { ServingKeys } from "../serving-keys.js";
import type { KvLocalApi } from "../store/api.js";
import type { KeyApi, SecretApi } from "../keys/api.js";
import type { NodeMetrics } from "./metrics.js";
import type { ServerChannel } from "./server-channel.js";

export interface HttpDeps {
  config: Config;
  log: Logger;
  metrics: NodeMetrics;
  channel: ServerChannel;
  nonces: NoncePools;
  pop: PopVerifier;
  authorizer: RegistryAuthorizer;
  /** The one gate (enclave/serving-state.ts): keys while serving, the store once caught up, else 503. */
  serving: { requireKeys(): ServingKeys; requireStore(): KvLocalApi };
  /** Handles authenticated peer messages on /sync. */
  sync: SyncHandler;
  /** Waits until the write quorum holds a change-log position (enclave/cluster/write-quorum.ts). */
  replicated: (position: number) => Promise<void>;
  views: { status(): StatusView; nodes(): NodesView };
  /** Named keys and secrets (PROTOCOL.md §12). */
  keys: () => KeyApi;
  secrets: () => SecretApi;
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
  channel: ServerChannel;
  /** Why the request was refused, for metrics and the access log (never sent to the caller). */
  errorReason: string;
}

export type KmsEnv = { Variables: KmsVariables };

/** Variables every route may set: the refusal reason the access log and metrics report. */
export type RootEnv = { Variables: Pick<KmsVariables, "errorReason"> };
