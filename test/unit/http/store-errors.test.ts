import { describe, expect, it } from "vitest";
import { KmsError } from "../../../enclave/errors.js";
import { storeCall, toKmsError } from "../../../enclave/http/store-errors.js";
import {
  CorruptRecordError,
  InvalidInputError,
  InvalidKeyError,
  KeyUnavailableError,
  QuotaExceededError,
  type StoreError,
  ValueTooLargeError,
} from "../../../enclave/store/errors.js";

describe("store errors as the HTTP layer answers them", () => {
  it.each<[StoreError, string, number]>([
    [new InvalidKeyError("key must be a non-empty string"), "bad_request", 400],
    [new InvalidInputError("ttl_ms must be an integer"), "bad_request", 400],
    [new ValueTooLargeError(2, 1), "payload_too_large", 413],
    [new QuotaExceededError("keys", "the app already holds 3 keys (quota)"), "payload_too_large", 413],
    [new KeyUnavailableError(), "service_unavailable", 503],
  ])("%s → %s (%i), keeping the store's message and code", (error, code, status) => {
    const mapped = toKmsError(error);
    expect(mapped).toBeInstanceOf(KmsError);
    expect(mapped).toMatchObject({ code, status, message: error.message, reason: error.code });
  });

  it("leaves a corrupt record and foreign errors to the generic 500 handler", () => {
    const corrupt = new CorruptRecordError();
    expect(toKmsError(corrupt)).toBe(corrupt);
    const other = new TypeError("boom");
    expect(toKmsError(other)).toBe(other);
  });

  it("storeCall passes results through and throws the mapped error", () => {
    expect(storeCall(() => 7)).toBe(7);
    expect(() =>
      storeCall(() => {
        throw new ValueTooLargeError(2, 1);
      }),
    ).toThrow(expect.objectContaining({ code: "payload_too_large", status: 413 }));
  });

  it("store errors carry no HTTP status of their own", () => {
    expect(new QuotaExceededError("bytes", "full")).not.toHaveProperty("status");
  });
});
