// Structured JSON logs. Callers log ids, routes, wallets and reasons — never keys, values,
// secrets or signatures; the redaction list is a second line of defence for fields that
// could carry them if someone logs a whole object by mistake.
import { pino, type Logger } from "pino";

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

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: "nova-kms", ...bindings },
    redact: { paths: REDACTED_FIELDS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
