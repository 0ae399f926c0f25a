// The cluster certificate authority (DESIGN.md "CA"). Pure functions: the CA is rebuilt from the
// `ca-root` internal key on every node, and every field of its certificate is a function of that
// key, so all nodes serve byte-identical CA certificates:
//   key       P-256, derived from the seed (ca-key.ts)
//   subject   O=Nova KMS, CN=Nova KMS Cluster CA <first 8 bytes of the key id, hex> — the key id
//             makes CAs of different clusters distinct by name, so a trust store holding several
//             does not mix up issuers
//   serial    16 bytes of SHA-256("nova-kms:ca-serial:v1" ‖ SPKI), made positive
//   validity  fixed: 2025-01-01T00:00:00Z .. 2125-01-01T00:00:00Z (no clock involved)
//   signature deterministic ECDSA (RFC 6979) with SHA-256
// Leaf certificates are issued per request and need not be reproducible; their serials are random.
import { sha256 } from "@noble/hashes/sha2.js";
import { AsnConvert } from "@peculiar/asn1-schema";
import type { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { bytesToHex, concatBytes, utf8 } from "./bytes.js";
import { deriveCaSigningKey } from "./ca-key.js";
import {
  type AllowedAltName,
  type CertificatePolicy,
  DEFAULT_CERTIFICATE_POLICY,
  checkSubjectAltNames,
  resolveValidityDays,
} from "./ca-policy.js";
import { distinguishedName, signCertificate } from "./x509-certificate.js";
import { parseAndVerifyCsr } from "./x509-csr.js";
import { curveByName, ecPublicKeyInfo } from "./x509-ec.js";
import {
  KeyUsageFlags,
  TLS_SERVER_AND_CLIENT,
  authorityKeyIdentifier,
  basicConstraints,
  extendedKeyUsage,
  keyIdentifier,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
} from "./x509-extensions.js";
import { encodePem } from "./x509-pem.js";

export { CertificatePolicyError, type CertificatePolicyErrorCode } from "./ca-errors.js";
export {
  type CertificatePolicy,
  DEFAULT_CERTIFICATE_POLICY,
  MAX_LEAF_VALIDITY_DAYS,
  makeCertificatePolicy,
} from "./ca-policy.js";

const CA_NOT_BEFORE_MS = Date.UTC(2025, 0, 1);
const CA_NOT_AFTER_MS = Date.UTC(2125, 0, 1);
const CA_ORGANIZATION = "Nova KMS";
const CA_COMMON_NAME = "Nova KMS Cluster CA";
const CA_SERIAL_LABEL = "nova-kms:ca-serial:v1";
/** Leaves start this long before `now` so a verifier whose clock lags a little still accepts them. */
export const LEAF_BACKDATE_SECONDS = 60;
const DAY_MS = 86_400_000;

export interface SignCsrRequest {
  /** PKCS#10 request in PEM (the route's `csr` after base64 decoding). */
  readonly csrPem: string;
  /** The authenticated caller; never taken from the CSR. */
  readonly appId: bigint;
  /** Requested lifetime in whole days; default and ceiling come from the policy. */
  readonly validityDays?: number;
  /** Issuance time (default: the current time). */
  readonly now?: Date | number;
  /** Default: the CA's default policy (see createClusterCa). */
  readonly policy?: CertificatePolicy;
}

export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly certificateDer: Uint8Array;
  /** Lower-case hex of the serial's INTEGER content. */
  readonly serialNumberHex: string;
  readonly subject: string;
  readonly subjectAltNames: readonly AllowedAltName[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface ClusterCa {
  readonly certificatePem: string;
  /** A fresh copy on each read, so no caller can alter the bytes others serve. */
  readonly certificateDer: Uint8Array;
  readonly subject: string;
  readonly subjectKeyIdentifier: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * Verifies the CSR and issues a leaf for `appId`. Throws CertificatePolicyError (HTTP 400) for
   * anything wrong with the request; never includes key material in errors.
   */
  signCsr(request: SignCsrRequest): IssuedCertificate;
}

export interface ClusterCaOptions {
  /** Policy used when a signCsr request names none. Does not affect the CA certificate. */
  readonly defaultPolicy?: CertificatePolicy;
  /** Source of leaf serial randomness; defaults to the platform CSPRNG. For tests only. */
  readonly randomBytes?: (length: number) => Uint8Array;
}

export function createClusterCa(seed: Uint8Array, options: ClusterCaOptions = {}): ClusterCa {
  const key = deriveCaSigningKey(seed);
  const spki = ecPublicKeyInfo(curveByName("P-256"), key.publicKey);
  const keyId = keyIdentifier(spki);
  const commonName = `${CA_COMMON_NAME} ${bytesToHex(keyId.slice(0, 8))}`;
  const name = () => distinguishedName({ organization: CA_ORGANIZATION, commonName });
  const caDer = signCertificate(
    {
      serialNumber: positiveSerial(sha256(concatBytes(utf8(CA_SERIAL_LABEL), spkiBytes(spki))).slice(0, 16)),
      issuer: name(),
      subject: name(),
      notBefore: new Date(CA_NOT_BEFORE_MS),
      notAfter: new Date(CA_NOT_AFTER_MS),
      subjectPublicKeyInfo: spki,
      extensions: [
        basicConstraints(true, 0),
        keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign),
        subjectKeyIdentifier(keyId),
        authorityKeyIdentifier(keyId),
      ],
    },
    key.secretKey,
  );
  const caPem = encodePem("CERTIFICATE", caDer);
  const defaultPolicy = options.defaultPolicy ?? DEFAULT_CERTIFICATE_POLICY;
  const randomBytes = options.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));

  function signCsr(request: SignCsrRequest): IssuedCertificate {
    const { appId } = request;
    if (typeof appId !== "bigint" || appId < 0n) throw new RangeError("appId must be a non-negative bigint");
    const policy = request.policy ?? defaultPolicy;
    // Cheap checks first: a request with a bad validity is refused before any signature work.
    const validityDays = resolveValidityDays(request.validityDays, policy);
    const csr = parseAndVerifyCsr(request.csrPem);
    const altNames = checkSubjectAltNames(csr.requestedAltNames, appId, policy);

    const nowMs = request.now === undefined ? Date.now() : new Date(request.now).getTime();
    if (!Number.isFinite(nowMs)) throw new RangeError("now must be a valid time");
    const notBefore = new Date(Math.floor(nowMs / 1000) * 1000 - LEAF_BACKDATE_SECONDS * 1000);
    // Never outlive the issuer: a chain is only valid while every certificate in it is.
    const notAfter = new Date(Math.min(notBefore.getTime() + validityDays * DAY_MS, CA_NOT_AFTER_MS));
    if (notBefore.getTime() < CA_NOT_BEFORE_MS || notAfter.getTime() <= notBefore.getTime()) {
      throw new RangeError("issuance time is outside the CA's validity period");
    }

    const serialNumber = positiveSerial(randomBytes(16));
    const subjectCommonName = `app-${appId.toString()}`;
    const extensions = [
      basicConstraints(false),
      keyUsage(KeyUsageFlags.digitalSignature),
      extendedKeyUsage(TLS_SERVER_AND_CLIENT),
      subjectKeyIdentifier(keyIdentifier(csr.subjectPublicKeyInfo)),
      authorityKeyIdentifier(keyId),
    ];
    if (altNames.length > 0) extensions.push(subjectAltName(altNames));
    const der = signCertificate(
      {
        serialNumber,
        issuer: name(),
        subject: distinguishedName({ commonName: subjectCommonName }),
        notBefore,
        notAfter,
        subjectPublicKeyInfo: csr.subjectPublicKeyInfo,
        extensions,
      },
      key.secretKey,
    );
    return {
      certificatePem: encodePem("CERTIFICATE", der),
      certificateDer: der,
      serialNumberHex: bytesToHex(serialNumber),
      subject: `CN=${subjectCommonName}`,
      subjectAltNames: altNames,
      notBefore,
      notAfter,
    };
  }

  return {
    certificatePem: caPem,
    get certificateDer() {
      return caDer.slice();
    },
    subject: `O=${CA_ORGANIZATION}, CN=${commonName}`,
    get subjectKeyIdentifier() {
      return keyId.slice();
    },
    get notBefore() {
      return new Date(CA_NOT_BEFORE_MS);
    },
    get notAfter() {
      return new Date(CA_NOT_AFTER_MS);
    },
    signCsr,
  };
}

/** Makes 16 arbitrary bytes a positive, minimally encoded INTEGER of exactly 16 octets. */
function positiveSerial(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 16) throw new RangeError("serial source must be 16 bytes");
  const serial = bytes.slice();
  // Clear the sign bit and set the next one: positive, no leading zero octet, 126 free bits.
  serial[0] = ((serial[0] as number) & 0x3f) | 0x40;
  return serial;
}

function spkiBytes(spki: SubjectPublicKeyInfo): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(spki));
}
