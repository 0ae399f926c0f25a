// Paging parameters of list routes (PROTOCOL.md §12): `page_size` 1..1000 (default 100) and an
// opaque `page_token` — base64url of the last name (or version) the previous page returned, so a
// page starts strictly after it and every item appears exactly once even if others are added.
import { badRequest } from "../../errors.js";
import { KEY_NAME_PATTERN } from "../../keys/purpose.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export function pageSizeOf(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  if (!/^[0-9]{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE_SIZE) {
    throw badRequest(`Invalid page_size: must be an integer in 1..${MAX_PAGE_SIZE}`);
  }
  return Number(raw);
}

export function encodePageToken(last: string): string {
  return Buffer.from(last, "utf8").toString("base64url");
}

export function decodePageToken(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  const last = /^[A-Za-z0-9_-]{1,400}$/.test(raw) ? Buffer.from(raw, "base64url").toString("utf8") : "";
  if (!KEY_NAME_PATTERN.test(last)) throw badRequest("Invalid page_token");
  return last;
}

/** The `next_page_token` field of a page's answer: present only when there is a next page. */
export function nextPageField(nextAfter: string | number | undefined): { next_page_token?: string } {
  return nextAfter === undefined ? {} : { next_page_token: encodePageToken(String(nextAfter)) };
}
