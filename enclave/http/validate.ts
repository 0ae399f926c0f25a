// Validation of decrypted request bodies with zod; the first problem becomes a 400 that names
// the field, so a caller can fix its request without guessing.
import { z } from "zod";
import { base64ToBytes } from "../crypto/bytes.js";
import { badRequest } from "../errors.js";

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join(".") : "body";
    throw badRequest(`Invalid ${field}: ${issue.message}`);
  }
  return parsed.data;
}

/** App ids are uint256 on chain; JSON numbers are exact only up to 2^53, so larger ids go out as strings. */
export function appIdJson(appId: bigint): number | string {
  return appId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(appId) : appId.toString();
}

/**
 * Decodes one `application/x-www-form-urlencoded` component: `+` is a space, then percent-escapes.
 * The Nova runtime's KMS client form-encodes KV keys in the URL path (a space arrives as `+`, `/` as
 * `%2F`), so a plain URI decode would read its "a b" as "a+b" (PROTOCOL.md §9).
 */
export function formDecodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    throw badRequest("Invalid key: malformed percent-encoding");
  }
}

/** A body field of standard padded base64, decoded once while the body is checked. */
export const base64Bytes = z.string().transform((s, ctx) => {
  try {
    return base64ToBytes(s);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be standard base64" });
    return z.NEVER;
  }
});

/** A key or secret version number in a path or query (`…/versions/<n>`, `?version=`); absent stays absent. */
export function versionNumber(raw: string | undefined, what: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > 0xffff_ffff) {
    throw badRequest(`Invalid ${what}: must be a version number`);
  }
  return Number(raw);
}
