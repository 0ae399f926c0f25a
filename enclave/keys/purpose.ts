// What a named key is for (PROTOCOL.md §12): the algorithm of every version's material and the
// operations the key allows. A key's purpose never changes; rotation makes a new version of it.

export const KEY_PURPOSES = [
  "encrypt",
  "sign-secp256k1",
  "sign-p256",
  "sign-ed25519",
  "sign-rsa",
  "decrypt-rsa",
  "mac",
] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

export type SignPurpose = Extract<KeyPurpose, `sign-${string}`>;

/**
 * Key (and secret) names are path-safe and bounded: `[A-Za-z0-9_.-]{1,128}`, but not "." or "..",
 * which every URL parser turns into a dot segment: such a key could be made but never named in a path.
 */
export const KEY_NAME_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,128}$/;

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
