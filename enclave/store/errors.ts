// Typed store errors. Each carries a stable `code` and the HTTP status the API layer should answer
// with, and a message that is safe to show to the caller (never key material, never plaintext).

export class StoreError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** Key is not a well-formed, non-empty UTF-8 string within the size limit (→ 400). */
export class InvalidKeyError extends StoreError {
  constructor(message: string) {
    super("invalid_key", 400, message);
  }
}

/** A value, TTL or app id the caller supplied is malformed (→ 400). */
export class InvalidInputError extends StoreError {
  constructor(message: string) {
    super("invalid_input", 400, message);
  }
}

/** A single value is larger than the per-value limit (→ 413). */
export class ValueTooLargeError extends StoreError {
  constructor(size: number, limit: number) {
    super("value_too_large", 413, `value is ${size} bytes; the limit is ${limit} bytes`);
  }
}

/** The app's byte or key quota cannot accommodate the write (→ 413). Nothing was changed. */
export class QuotaExceededError extends StoreError {
  readonly quota: "bytes" | "keys";
  constructor(quota: "bytes" | "keys", message: string) {
    super("quota_exceeded", 413, message);
    this.quota = quota;
  }
}

/** The app's data key could not be obtained (e.g. no master secret yet) (→ 503). */
export class KeyUnavailableError extends StoreError {
  constructor() {
    super("data_key_unavailable", 503, "the data key for this app is not available");
  }
}

/** A stored ciphertext failed authentication: corruption or a record moved between keys/apps. */
export class CorruptRecordError extends StoreError {
  constructor() {
    super("corrupt_record", 500, "stored value failed authentication");
  }
}
