// What a named key is for (PROTOCOL.md §12): the algorithm of every version's material and the
// operations the key allows. A key's purpose never changes; rotation makes a new version of it.

export { KEY_PURPOSES, type KeyPurpose } from "../protocol/key-views.js";
import { KEY_PURPOSES, type KeyPurpose } from "../protocol/key-views.js";

export type SignPurpose = Extract<KeyPurpose, `sign-${string}`>;

export { KEY_NAME_PATTERN } from "../protocol/key-names.js";

export function isKeyPurpose(value: unknown): value is KeyPurpose {
  return (KEY_PURPOSES as readonly unknown[]).includes(value);
}

export function isSignPurpose(purpose: KeyPurpose): purpose is SignPurpose {
  return purpose.startsWith("sign-");
}

/** Symmetric encryption keys rotate every 30 days unless told otherwise; the others only by hand. */
export function defaultRotationPeriodDays(purpose: KeyPurpose): number {
  return purpose === "encrypt" ? 30 : 0;
}

/** Purposes whose public half may leave the node (`GET …/public_key`). */
export function hasPublicKey(purpose: KeyPurpose): boolean {
  return isSignPurpose(purpose) || purpose === "decrypt-rsa";
}
