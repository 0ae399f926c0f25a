// Typed store errors. Each carries a stable `code` and a message that is safe to show to the caller
// (never key material, never plaintext). The store knows nothing of HTTP: the API layer decides what
// each code means to its callers (enclave/http/store-errors.ts).

export type StoreErrorCode =
  | "invalid_key"
  | "invalid_input"
  | "value_too_large"
  | "quota_exceeded"
  | "data_key_unavailable"
  | "corrupt_record";

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Key is not a well-formed, non-empty UTF-8 string within the size limit. */
export class InvalidKeyError extends StoreError {
  constructor(message: string) {
    super("invalid_key", message);
  }
}

/** A value, TTL, app id or position the caller supplied is malformed. */
export class InvalidInputError extends StoreError {
  constructor(message: string) {
    super("invalid_input", message);
  }
}

/** A single value is larger than the per-value limit. */
export class ValueTooLargeError extends StoreError {
  constructor(size: number, limit: number) {
    super("value_too_large", `value is ${size} bytes; the limit is ${limit} bytes`);
  }
}

/** The app's byte or key quota cannot accommodate the write. Nothing was changed. */
export class QuotaExceededError extends StoreError {
  readonly quota: "bytes" | "keys";
  constructor(quota: "bytes" | "keys", message: string) {
    super("quota_exceeded", message);
    this.quota = quota;
  }
}

/** The app's data key could not be obtained (e.g. no master secret yet); retrying later may work. */
export class KeyUnavailableError extends StoreError {
  constructor() {
    super("data_key_unavailable", "the data key for this app is not available");
  }
}

/** A stored ciphertext failed authentication: corruption or a record moved between keys/apps. */
export class CorruptRecordError extends StoreError {
  constructor() {
    super("corrupt_record", "stored value failed authentication");
  }
}
