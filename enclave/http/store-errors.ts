// What a store failure means to an HTTP caller. The store only says what went wrong
// (`StoreError.code`); which protocol error that is (PROTOCOL.md error codes) is decided here,
// next to the routes that call the store.
import { KmsError, type KmsErrorCode } from "../errors.js";
import { StoreError, type StoreErrorCode } from "../store/errors.js";

/**
 * `undefined`: neither the caller's fault nor worth a retry (a stored value failed authentication);
 * the error stays as it is so the error handler logs it and answers a bare 500.
 */
const KMS_CODE_OF: Record<StoreErrorCode, KmsErrorCode | undefined> = {
  invalid_key: "bad_request",
  invalid_input: "bad_request",
  value_too_large: "payload_too_large",
  quota_exceeded: "payload_too_large",
  data_key_unavailable: "service_unavailable",
  corrupt_record: undefined,
};

/** The KmsError a caller should see for `e`, keeping the store's safe message; anything else unchanged. */
export function toKmsError(e: unknown): unknown {
  if (!(e instanceof StoreError)) return e;
  const code = KMS_CODE_OF[e.code];
  return code ? new KmsError(code, e.message, e.code) : e;
}

/** Runs a store call, turning its errors into what the HTTP layer answers. */
export function storeCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toKmsError(e);
  }
}
