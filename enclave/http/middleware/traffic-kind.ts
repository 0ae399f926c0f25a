// Whose traffic a request is, for rate limits: a peer's (/sync, and the nonces peers fetch with
// `GET /nonce?for=peer`) or an app's (everything else). Budgets keyed by kind and address keep an
// app flood from one address from using up what peers behind that address need, and the reverse.
// Apps keep sending a plain `GET /nonce` (PROTOCOL.md §2), so nothing changes for them.
import type { Context } from "hono";
import type { ChannelKind } from "../../protocol/channel.js";

/** The query parameter by which a peer asks for a nonce of the peer pool. */
export const PEER_NONCE_QUERY = { name: "for", value: "peer" } as const;

/** The pool a `GET /nonce` draws from; any other or no `for` value means the app pool. */
export function nonceKind(c: Context): ChannelKind {
  return c.req.query(PEER_NONCE_QUERY.name) === PEER_NONCE_QUERY.value ? "peer" : "app";
}

export function trafficKind(c: Context): ChannelKind {
  if (c.req.path === "/sync") return "peer";
  if (c.req.path === "/nonce") return nonceKind(c);
  return "app";
}
