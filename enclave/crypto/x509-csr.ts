// PKCS#10 certification requests (RFC 2986): strict parsing and proof that the requester holds
// the private key (the self-signature). From a request we keep only its public key and the
// subjectAltNames it asks for; its subject and every other requested extension are ignored,
// because the CA decides those.
import { AsnConvert } from "@peculiar/asn1-schema";
import { Extensions, GeneralName, SubjectAlternativeName, SubjectPublicKeyInfo, id_ce_subjectAltName } from "@peculiar/asn1-x509";
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
  // asn1js ignores bytes after the first element; a request with a tail is not one request.
  if (derElementLength(der) !== der.length) throw invalid("CSR is not a single DER structure");
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
  if (extensionRequests.length > 1 || values.length !== 1) throw invalid("CSR must have at most one extensionRequest value");
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

/**
 * Total length (header + content) of the DER SEQUENCE at the start of `der`, or -1 if the header
 * is not a definite-length SEQUENCE header.
 */
function derElementLength(der: Uint8Array): number {
  if (der.length < 2 || der[0] !== 0x30) return -1;
  const first = der[1] as number;
  if (first < 0x80) return 2 + first;
  const lengthBytes = first & 0x7f;
  // 0x80 is BER indefinite length; more than 3 length bytes is far beyond any CSR we accept.
  if (lengthBytes === 0 || lengthBytes > 3 || der.length < 2 + lengthBytes) return -1;
  let length = 0;
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + (der[2 + i] as number);
  return 2 + lengthBytes + length;
}

function invalid(message: string): CertificatePolicyError {
  return new CertificatePolicyError("invalid_csr", message);
}
