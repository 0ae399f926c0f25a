// Assembling and signing an X.509 v3 certificate. The TBSCertificate is encoded with
// @peculiar/asn1-x509 and signed with @noble/curves ECDSA, which is deterministic (RFC 6979):
// the same key and the same TBS bytes always give the same signature, which is what lets every
// node produce a byte-identical CA certificate. (WebCrypto/OpenSSL ECDSA is randomized.)
import { p256 } from "@noble/curves/nist.js";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  type Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  type SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from "@peculiar/asn1-x509";
import { ecdsaWithSha256, toArrayBuffer } from "./x509-ec.js";

const OID_COMMON_NAME = "2.5.4.3";
const OID_ORGANIZATION = "2.5.4.10";

export interface CertificateFields {
  /** Content octets of a positive INTEGER in minimal form (1..20 bytes, first byte 0x01..0x7f). */
  readonly serialNumber: Uint8Array;
  readonly issuer: Name;
  readonly subject: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectPublicKeyInfo: SubjectPublicKeyInfo;
  readonly extensions: readonly Extension[];
}

/** A name with one attribute per RDN, most general first, values as UTF8String (RFC 5280 §4.1.2.4). */
export function distinguishedName(attributes: { organization?: string; commonName: string }): Name {
  const rdns: RelativeDistinguishedName[] = [];
  const add = (type: string, value: string) =>
    rdns.push(
      new RelativeDistinguishedName([
        new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
      ]),
    );
  if (attributes.organization !== undefined) add(OID_ORGANIZATION, attributes.organization);
  add(OID_COMMON_NAME, attributes.commonName);
  return new Name(rdns);
}

/** Signs with ECDSA P-256/SHA-256 under `issuerSecretKey`; returns the certificate DER. */
export function signCertificate(fields: CertificateFields, issuerSecretKey: Uint8Array): Uint8Array {
  assertSerialNumber(fields.serialNumber);
  if (fields.notBefore.getTime() % 1000 !== 0 || fields.notAfter.getTime() % 1000 !== 0) {
    // X.509 times carry whole seconds; refusing fractions keeps "what we signed" == "what we meant".
    throw new RangeError("certificate times must be whole seconds");
  }
  if (fields.notAfter.getTime() <= fields.notBefore.getTime()) throw new RangeError("notAfter must be after notBefore");
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(fields.serialNumber),
    signature: ecdsaWithSha256(),
    issuer: fields.issuer,
    // Validity picks UTCTime through 2049 and GeneralizedTime after, as RFC 5280 §4.1.2.5 requires.
    validity: new Validity({ notBefore: fields.notBefore, notAfter: fields.notAfter }),
    subject: fields.subject,
    subjectPublicKeyInfo: fields.subjectPublicKeyInfo,
    extensions: new Extensions([...fields.extensions]),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = p256.sign(tbsDer, issuerSecretKey, {
    prehash: true,
    lowS: true,
    format: "der",
    extraEntropy: false,
  });
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: ecdsaWithSha256(),
    signatureValue: toArrayBuffer(signature),
  });
  return new Uint8Array(AsnConvert.serialize(certificate));
}

function assertSerialNumber(serial: Uint8Array): void {
  const first = serial[0];
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; minimal DER means no leading 0x00.
  if (serial.length < 1 || serial.length > 20 || first === undefined || first === 0 || first >= 0x80) {
    throw new RangeError("serial number must be 1..20 octets, positive, minimally encoded");
  }
}
