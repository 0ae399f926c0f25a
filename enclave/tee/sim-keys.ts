// Deterministic keys for simulation mode. Scripts must know a node's wallet and teePubkey before the
// node runs (to register and fund it on the local chain), so both keys are derived from SIM_NODE_SEED.
// Each key gets its own HKDF label, so knowing one key says nothing about the other.
import { hkdfSha256 } from "../crypto/kdf.js";
import { utf8, bytesToHex } from "../crypto/bytes.js";
import { p384PublicKeyFromPrivate, p384SpkiFromSec1 } from "../crypto/p384.js";
import { addressFromPrivateKey } from "../crypto/secp256k1.js";

const SIM_SALT = "nova-kms:simulated-tee:v1";
const WALLET_INFO = "secp256k1-wallet";
const ENCRYPTION_INFO = "p384-encryption";

// Group orders (SEC 2). A unit test checks them against @noble/curves.
export const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const P384_ORDER =
  0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;

export type SimulatedSeed = string | Uint8Array;

export interface SimulatedKeys {
  /** 32-byte secp256k1 private key of the wallet. */
  walletPrivateKey: Uint8Array;
  /** 48-byte P-384 private key for the envelope. */
  encryptionPrivateKey: Uint8Array;
}

/** Public identity of a simulated node: what scripts register on chain. No secrets. */
export interface SimulatedIdentity {
  /** Lower-case wallet address. */
  wallet: string;
  /** P-384 public key, uncompressed SEC1 (97 bytes). */
  teePubkey: Uint8Array;
  /** P-384 public key as DER SPKI (120 bytes): the on-chain `teePubkey`. */
  teePubkeySpki: Uint8Array;
  /** Hex of the SPKI, `0x`-prefixed, ready to pass as `bytes` to a contract call. */
  teePubkeySpkiHex: `0x${string}`;
}

function seedBytes(seed: SimulatedSeed): Uint8Array {
  // Strings are taken as UTF-8 text, never sniffed as hex: "0xab" and "ab" are different seeds,
  // which is what an operator typing SIM_NODE_SEED expects.
  const bytes = typeof seed === "string" ? utf8(seed) : seed;
  if (bytes.length === 0) throw new Error("simulation seed must not be empty");
  return bytes;
}

function bigintToBytes(value: bigint, length: number): Uint8Array {
  const hex = value.toString(16).padStart(length * 2, "0");
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/**
 * A private scalar in [1, order-1]: HKDF output 16 bytes longer than the order, reduced modulo
 * order-1, plus one. The extra 128 bits make the modulo bias negligible (FIPS 186-5 A.2.1), and the
 * result is never zero or out of range, whatever the seed.
 */
function scalarFromSeed(seed: Uint8Array, info: string, order: bigint, length: number): Uint8Array {
  const okm = hkdfSha256(seed, SIM_SALT, info, length + 16);
  const wide = BigInt(`0x${bytesToHex(okm)}`);
  return bigintToBytes((wide % (order - 1n)) + 1n, length);
}

export function deriveSimulatedKeys(seed: SimulatedSeed): SimulatedKeys {
  const ikm = seedBytes(seed);
  return {
    walletPrivateKey: scalarFromSeed(ikm, WALLET_INFO, SECP256K1_ORDER, 32),
    encryptionPrivateKey: scalarFromSeed(ikm, ENCRYPTION_INFO, P384_ORDER, 48),
  };
}

export function identityFromKeys(keys: SimulatedKeys): SimulatedIdentity {
  const teePubkey = p384PublicKeyFromPrivate(keys.encryptionPrivateKey);
  const teePubkeySpki = p384SpkiFromSec1(teePubkey);
  return {
    wallet: addressFromPrivateKey(keys.walletPrivateKey).toLowerCase(),
    teePubkey,
    teePubkeySpki,
    teePubkeySpkiHex: `0x${bytesToHex(teePubkeySpki)}`,
  };
}

/** The identity a node started with `SIM_NODE_SEED=<seed>` will have; pure, for scripts and tests. */
export function simulatedIdentity(seed: SimulatedSeed): SimulatedIdentity {
  return identityFromKeys(deriveSimulatedKeys(seed));
}
