// Typed errors of the SDK. The split matters to callers and to the retry loop: a node that said
// "no" (4xx) is answered at once, a node that could not answer (5xx, network, timeout) is replaced
// by another one, and a response that fails the protocol's checks is a security event — surfaced
// loudly, never retried into silence.

/** One failed try of a request, kept so the final error can explain every node it went through. */
export interface FailedAttempt {
  node: string;
  error: Error;
}

export class KmsClientError extends Error {
  override name = "KmsClientError";
  /** Earlier failed tries of the same call on other nodes (set on the error finally thrown). */
  attempts: readonly FailedAttempt[] = [];
}

/** The node answered with a non-2xx status and a `{code, message}` body (PROTOCOL.md §9). */
export class KmsRequestError extends KmsClientError {
  override name = "KmsRequestError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Base URL of the node that answered. */
    readonly node: string,
  ) {
    super(message);
  }

  /**
   * 5xx means the node (not the request) is at fault, so another node may succeed — except
   * `insufficient_replicas`: the write was applied there and will converge, its outcome is only
   * unknown; sending it to another node would not change that (and a retried delete would report
   * "nothing to delete"). The caller decides (README "Consistency and durability").
   */
  get retryable(): boolean {
    return this.status >= 500 && this.code !== "insufficient_replicas";
  }
}

/**
 * A 404 the node proved (`x-kms-not-found-signature` over our request and the key): the key is
 * absent on that node. A 404 without that proof is a KmsResponseVerificationError, never this.
 */
export class KmsNotFoundError extends KmsRequestError {
  override name = "KmsNotFoundError";
}

/**
 * 409 `conflict` (PROTOCOL.md §12): the request is valid but the resource's state forbids it — a key
 * name already taken, a DISABLED / DESTROY_SCHEDULED / DESTROYED version asked to encrypt, sign or
 * decrypt, the primary version asked to be disabled. The node names the state in `message`.
 * Not retried: every node holds the same state.
 */
export class KmsConflictError extends KmsRequestError {
  override name = "KmsConflictError";
}

/** The node could not be reached, or did not answer within the timeout. */
export class KmsTransportError extends KmsClientError {
  override name = "KmsTransportError";

  constructor(
    readonly kind: "network" | "timeout",
    message: string,
    readonly node: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A response that does not prove it came from the node registered on chain in answer to this
 * request: missing or wrong response signature, envelope from another key, undecryptable or
 * malformed payload, a payload that answers another request, a 404 for a KV key without the node's
 * proof, or a body longer than the client reads.
 */
export class KmsResponseVerificationError extends KmsClientError {
  override name = "KmsResponseVerificationError";

  constructor(
    message: string,
    readonly node: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The registry could not be read, or lists no usable KMS node. */
export class KmsDiscoveryError extends KmsClientError {
  override name = "KmsDiscoveryError";
}

/** Whether the retry loop should move on to another node after `error`. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof KmsRequestError) return error.retryable;
  return error instanceof KmsTransportError;
}
