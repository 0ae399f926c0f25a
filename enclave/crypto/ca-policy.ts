// What a leaf certificate may say, decided by the CA and never by the request:
// - subject is always `CN=app-<appId>`;
// - subjectAltNames are an allow-list bound to the app id. Any requested name outside it makes the
//   whole request fail with `san_not_allowed` naming that entry; we reject rather than silently
//   drop, so an app never receives a certificate that lacks a name it believes it has.
//     DNS  `app-<appId>.<suffix>` for each configured suffix, plus, when `allowSubdomains`, any
//          name below it (`api.app-7.example`, `*.app-7.example`). Case-insensitive; issued lower-case.
//     IP   any IPv4/IPv6 address, only when `allowIpAddresses` (an address cannot be tied to an
//          app id, so this is off by default).
//     URI  `<prefix><appId>` or `<prefix><appId>/<path>` for each configured prefix
//          (e.g. `spiffe://nova-kms/app/`).
//     Every other GeneralName type (email, directoryName, otherName, …) is refused.
// - validity is `validity_days` (integer) in 1..maxValidityDays, default defaultValidityDays;
//   the ceiling is 90 days and a policy may only lower it.
import { isIP } from "node:net";
import type { GeneralName } from "@peculiar/asn1-x509";
import { CertificatePolicyError, quoteForError } from "./ca-errors.js";

export const MAX_LEAF_VALIDITY_DAYS = 90;
export const MAX_SUBJECT_ALT_NAMES = 64;

export interface CertificatePolicy {
  readonly dnsSuffixes: readonly string[];
  readonly allowSubdomains: boolean;
  readonly allowIpAddresses: boolean;
  readonly uriPrefixes: readonly string[];
  readonly defaultValidityDays: number;
  readonly maxValidityDays: number;
}

/** No SANs at all, 90-day certificates: the safe default when nothing is configured. */
export const DEFAULT_CERTIFICATE_POLICY: CertificatePolicy = Object.freeze({
  dnsSuffixes: Object.freeze([]),
  allowSubdomains: true,
  allowIpAddresses: false,
  uriPrefixes: Object.freeze([]),
  defaultValidityDays: MAX_LEAF_VALIDITY_DAYS,
  maxValidityDays: MAX_LEAF_VALIDITY_DAYS,
});

/**
 * Validates and normalises operator configuration (throws RangeError: a misconfiguration is the
 * operator's, not the caller's, so it is not a CertificatePolicyError).
 */
export function makeCertificatePolicy(config: Partial<CertificatePolicy> = {}): CertificatePolicy {
  const maxValidityDays = config.maxValidityDays ?? MAX_LEAF_VALIDITY_DAYS;
  if (!Number.isInteger(maxValidityDays) || maxValidityDays < 1 || maxValidityDays > MAX_LEAF_VALIDITY_DAYS) {
    throw new RangeError(`maxValidityDays must be an integer in 1..${MAX_LEAF_VALIDITY_DAYS}`);
  }
  const defaultValidityDays = config.defaultValidityDays ?? maxValidityDays;
  if (!Number.isInteger(defaultValidityDays) || defaultValidityDays < 1 || defaultValidityDays > maxValidityDays) {
    throw new RangeError(`defaultValidityDays must be an integer in 1..${maxValidityDays}`);
  }
  const dnsSuffixes = (config.dnsSuffixes ?? []).map((raw) => {
    const suffix = raw.toLowerCase().replace(/^\./, "");
    if (!isDnsName(suffix, false)) throw new RangeError(`invalid DNS suffix ${quoteForError(raw)}`);
    return suffix;
  });
  const uriPrefixes = (config.uriPrefixes ?? []).map((prefix) => {
    if (!/^[a-z][a-z0-9+.-]*:[\x21-\x7e]*$/i.test(prefix))
      throw new RangeError(`invalid URI prefix ${quoteForError(prefix)}`);
    return prefix;
  });
  return Object.freeze({
    dnsSuffixes: Object.freeze([...new Set(dnsSuffixes)]),
    allowSubdomains: config.allowSubdomains ?? true,
    allowIpAddresses: config.allowIpAddresses ?? false,
    uriPrefixes: Object.freeze([...new Set(uriPrefixes)]),
    defaultValidityDays,
    maxValidityDays,
  });
}

/** Resolves the requested validity against the policy, in whole days. */
export function resolveValidityDays(requested: number | undefined, policy: CertificatePolicy): number {
  if (requested === undefined) return policy.defaultValidityDays;
  if (typeof requested !== "number" || !Number.isInteger(requested)) {
    throw new CertificatePolicyError("validity_not_allowed", "validity_days must be a whole number of days");
  }
  if (requested < 1) throw new CertificatePolicyError("validity_not_allowed", "validity_days must be at least 1");
  if (requested > policy.maxValidityDays) {
    throw new CertificatePolicyError(
      "validity_not_allowed",
      `validity_days ${requested} exceeds the maximum of ${policy.maxValidityDays}`,
    );
  }
  return requested;
}

/** One subjectAltName the leaf will carry, in issuance form. */
export type AllowedAltName =
  | { type: "dns"; value: string }
  | { type: "ip"; value: string }
  | { type: "uri"; value: string };

/**
 * Checks every requested name against the policy for `appId`; returns them normalised and
 * de-duplicated in request order, or throws `san_not_allowed` for the first one refused.
 */
export function checkSubjectAltNames(
  requested: readonly GeneralName[],
  appId: bigint,
  policy: CertificatePolicy,
): AllowedAltName[] {
  if (requested.length > MAX_SUBJECT_ALT_NAMES) {
    throw new CertificatePolicyError(
      "san_not_allowed",
      `CSR requests ${requested.length} subjectAltNames; at most ${MAX_SUBJECT_ALT_NAMES} are allowed`,
    );
  }
  const out: AllowedAltName[] = [];
  const seen = new Set<string>();
  for (const name of requested) {
    const allowed = checkOne(name, appId, policy);
    const key = `${allowed.type}:${allowed.value}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(allowed);
    }
  }
  return out;
}

function checkOne(name: GeneralName, appId: bigint, policy: CertificatePolicy): AllowedAltName {
  const app = `app-${appId.toString()}`;
  if (name.dNSName !== undefined) {
    const dns = name.dNSName.toLowerCase();
    if (!isDnsName(dns, policy.allowSubdomains)) refuse(`DNS:${name.dNSName}`, "is not a valid DNS name");
    const permitted = policy.dnsSuffixes.some((suffix) => {
      const base = `${app}.${suffix}`;
      return dns === base || (policy.allowSubdomains && dns.endsWith(`.${base}`));
    });
    if (!permitted)
      refuse(`DNS:${name.dNSName}`, `is not allowed for app ${appId}; allowed: ${describeDns(app, policy)}`);
    return { type: "dns", value: dns };
  }
  if (name.iPAddress !== undefined) {
    if (!policy.allowIpAddresses)
      refuse(`IP:${name.iPAddress}`, "is not allowed: IP address SANs are disabled by policy");
    if (isIP(name.iPAddress) === 0) refuse(`IP:${name.iPAddress}`, "is not a single IPv4 or IPv6 address");
    return { type: "ip", value: name.iPAddress };
  }
  if (name.uniformResourceIdentifier !== undefined) {
    const uri = name.uniformResourceIdentifier;
    const permitted = policy.uriPrefixes.some((prefix) => {
      const base = `${prefix}${appId.toString()}`;
      return uri === base || uri.startsWith(`${base}/`);
    });
    if (!permitted || !/^[\x21-\x7e]+$/.test(uri)) {
      const allowed = policy.uriPrefixes.length ? policy.uriPrefixes.map((p) => `${p}${appId}`).join(", ") : "none";
      refuse(`URI:${uri}`, `is not allowed for app ${appId}; allowed: ${allowed}`);
    }
    return { type: "uri", value: uri };
  }
  const type =
    name.rfc822Name !== undefined
      ? `email:${name.rfc822Name}`
      : name.directoryName
        ? "dirName"
        : name.otherName
          ? "otherName"
          : name.registeredID
            ? `RID:${name.registeredID}`
            : "unknown GeneralName";
  refuse(type, "is not allowed: only DNS, IP and URI subjectAltNames are supported");
}

function describeDns(app: string, policy: CertificatePolicy): string {
  if (policy.dnsSuffixes.length === 0) return "none (no DNS suffix configured)";
  return policy.dnsSuffixes
    .map((s) => (policy.allowSubdomains ? `${app}.${s} and names below it` : `${app}.${s}`))
    .join(", ");
}

function refuse(what: string, why: string): never {
  throw new CertificatePolicyError("san_not_allowed", `subjectAltName ${quoteForError(what)} ${why}`);
}

const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** LDH host name (A-labels), ≤ 253 octets; `*` allowed only as the whole leftmost label. */
function isDnsName(name: string, allowWildcard: boolean): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  return labels.every((label, i) => LABEL_RE.test(label) || (allowWildcard && i === 0 && label === "*"));
}
