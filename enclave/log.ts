// Structured JSON logs. Callers log ids, routes, wallets and reasons — never keys, values,
// secrets or signatures; the redaction list is a second line of defence for fields that
// could carry them if someone logs a whole object by mistake.
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

const REDACTED_FIELDS = [
  "secret",
  "masterSecret",
  "key",
  "value",
  "signature",
  "privateKey",
  "plaintext",
  "ciphertext",
  "headers",
  "*.secret",
  "*.masterSecret",
  "*.key",
  "*.value",
  "*.signature",
  "*.privateKey",
  "*.plaintext",
  "*.ciphertext",
  "*.headers",
];

/** A JSON logger to stdout, or to `destination` (tests capture the lines there). */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { service: "nova-kms", ...bindings },
    redact: { paths: REDACTED_FIELDS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
