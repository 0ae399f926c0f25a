// secp256k1 for wallet proofs (PROTOCOL.md §1, §3): EIP-191 personal_sign, signer recovery,
// Ethereum addresses. Recovery is on every authenticated request, so it runs on native
// libsecp256k1 (the `secp256k1` package's prebuilt binding, ~25x faster than pure JS here); when the
// binding cannot load, @noble/curves does the same math. We load `secp256k1/bindings` directly
// because the package's own entry point silently falls back to `elliptic`, which we neither want
// nor measure. Both backends are exported so tests can prove they agree.
//
// Recovery accepts high-S signatures, like Ethereum's ecrecover and the existing Nova KMS: honest
// signers emit low-S, and the malleated twin proves possession of the same key anyway.
import { createRequire } from "node:module";
import type * as NativeSecp256k1 from "secp256k1";
import { secp256k1 as nobleSecp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, concatBytes, hexToBytes, utf8 } from "./bytes.js";

export class SignatureFormatError extends Error {
  override name = "SignatureFormatError";
}

export type Secp256k1BackendName = "native" | "js";

/** The three operations the protocol needs, over 32-byte digests. */
export interface Secp256k1Backend {
  readonly name: Secp256k1BackendName;
  /** 65-byte uncompressed public key of a 32-byte private key. */
  publicKey(privateKey32: Uint8Array): Uint8Array;
  /** Deterministic (RFC 6979), low-S signature of a 32-byte digest. */
  sign(digest32: Uint8Array, privateKey32: Uint8Array): { signature64: Uint8Array; recovery: number };
  /** 65-byte uncompressed public key that produced `signature64` over `digest32`; throws if none. */
  recover(digest32: Uint8Array, signature64: Uint8Array, recovery: number): Uint8Array;
}

export const jsSecp256k1: Secp256k1Backend = {
  name: "js",
  publicKey(privateKey32) {
    return nobleSecp256k1.getPublicKey(privateKey32, false);
  },
  sign(digest32, privateKey32) {
    // 'recovered' layout in noble v2 is recovery ‖ r ‖ s.
    const sig = nobleSecp256k1.sign(digest32, privateKey32, { prehash: false, lowS: true, format: "recovered" });
    return { signature64: sig.slice(1), recovery: sig[0] ?? 0 };
  },
  recover(digest32, signature64, recovery) {
    const sig = nobleSecp256k1.Signature.fromBytes(signature64, "compact").addRecoveryBit(recovery);
    return sig.recoverPublicKey(digest32).toBytes(false);
  },
};

type ModuleLoader = (id: string) => unknown;

/**
 * Loads the native backend through `load` (a CommonJS require); undefined when the binding is
 * missing or unusable. Exported so a test can prove the fallback with a loader that fails.
 */
export function loadNativeSecp256k1(load: ModuleLoader = createRequire(import.meta.url)): Secp256k1Backend | undefined {
  let lib: typeof NativeSecp256k1;
  try {
    lib = load("secp256k1/bindings") as typeof NativeSecp256k1;
    // A binary that loads but cannot run (wrong ABI) should fall back too, not fail on first use.
    lib.publicKeyCreate(new Uint8Array(32).fill(1), false);
  } catch {
    return undefined;
  }
  return {
    name: "native",
    publicKey(privateKey32) {
      return lib.publicKeyCreate(privateKey32, false);
    },
    sign(digest32, privateKey32) {
      const { signature, recid } = lib.ecdsaSign(digest32, privateKey32);
      return { signature64: signature, recovery: recid };
    },
    recover(digest32, signature64, recovery) {
      return lib.ecdsaRecover(signature64, recovery, digest32, false);
    },
  };
}

/** The native backend, or undefined when the binding cannot load on this machine. */
export const nativeSecp256k1: Secp256k1Backend | undefined = loadNativeSecp256k1();

/** The backend used by the functions below unless one is passed explicitly. */
export const activeSecp256k1: Secp256k1Backend = nativeSecp256k1 ?? jsSecp256k1;

export function secp256k1BackendName(): Secp256k1BackendName {
  return activeSecp256k1.name;
}

/** EIP-191 digest: keccak256("\x19Ethereum Signed Message:\n" + byteLength + message). */
export function personalMessageDigest(message: string): Uint8Array {
  const body = utf8(message);
  return keccak_256(concatBytes(utf8(`\x19Ethereum Signed Message:\n${body.length}`), body));
}

function checkPrivateKey(privateKey32: Uint8Array): void {
  if (privateKey32.length !== 32) throw new SignatureFormatError("secp256k1 private key must be 32 bytes");
}

function addressFromPublicKey(uncompressed65: Uint8Array): string {
  return `0x${bytesToHex(keccak_256(uncompressed65.subarray(1)).subarray(12))}`;
}

/** Lower-case 0x address of a 32-byte private key. */
export function addressFromPrivateKey(privateKey32: Uint8Array, backend: Secp256k1Backend = activeSecp256k1): string {
  checkPrivateKey(privateKey32);
  let pub: Uint8Array;
  try {
    pub = backend.publicKey(privateKey32);
  } catch {
    throw new SignatureFormatError("invalid secp256k1 private key");
  }
  return addressFromPublicKey(pub);
}

/**
 * personal_sign: 0x ‖ r ‖ s ‖ v hex with v = 0/1, the Nova runtime's own convention. Verifiers of
 * this protocol accept 27/28 too, but the runtime's built-in KMS client refuses v > 3, so everything
 * a node signs uses 0/1 (PROTOCOL.md §3). `withLegacyV` gives the 27/28 form wallets emit.
 */
export function signPersonalMessage(
  privateKey32: Uint8Array,
  message: string,
  backend: Secp256k1Backend = activeSecp256k1,
): string {
  checkPrivateKey(privateKey32);
  let out: { signature64: Uint8Array; recovery: number };
  try {
    out = backend.sign(personalMessageDigest(message), privateKey32);
  } catch {
    throw new SignatureFormatError("invalid secp256k1 private key");
  }
  return `0x${bytesToHex(concatBytes(out.signature64, Uint8Array.of(out.recovery)))}`;
}

/** A 65-byte r‖s‖v signature (0x optional) with v as 0/1, from any of v ∈ {0, 1, 27, 28}. */
export function normalizeSignatureV(signature: string): string {
  const { signature64, recovery } = parseRecoverableSignature(signature);
  return `0x${bytesToHex(concatBytes(signature64, Uint8Array.of(recovery)))}`;
}

/** The same signature with v as 27/28 (what browser wallets emit); for tests and old clients. */
export function withLegacyV(signature: string): string {
  const { signature64, recovery } = parseRecoverableSignature(signature);
  return `0x${bytesToHex(concatBytes(signature64, Uint8Array.of(27 + recovery)))}`;
}

/** Splits a 65-byte r‖s‖v hex signature (0x optional); v ∈ {0, 1, 27, 28}. */
export function parseRecoverableSignature(signature: string): { signature64: Uint8Array; recovery: number } {
  if (typeof signature !== "string") throw new SignatureFormatError("signature must be a hex string");
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(signature);
  } catch (err) {
    throw new SignatureFormatError(`signature: ${(err as Error).message}`);
  }
  if (bytes.length !== 65) {
    throw new SignatureFormatError(`signature must be 65 bytes (r‖s‖v), got ${bytes.length}`);
  }
  const v = bytes[64] ?? -1;
  let recovery: number;
  if (v === 0 || v === 1) recovery = v;
  else if (v === 27 || v === 28) recovery = v - 27;
  else throw new SignatureFormatError(`signature v must be 0, 1, 27 or 28, got ${v}`);
  return { signature64: bytes.subarray(0, 64), recovery };
}

/**
 * Lower-case 0x address of whoever signed `message` with personal_sign. Throws SignatureFormatError
 * on malformed input and when no key can be recovered (r or s zero or out of range, r not an x).
 * A well-formed signature by someone else recovers to a different address — callers compare.
 */
export function recoverPersonalMessageSigner(
  message: string,
  signature: string,
  backend: Secp256k1Backend = activeSecp256k1,
): string {
  const { signature64, recovery } = parseRecoverableSignature(signature);
  let pub: Uint8Array;
  try {
    pub = backend.recover(personalMessageDigest(message), signature64, recovery);
  } catch {
    throw new SignatureFormatError("signature does not recover to a public key");
  }
  return addressFromPublicKey(pub);
}

const WALLET_RE = /^0x[0-9a-fA-F]{40}$/;

/**
 * Canonical wallet form (lower-case 0x + 40 hex). Accepts all-lower, all-upper, or mixed case
 * that is a correct EIP-55 checksum; a mixed-case address with a wrong checksum is a typo, rejected.
 */
export function canonicalWallet(input: string): string {
  if (typeof input !== "string" || !WALLET_RE.test(input))
    throw new SignatureFormatError("wallet must be 0x followed by 40 hex digits");
  const body = input.slice(2);
  const lower = body.toLowerCase();
  if (body !== lower && body !== body.toUpperCase()) {
    const hash = bytesToHex(keccak_256(utf8(lower)));
    for (let i = 0; i < 40; i++) {
      const c = body[i] as string;
      const upper = parseInt(hash[i] as string, 16) >= 8;
      if (/[a-f]/i.test(c) && (c === c.toUpperCase()) !== upper)
        throw new SignatureFormatError("wallet has an invalid EIP-55 checksum");
    }
  }
  return `0x${lower}`;
}

/** EIP-55 mixed-case form, for display only (the protocol always uses lower case). */
export function checksumWallet(input: string): string {
  const lower = canonicalWallet(input).slice(2);
  const hash = bytesToHex(keccak_256(utf8(lower)));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const c = lower[i] as string;
    out += parseInt(hash[i] as string, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}
