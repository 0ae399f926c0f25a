// PKCS#10 certification requests (RFC 2986): strict parsing and proof that the requester holds
// the private key (the self-signature). From a request we keep only its public key and the
// subjectAltNames it asks for; its subject and every other requested extension are ignored,
// because the CA decides those.
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  Extensions,
  type GeneralName,
  SubjectAlternativeName,
  type SubjectPublicKeyInfo,
  id_ce_subjectAltName,
} from "@peculiar/asn1-x509";
import { CertificationRequest } from "@peculiar/asn1-csr";
import { CertificatePolicyError } from "./ca-errors.js";
import { type EcCurveInfo, parseEcPublicKeyInfo, verifyEcdsaSignature } from "./x509-ec.js";
import { decodePem } from "./x509-pem.js";

/** Upper bound on the PEM text; real requests are well under 4 KiB even with many SANs. */
export const MAX_CSR_PEM_LENGTH = 16 * 1024;
const CSR_PEM_LABELS = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"] as const;
const ID_PKCS9_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

export interface VerifiedCsr {
  /** The requester's key, already checked to be a valid P-256/P-384 point. */
  readonly subjectPublicKeyInfo: SubjectPublicKeyInfo;
  readonly curve: EcCurveInfo;
  /** subjectAltName entries asked for in the extensionRequest attribute (possibly none). */
  readonly requestedAltNames: readonly GeneralName[];
}

export function parseAndVerifyCsr(csrPem: string): VerifiedCsr {
  if (typeof csrPem !== "string" || csrPem.length === 0) throw invalid("CSR must be a non-empty PEM string");
  if (csrPem.length > MAX_CSR_PEM_LENGTH) throw invalid(`CSR is larger than ${MAX_CSR_PEM_LENGTH} characters`);
  let der: Uint8Array;
  try {
    der = decodePem(csrPem, CSR_PEM_LABELS);
  } catch (err) {
    throw invalid(`CSR is not PEM: ${(err as Error).message}`);
  }
  if (!isWellFramed(der)) throw invalid("CSR is not a single DER-encoded PKCS#10 structure");
  let csr: CertificationRequest;
  try {
    csr = AsnConvert.parse(der, CertificationRequest);
  } catch {
    throw invalid("CSR is not a valid PKCS#10 structure");
  }
  const info = csr.certificationRequestInfo;
  if (info.version !== 0) throw invalid("CSR version must be 1 (0)");
  if (!csr.certificationRequestInfoRaw) throw invalid("CSR is not a valid PKCS#10 structure");

  const key = parseEcPublicKeyInfo(info.subjectPKInfo);
  const signed = new Uint8Array(csr.certificationRequestInfoRaw);
  if (!verifyEcdsaSignature(csr.signatureAlgorithm, new Uint8Array(csr.signature), signed, key)) {
    throw new CertificatePolicyError("csr_signature_invalid", "CSR signature does not verify with its public key");
  }
  return { subjectPublicKeyInfo: info.subjectPKInfo, curve: key.curve, requestedAltNames: requestedAltNames(csr) };
}

function requestedAltNames(csr: CertificationRequest): GeneralName[] {
  const attributes = csr.certificationRequestInfo.attributes ?? [];
  const extensionRequests = attributes.filter((a) => a.type === ID_PKCS9_EXTENSION_REQUEST);
  if (extensionRequests.length === 0) return [];
  const values = extensionRequests.flatMap((a) => a.values);
  if (extensionRequests.length > 1 || values.length !== 1)
    throw invalid("CSR must have at most one extensionRequest value");
  let extensions: Extensions;
  try {
    extensions = AsnConvert.parse(values[0] as ArrayBuffer, Extensions);
  } catch {
    throw invalid("CSR extensionRequest is malformed");
  }
  const sans = extensions.filter((e) => e.extnID === id_ce_subjectAltName);
  if (sans.length === 0) return [];
  if (sans.length > 1) throw invalid("CSR requests subjectAltName more than once");
  try {
    return [...AsnConvert.parse((sans[0] as (typeof sans)[number]).extnValue.buffer, SubjectAlternativeName)];
  } catch {
    throw invalid("CSR subjectAltName is malformed");
  }
}

interface Tlv {
  readonly tag: number;
  /** Offset of the content octets. */
  readonly contentStart: number;
  /** Offset just past the element. */
  readonly end: number;
}

/** Reads one definite-length DER element at `offset`, or undefined if the header is not that. */
function readTlv(der: Uint8Array, offset: number): Tlv | undefined {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f) return undefined;
  let contentStart = offset + 2;
  let length = first;
  if (first >= 0x80) {
    const lengthBytes = first & 0x7f;
    // 0x80 is BER indefinite length; more than 3 length bytes is far beyond any CSR we accept.
    if (lengthBytes === 0 || lengthBytes > 3) return undefined;
    length = 0;
    for (let i = 0; i < lengthBytes; i++) {
      const b = der[contentStart + i];
      if (b === undefined) return undefined;
      length = length * 256 + b;
    }
    contentStart += lengthBytes;
  }
  const end = contentStart + length;
  return end <= der.length ? { tag, contentStart, end } : undefined;
}

/**
 * Checks the outer framing that asn1js does not: one SEQUENCE spanning the whole input (asn1js
 * ignores trailing bytes) of SEQUENCE, SEQUENCE, BIT STRING, the last with zero unused bits
 * (asn1js drops the unused-bits count, so a changed count would otherwise go unnoticed).
 */
function isWellFramed(der: Uint8Array): boolean {
  const outer = readTlv(der, 0);
  if (outer?.tag !== 0x30 || outer.end !== der.length) return false;
  // asn1js also matches some elements by position without checking their tag class, so the tags
  // of the unsigned parts (algorithm, signature) are checked here.
  const info = readTlv(der, outer.contentStart);
  if (info?.tag !== 0x30) return false;
  const algorithm = readTlv(der, info.end);
  if (algorithm?.tag !== 0x30) return false;
  const signature = readTlv(der, algorithm.end);
  return (
    signature !== undefined &&
    signature.tag === 0x03 &&
    signature.end === der.length &&
    der[signature.contentStart] === 0x00
  );
}

function invalid(message: string): CertificatePolicyError {
  return new CertificatePolicyError("invalid_csr", message);
}
