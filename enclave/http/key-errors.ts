// What a named-key or secret failure means to an HTTP caller (PROTOCOL.md §12): a missing key,
// version or secret (also another app's) is 404, a state conflict 409 with the state in the
// message, input that does not fit the key or the protocol 400. The engine's messages name keys and
// states only, never material, so they are safe to show. Store failures map as for KV.
import { KmsError } from "../errors.js";
import { KeyInputError } from "../keys/api.js";
import { CiphertextFormatError } from "../protocol/named-key-ciphertext.js";
import { KeyStateError } from "../keys/key-lifecycle.js";
import { KeyUsageError } from "../keys/named-keys.js";
import { SecretNotFoundError } from "../keys/secrets.js";
import { SignInputError } from "../keys/signatures.js";
import { DecryptFailedError } from "../keys/symmetric.js";
import { toKmsError } from "./store-errors.js";

const BAD_INPUT = [KeyInputError, KeyUsageError, CiphertextFormatError, DecryptFailedError, SignInputError];

export function toKeyHttpError(e: unknown): unknown {
  if (e instanceof KeyStateError) return new KmsError(e.kind, e.message);
  if (e instanceof SecretNotFoundError) return new KmsError("not_found", e.message);
  if (BAD_INPUT.some((type) => e instanceof type)) return new KmsError("bad_request", (e as Error).message);
  return toKmsError(e);
}

/** Runs a key or secret call, turning its errors into what the HTTP layer answers. */
export async function keyCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toKeyHttpError(e);
  }
}
