// The address rate limits are keyed by. X-Forwarded-For is a list every hop appends to, and its
// leftmost entries are whatever the client wrote, so it is honoured only when the operator says
// trusted proxies front the node (TRUST_PROXY=true), and then only the entry the outermost trusted
// proxy appended: the N-th from the right with N trusted hops (TRUST_PROXY_HOPS, PROTOCOL.md §2).
import { isIP } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

export interface ProxyTrust {
  /** TRUST_PROXY: a trusted proxy sets X-Forwarded-For. */
  trusted: boolean;
  /** TRUST_PROXY_HOPS: how many trusted proxies append to it (≥ 1). */
  hops: number;
}

/**
 * The address the `hops`-th proxy from us saw, from an X-Forwarded-For value; undefined when the
 * list is shorter or that entry is not an IP address (then nothing in the header can be trusted).
 *
 * @example forwardedClient("6.6.6.6, 203.0.113.7", 1) // "203.0.113.7"
 */
export function forwardedClient(header: string | undefined, hops: number): string | undefined {
  if (header === undefined) return undefined;
  const entries = header.split(",").map((entry) => entry.trim());
  const entry = entries[entries.length - hops];
  return entry !== undefined && isIP(entry) !== 0 ? entry : undefined;
}

/** The client's address as the trusted proxy reported it, else the socket's peer. */
export function clientAddress(c: Context, proxy: ProxyTrust): string {
  if (proxy.trusted) {
    const forwarded = forwardedClient(c.req.header("x-forwarded-for"), proxy.hops);
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // Requests dispatched in-process (app.request in tests) have no socket.
    return "local";
  }
}
