// Typed errors that cross module boundaries. The HTTP layer turns a KmsError into
// `{code, message}` with its status; the message is written to be safe to show a caller
// (never a key, value, secret, signature or stack).

export type KmsErrorCode =
  | "bad_request"
  | "not_encrypted"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "rate_limited"
  | "service_unavailable"
  | "insufficient_replicas"
  | "timeout"
  | "internal_error";

const STATUS_OF: Record<KmsErrorCode, number> = {
  bad_request: 400,
  not_encrypted: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  service_unavailable: 503,
  insufficient_replicas: 503,
  timeout: 504,
  internal_error: 500,
};

export class KmsError extends Error {
  readonly status: number;

  constructor(
    readonly code: KmsErrorCode,
    message: string,
    /** Extra detail for logs and metrics only (e.g. the auth failure reason); never sent to callers. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = "KmsError";
    this.status = STATUS_OF[code];
  }
}

export const badRequest = (message: string) => new KmsError("bad_request", message);
export const forbidden = (message: string, reason?: string) => new KmsError("forbidden", message, reason);
