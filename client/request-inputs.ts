// Turning the SDK's arguments into §12 wire values. Only what the SDK itself relies on is checked
// here — the path a name builds, the numbers a reply is compared with — everything else (sizes,
// label rules, purposes) is the node's to judge, so the rules live in one place.
import { bytesToBase64, utf8 } from "../enclave/crypto/bytes.js";
import { OPERATIONS } from "../enclave/protocol/operations.js";
import { KmsClientError } from "./errors.js";
import type { SignedRequest } from "./signed-request.js";

/** Bytes, or a string taken as its UTF-8 encoding. */
export type BinaryInput = Uint8Array | string;

export interface PageRequest {
  /** 1..1000; the node's default is 100. */
  pageSize?: number;
  /** `nextPageToken` of the previous page. */
  pageToken?: string;
}

export const DEFAULT_PAGE_SIZE = 100;

export function bytesOf(input: BinaryInput): Uint8Array {
  return typeof input === "string" ? utf8(input) : input;
}

export function base64Of(input: BinaryInput): string {
  return bytesToBase64(bytesOf(input));
}

/** Optional bytes as base64, undefined staying undefined (so the field is left out of the body). */
export function optionalBase64(input: BinaryInput | undefined): string | undefined {
  return input === undefined ? undefined : base64Of(input);
}

/**
 * A key or secret name as one URL path segment. "." and ".." match the name pattern but URL parsers
 * resolve them as dot segments (also when percent-encoded), so the request would reach another
 * route: refused here rather than sent somewhere unintended.
 */
export function nameSegment(name: string, what = "name"): string {
  if (typeof name !== "string" || name.length === 0) throw new KmsClientError(`${what} must be a non-empty string`);
  if (name === "." || name === "..")
    throw new KmsClientError(`${what} "${name}" cannot be used in a URL path (dot segment)`);
  return encodeURIComponent(name);
}

export function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new KmsClientError(`${what} must be a positive integer`);
  return value;
}

/** The page size that will be asked (the reply is held to it) and the query string that asks it. */
export function pageQuery(page: PageRequest = {}): { pageSize: number; query: string } {
  const pageSize = positiveInteger(page.pageSize ?? DEFAULT_PAGE_SIZE, "pageSize");
  const params = new URLSearchParams({ page_size: String(pageSize) });
  if (page.pageToken !== undefined) params.set("page_token", page.pageToken);
  return { pageSize, query: `?${params.toString()}` };
}

/** A 32-byte digest as the wire's hex: bytes, or hex text with an optional 0x. */
export function digestHex(digest: Uint8Array | string): string {
  if (typeof digest !== "string") return Buffer.from(digest).toString("hex");
  const hex = digest.startsWith("0x") || digest.startsWith("0X") ? digest.slice(2) : digest;
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new KmsClientError("digest must be hex (optionally 0x-prefixed)");
  return hex.toLowerCase();
}

/**
 * Follows page tokens from the first page to the last. A node that hands back a token it already
 * gave would loop forever; that ends the walk with an error instead.
 */
export async function* allPages<T>(
  fetchPage: (pageToken: string | undefined) => Promise<{ items: T[]; nextPageToken?: string }>,
): AsyncGenerator<T> {
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    yield* page.items;
    token = page.nextPageToken;
    if (token !== undefined) {
      if (seen.has(token)) throw new KmsClientError("the node repeated a page token; listing stopped");
      seen.add(token);
    }
  } while (token !== undefined);
}

/**
 * The question a proven 404 of a named key or secret route answers (PROTOCOL.md §12; the node signs
 * its misses over the request and the name): the name, read back from the path this SDK built.
 */
export function lookupOfPath(path: string): SignedRequest["lookup"] {
  const match = /^\/kms\/(keys|secrets)\/([^/?]+)/.exec(path);
  if (!match) return undefined;
  const operation = match[1] === "keys" ? OPERATIONS.keysLookup : OPERATIONS.secretsLookup;
  return { operation, key: decodeURIComponent(match[2]!) };
}
