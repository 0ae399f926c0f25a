// P-384 keys as the protocol carries them (PROTOCOL.md §1, §5): a teePubkey arrives as hex of a
// 120-byte DER SubjectPublicKeyInfo or as the 97-byte uncompressed SEC1 point. Everything inside
// the node works on the SEC1 form, so keys compare as points, not as strings.
//
// ECDH runs in node:crypto with KeyObjects: measured ~2x faster than createECDH (which recomputes
// the public key on setPrivateKey and re-validates the peer point) and far faster than pure JS.
// The on-curve check uses @noble/curves (~200k checks/s) so a bad point fails with a clear error
// before it ever reaches OpenSSL.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from "node:crypto";
import { p384 } from "@noble/curves/nist.js";
import { bytesToHex, concatBytes } from "./bytes.js";

export const P384_SEC1_BYTES = 97;
export const P384_SPKI_BYTES = 120;
export const P384_PRIVATE_KEY_BYTES = 48;
export const P384_SHARED_X_BYTES = 48;

export class P384KeyError extends Error {
  override name = "P384KeyError";
}

// DER of SEQUENCE { SEQUENCE { id-ecPublicKey, secp384r1 }, BIT STRING (0 unused bits) } up to
// the point. DER is canonical, so a valid P-384 SPKI with an uncompressed point has exactly this
// prefix; anything else is either another key type or a malformed encoding.
const SPKI_PREFIX = Uint8Array.from(Buffer.from("3076301006072a8648ce3d020106052b81040022036200", "hex"));
const OID_EC_PUBLIC_KEY = "2a8648ce3d0201";
const OID_SECP384R1 = "2b81040022";
const CURVE_NAMES: Record<string, string> = {
  "2a8648ce3d030107": "P-256 (prime256v1)",
  "2b81040023": "P-521 (secp521r1)",
  "2b8104000a": "secp256k1",
  "2b81040022": "P-384 (secp384r1)",
};

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Minimal DER TLV reader, used only to explain why an SPKI was rejected. */
function readTlv(buf: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const tag = buf[at];
  let len = buf[at + 1];
  if (tag === undefined || len === undefined) throw new P384KeyError("truncated DER");
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 2) throw new P384KeyError("unsupported DER length encoding");
    len = 0;
    for (let i = 0; i < n; i++) {
      const b = buf[start + i];
      if (b === undefined) throw new P384KeyError("truncated DER");
      len = (len << 8) | b;
    }
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new P384KeyError("truncated DER");
  return { tag, start, end };
}

/** Explains a DER input that is not a 120-byte uncompressed P-384 SPKI. Always throws. */
function rejectSpki(der: Uint8Array): never {
  let algOid = "";
  let curveOid = "";
  let point: Uint8Array | undefined;
  try {
    const outer = readTlv(der, 0);
    const alg = readTlv(der, outer.start);
    const oid1 = readTlv(der, alg.start);
    algOid = bytesToHex(der.subarray(oid1.start, oid1.end));
    if (oid1.end < alg.end) {
      const oid2 = readTlv(der, oid1.end);
      if (oid2.tag === 0x06) curveOid = bytesToHex(der.subarray(oid2.start, oid2.end));
    }
    const bits = readTlv(der, alg.end);
    if (bits.tag === 0x03) point = der.subarray(bits.start + 1, bits.end);
  } catch {
    throw new P384KeyError(`malformed SubjectPublicKeyInfo (${der.length} bytes)`);
  }
  if (algOid !== OID_EC_PUBLIC_KEY)
    throw new P384KeyError("SubjectPublicKeyInfo is not an EC public key (id-ecPublicKey)");
  if (curveOid !== OID_SECP384R1) {
    throw new P384KeyError(
      `unsupported curve ${CURVE_NAMES[curveOid] ?? curveOid}: only P-384 (secp384r1) is accepted`,
    );
  }
  if (point && (point[0] === 0x02 || point[0] === 0x03)) {
    throw new P384KeyError("compressed P-384 points are not accepted: use the uncompressed form");
  }
  throw new P384KeyError(`malformed P-384 SubjectPublicKeyInfo (${der.length} bytes, expected ${P384_SPKI_BYTES})`);
}

/** Throws unless `sec1` is a 97-byte uncompressed point on P-384 (not the identity). */
function assertSec1OnCurve(sec1: Uint8Array): void {
  if (sec1[0] === 0x02 || sec1[0] === 0x03) {
    throw new P384KeyError("compressed P-384 points are not accepted: use the uncompressed form");
  }
  if (sec1.length !== P384_SEC1_BYTES || sec1[0] !== 0x04) {
    throw new P384KeyError(`P-384 public key must be ${P384_SEC1_BYTES}-byte uncompressed SEC1 (0x04‖x‖y)`);
  }
  try {
    // fromBytes checks the coordinates are field elements and satisfy the curve equation.
    p384.Point.fromBytes(sec1);
  } catch {
    throw new P384KeyError("P-384 public key is not a point on the curve");
  }
}

/**
 * Accepts a 120-byte DER SPKI (id-ecPublicKey + secp384r1) or a 97-byte uncompressed SEC1 point,
 * checks the point is on the curve, and returns a fresh copy of the SEC1 bytes.
 */
export function parseP384PublicKey(bytes: Uint8Array): Uint8Array {
  let sec1: Uint8Array;
  if (bytes.length === P384_SPKI_BYTES && startsWith(bytes, SPKI_PREFIX)) {
    sec1 = bytes.slice(SPKI_PREFIX.length);
  } else if (bytes[0] === 0x30) {
    rejectSpki(bytes);
  } else if (bytes.length === 0) {
    throw new P384KeyError("P-384 public key is empty");
  } else {
    sec1 = bytes.slice();
  }
  assertSec1OnCurve(sec1);
  return sec1;
}

/** The 120-byte DER SPKI of a (validated) SEC1 point. */
export function p384SpkiFromSec1(sec1: Uint8Array): Uint8Array {
  assertSec1OnCurve(sec1);
  return concatBytes(SPKI_PREFIX, sec1);
}

const P384_ORDER = p384.Point.Fn.ORDER;

// OpenSSL would fail late (at export) on zero and may reduce scalars >= n silently: check here.
function checkPrivateKey(priv: Uint8Array): void {
  if (priv.length !== P384_PRIVATE_KEY_BYTES)
    throw new P384KeyError(`P-384 private key must be ${P384_PRIVATE_KEY_BYTES} bytes`);
  const d = BigInt(`0x${bytesToHex(priv)}`);
  if (d === 0n || d >= P384_ORDER) throw new P384KeyError("invalid P-384 private key (must be in 1..n-1)");
}

// SEC1 ECPrivateKey DER without the optional public key: OpenSSL derives the public point itself.
const EC_PRIVATE_PREFIX = Uint8Array.from(Buffer.from("303e0201010430", "hex"));
const EC_PRIVATE_SUFFIX = Uint8Array.from(Buffer.from("a00706052b81040022", "hex"));

/**
 * A node:crypto KeyObject for a raw P-384 scalar. Building it costs one scalar multiplication,
 * so long-lived holders (EcdhSecretCache) build it once.
 */
export function p384PrivateKeyObject(priv48: Uint8Array): KeyObject {
  checkPrivateKey(priv48);
  try {
    return createPrivateKey({
      key: Buffer.from(concatBytes(EC_PRIVATE_PREFIX, priv48, EC_PRIVATE_SUFFIX)),
      format: "der",
      type: "sec1",
    });
  } catch {
    throw new P384KeyError("invalid P-384 private key (must be in 1..n-1)");
  }
}

function sec1FromJwk(x: string | undefined, y: string | undefined): Uint8Array {
  if (!x || !y) throw new P384KeyError("P-384 key export lacks coordinates");
  return concatBytes(Uint8Array.of(0x04), Buffer.from(x, "base64url"), Buffer.from(y, "base64url"));
}

/** Public SEC1 point of a KeyObject (private or public) produced by this module. */
export function p384PublicKeyOfKeyObject(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: "jwk" });
  return sec1FromJwk(jwk.x, jwk.y);
}

export function p384PublicKeyFromPrivate(priv48: Uint8Array): Uint8Array {
  return p384PublicKeyOfKeyObject(p384PrivateKeyObject(priv48));
}

/** KeyObject for a peer's SEC1 point (validated first, so errors are ours, not OpenSSL's). */
export function p384PublicKeyObject(peerSec1: Uint8Array): KeyObject {
  assertSec1OnCurve(peerSec1);
  return createPublicKey({ key: Buffer.from(concatBytes(SPKI_PREFIX, peerSec1)), format: "der", type: "spki" });
}

/** ECDH with an already-built private KeyObject: the 48-byte x-coordinate of priv·peer. */
export function p384SharedXWithKeyObject(privateKey: KeyObject, peerSec1: Uint8Array): Uint8Array {
  const secret = diffieHellman({ privateKey, publicKey: p384PublicKeyObject(peerSec1) });
  return new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
}

/** Static ECDH: the 48-byte x-coordinate of priv·peer (the IKM of the envelope and sealed-transfer HKDFs). */
export function p384SharedX(priv48: Uint8Array, peerSec1: Uint8Array): Uint8Array {
  return p384SharedXWithKeyObject(p384PrivateKeyObject(priv48), peerSec1);
}

export function generateP384KeyPair(): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  const jwk = privateKey.export({ format: "jwk" });
  if (!jwk.d) throw new P384KeyError("P-384 key export lacks the private scalar");
  const d = new Uint8Array(Buffer.from(jwk.d, "base64url"));
  // JWK keeps leading zero bytes (fixed-width per RFC 7518), but be explicit about the width.
  if (d.length !== P384_PRIVATE_KEY_BYTES) throw new P384KeyError("unexpected P-384 private key width");
  return { privateKey: d, publicKey: sec1FromJwk(jwk.x, jwk.y) };
}

/** Point equality of two keys given in any accepted form (SPKI or SEC1). */
export function sameP384PublicKey(a: Uint8Array, b: Uint8Array): boolean {
  const pa = parseP384PublicKey(a);
  const pb = parseP384PublicKey(b);
  return pa.length === pb.length && pa.every((v, i) => v === pb[i]);
}
