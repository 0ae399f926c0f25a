// The address rate limits are keyed by. X-Forwarded-For is a client-chosen header, so it is
// honoured only when the operator says a trusted proxy sets it (TRUST_PROXY=true).
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // Requests dispatched in-process (app.request in tests) have no socket.
    return "local";
  }
}
