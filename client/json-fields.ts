// Readers for the fields of a decrypted reply, shared by every route's parser (responses.ts,
// key-responses.ts, secret-responses.ts). Each names the field it refused and never the value, so
// an error message cannot leak a key, a plaintext or a secret into a log.
import { base64ToBytes } from "../enclave/crypto/bytes.js";

export class ResponseShapeError extends Error {
  override name = "ResponseShapeError";
}

export type Fields = Record<string, unknown>;

export function object(payload: unknown, what = "payload"): Fields {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload))
    throw new ResponseShapeError(`${what} is not a JSON object`);
  return payload as Fields;
}

export function str(o: Fields, field: string): string {
  const v = o[field];
  if (typeof v !== "string") throw new ResponseShapeError(`field ${field} is not a string`);
  return v;
}

export function int(o: Fields, field: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw new ResponseShapeError(`field ${field} is not a non-negative integer`);
  return v;
}

/** Version numbers start at 1: a 0 or a fraction is a node speaking another protocol. */
export function positiveInt(o: Fields, field: string): number {
  const v = int(o, field);
  if (v < 1) throw new ResponseShapeError(`field ${field} is not a positive integer`);
  return v;
}

export function bool(o: Fields, field: string): boolean {
  const v = o[field];
  if (typeof v !== "boolean") throw new ResponseShapeError(`field ${field} is not a boolean`);
  return v;
}

export function b64(o: Fields, field: string): Uint8Array {
  try {
    return base64ToBytes(str(o, field));
  } catch (e) {
    if (e instanceof ResponseShapeError) throw e;
    throw new ResponseShapeError(`field ${field} is not standard base64`);
  }
}

/** Lower-case hex without `0x`, as §12 answers carry signatures and MACs. */
export function hex(o: Fields, field: string): string {
  const v = str(o, field);
  if (v.length === 0 || v.length % 2 !== 0 || !/^[0-9a-f]*$/.test(v))
    throw new ResponseShapeError(`field ${field} is not lower-case hex`);
  return v;
}

/** An optional field: absent (or undefined) stays undefined, anything else must pass `read`. */
export function optional<T>(o: Fields, field: string, read: (o: Fields, field: string) => T): T | undefined {
  return o[field] === undefined ? undefined : read(o, field);
}

/** A field that repeats the request must equal what was asked (values stay out of the message). */
export function asked<T>(field: string, got: T, want: T): T {
  if (got !== want) throw new ResponseShapeError(`field ${field} is not what the request asked for`);
  return got;
}

function list(o: Fields, field: string): unknown[] {
  const v = o[field];
  if (!Array.isArray(v)) throw new ResponseShapeError(`field ${field} is not a list`);
  return v;
}

/** A page no longer than asked, and a next token that is a non-empty string when present. */
export function pageOf<T>(
  o: Fields,
  field: string,
  pageSize: number,
  item: (x: unknown) => T,
): { items: T[]; nextPageToken?: string } {
  const items = list(o, field);
  if (items.length > pageSize) throw new ResponseShapeError(`field ${field} holds more than the ${pageSize} asked`);
  const nextPageToken = optional(o, "next_page_token", str);
  if (nextPageToken === "") throw new ResponseShapeError("field next_page_token is empty");
  return { items: items.map(item), ...(nextPageToken === undefined ? {} : { nextPageToken }) };
}
