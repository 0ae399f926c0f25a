// Errors raised while turning a caller's CSR into a certificate. They describe the caller's own
// input (never the CA key or the master secret), so the HTTP layer may return `message` as-is
// with status 400.

export type CertificatePolicyErrorCode =
  | "invalid_csr" // not a parseable PKCS#10 request in PEM
  | "csr_signature_invalid" // the request's self-signature does not verify
  | "unsupported_key_type" // key or signature algorithm outside EC P-256/P-384 with SHA-2
  | "san_not_allowed" // a requested subjectAltName is outside the allow-list policy
  | "validity_not_allowed"; // validity_days not an integer in 1..policy maximum

export class CertificatePolicyError extends Error {
  override readonly name = "CertificatePolicyError";
  readonly status = 400;

  constructor(
    readonly code: CertificatePolicyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Renders caller-supplied text for an error message: quoted, control characters escaped and
 * length bounded, so a hostile CSR cannot forge log lines or blow up a response.
 */
export function quoteForError(value: string, maxLength = 96): string {
  const clipped = value.length > maxLength ? `${value.slice(0, maxLength)}…` : value;
  return JSON.stringify(clipped).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
