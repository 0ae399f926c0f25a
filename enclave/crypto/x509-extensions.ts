// Builders for the certificate extensions the CA issues. Each returns a ready Extension with its
// criticality fixed here, so the CA and leaf code cannot disagree with RFC 5280 by accident.
import { sha256 } from "@noble/hashes/sha2.js";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  type SubjectPublicKeyInfo,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from "@peculiar/asn1-x509";
import type { AllowedAltName } from "./ca-policy.js";
import { toArrayBuffer } from "./x509-ec.js";

export { KeyUsageFlags };
export const TLS_SERVER_AND_CLIENT = [id_kp_serverAuth, id_kp_clientAuth] as const;

/**
 * Key identifier per RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the
 * subjectPublicKey bits (not the whole SPKI). SHA-256 rather than RFC 5280's SHA-1 so nothing
 * here depends on SHA-1; identifiers are opaque to verifiers, which only compare them.
 */
export function keyIdentifier(spki: SubjectPublicKeyInfo): Uint8Array {
  return sha256(new Uint8Array(spki.subjectPublicKey)).slice(0, 20);
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** Always critical (RFC 5280 §4.2.1.9 requires it for CAs; for leaves it stops use as a CA). */
export function basicConstraints(ca: boolean, pathLenConstraint?: number): Extension {
  const value = new BasicConstraints({ cA: ca });
  if (ca && pathLenConstraint !== undefined) value.pathLenConstraint = pathLenConstraint;
  return extension(id_ce_basicConstraints, true, value);
}

export function keyUsage(flags: number): Extension {
  return extension(id_ce_keyUsage, true, new KeyUsage(flags));
}

export function extendedKeyUsage(purposes: readonly string[]): Extension {
  return extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([...purposes]));
}

export function subjectKeyIdentifier(keyId: Uint8Array): Extension {
  return extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(toArrayBuffer(keyId)));
}

export function authorityKeyIdentifier(keyId: Uint8Array): Extension {
  return extension(
    id_ce_authorityKeyIdentifier,
    false,
    new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(toArrayBuffer(keyId)) }),
  );
}

/** Non-critical: the subject DN is never empty in our certificates (RFC 5280 §4.2.1.6). */
export function subjectAltName(names: readonly AllowedAltName[]): Extension {
  const general = names.map((n) => {
    if (n.type === "dns") return new GeneralName({ dNSName: n.value });
    if (n.type === "ip") return new GeneralName({ iPAddress: n.value });
    return new GeneralName({ uniformResourceIdentifier: n.value });
  });
  return extension(id_ce_subjectAltName, false, new SubjectAlternativeName(general));
}
