// Elliptic-curve pieces of X.509: which curves and signature algorithms we accept, SPKI encoding
// and parsing, and ECDSA verification with @noble/curves (synchronous, no WebCrypto key import).
// Only P-256 and P-384 with SHA-2 ECDSA are accepted; anything else is named in the error so a
// caller knows what to change.
import { p256, p384 } from "@noble/curves/nist.js";
import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import {
  ECParameters,
  id_ecPublicKey,
  id_ecdsaWithSHA256,
  id_ecdsaWithSHA384,
  id_ecdsaWithSHA512,
  id_secp256r1,
  id_secp384r1,
} from "@peculiar/asn1-ecc";
import { CertificatePolicyError } from "./ca-errors.js";

type EcdsaCurve = typeof p256;

export interface EcCurveInfo {
  readonly name: "P-256" | "P-384";
  readonly oid: string;
  readonly ecdsa: EcdsaCurve;
}

const CURVES: readonly EcCurveInfo[] = [
  { name: "P-256", oid: id_secp256r1, ecdsa: p256 },
  { name: "P-384", oid: id_secp384r1, ecdsa: p384 as EcdsaCurve },
];

const SIGNATURE_HASHES = new Map<string, (data: Uint8Array) => Uint8Array>([
  [id_ecdsaWithSHA256, sha256],
  [id_ecdsaWithSHA384, sha384],
  [id_ecdsaWithSHA512, sha512],
]);

// Readable names for key algorithms we refuse, so the error says "RSA" rather than an OID.
const KNOWN_KEY_ALGORITHMS = new Map<string, string>([
  ["1.2.840.113549.1.1.1", "RSA"],
  ["1.2.840.113549.1.1.10", "RSA-PSS"],
  ["1.2.840.10040.4.1", "DSA"],
  ["1.3.101.110", "X25519"],
  ["1.3.101.111", "X448"],
  ["1.3.101.112", "Ed25519"],
  ["1.3.101.113", "Ed448"],
]);

const KNOWN_CURVES = new Map<string, string>([
  ["1.3.132.0.35", "P-521"],
  ["1.3.132.0.10", "secp256k1"],
  ["1.2.840.10045.3.1.1", "P-192"],
  ["1.3.132.0.33", "P-224"],
]);

const SUPPORTED_KEYS = "EC P-256 or P-384";

export function ecdsaWithSha256(): AlgorithmIdentifier {
  // RFC 5758 §3.2: the parameters field is absent for ecdsa-with-SHA*.
  return new AlgorithmIdentifier({ algorithm: id_ecdsaWithSHA256 });
}

export function ecPublicKeyInfo(curve: EcCurveInfo, publicKey: Uint8Array): SubjectPublicKeyInfo {
  const parameters = AsnConvert.serialize(new ECParameters({ namedCurve: curve.oid }));
  return new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: id_ecPublicKey, parameters }),
    subjectPublicKey: toArrayBuffer(publicKey),
  });
}

export function curveByName(name: EcCurveInfo["name"]): EcCurveInfo {
  const curve = CURVES.find((c) => c.name === name);
  if (!curve) throw new RangeError(`unsupported curve ${name}`);
  return curve;
}

/**
 * Reads an SPKI that must carry an EC P-256/P-384 point on the curve. Unsupported algorithms are
 * `unsupported_key_type`; malformed encodings are `invalid_csr`.
 */
export function parseEcPublicKeyInfo(spki: SubjectPublicKeyInfo): { curve: EcCurveInfo; publicKey: Uint8Array } {
  const algorithm = spki.algorithm.algorithm;
  if (algorithm !== id_ecPublicKey) {
    const name = KNOWN_KEY_ALGORITHMS.get(algorithm) ?? `OID ${algorithm}`;
    throw new CertificatePolicyError("unsupported_key_type", `unsupported key type ${name}; use ${SUPPORTED_KEYS}`);
  }
  const params = spki.algorithm.parameters;
  if (!(params instanceof ArrayBuffer))
    throw new CertificatePolicyError("invalid_csr", "EC public key has no curve parameters");
  let namedCurve: string | undefined;
  try {
    namedCurve = AsnConvert.parse(params, ECParameters).namedCurve;
  } catch {
    throw new CertificatePolicyError("invalid_csr", "EC public key has malformed curve parameters");
  }
  if (namedCurve === undefined) {
    throw new CertificatePolicyError(
      "unsupported_key_type",
      `unsupported key type: explicit EC curve parameters; use ${SUPPORTED_KEYS}`,
    );
  }
  const curve = CURVES.find((c) => c.oid === namedCurve);
  if (!curve) {
    const name = KNOWN_CURVES.get(namedCurve) ?? `OID ${namedCurve}`;
    throw new CertificatePolicyError("unsupported_key_type", `unsupported key type EC ${name}; use ${SUPPORTED_KEYS}`);
  }
  const publicKey = new Uint8Array(spki.subjectPublicKey);
  try {
    // fromBytes checks the encoding and that the point lies on the curve (not the identity).
    curve.ecdsa.Point.fromBytes(publicKey).assertValidity();
  } catch {
    throw new CertificatePolicyError("invalid_csr", `public key is not a valid ${curve.name} point`);
  }
  return { curve, publicKey };
}

/**
 * Verifies a DER ECDSA signature over `data` under the algorithm named by `signatureAlgorithm`.
 * The hash comes from the algorithm identifier, not the curve, so P-384 keys signing with
 * SHA-256 (and the reverse) verify as X.509 specifies.
 */
export function verifyEcdsaSignature(
  signatureAlgorithm: AlgorithmIdentifier,
  signature: Uint8Array,
  data: Uint8Array,
  key: { curve: EcCurveInfo; publicKey: Uint8Array },
): boolean {
  const hash = SIGNATURE_HASHES.get(signatureAlgorithm.algorithm);
  if (!hash) {
    throw new CertificatePolicyError(
      "unsupported_key_type",
      `unsupported signature algorithm OID ${signatureAlgorithm.algorithm}; use ECDSA with SHA-256/384/512`,
    );
  }
  try {
    // lowS: false because X.509 does not require low-S signatures (OpenSSL emits both halves).
    return key.curve.ecdsa.verify(signature, hash(data), key.publicKey, { prehash: false, format: "der", lowS: false });
  } catch {
    return false;
  }
}

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}
