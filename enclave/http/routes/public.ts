// Unauthenticated routes: liveness, readiness, nonces, the node list, the CA certificate and
// metrics. Nothing here is trusted by clients or peers (the registry is the trust root).
import { type Context, Hono } from "hono";
import type { NoncePools } from "../../auth/nonce-pools.js";
import type { ChannelKind } from "../../protocol/channel.js";
import type { NodesView, StatusView } from "../../protocol/views.js";
import type { ServingKeys } from "../../serving-keys.js";
import { limitRate } from "../middleware/limits.js";
import { nonceKind } from "../middleware/traffic-kind.js";
import type { NodeMetrics } from "../metrics.js";

export interface PublicRouteDeps {
  nonces: Pick<NoncePools, "issue">;
  /** `/nonce` per client address and minute, for each pool (0 = no limit). */
  nonceRateLimitPerMinute: Readonly<Record<ChannelKind, number>>;
  /** The address a request counts against (middleware/client-address.ts). */
  clientAddress: (c: Context) => string;
  /** The served secret's keys (for the CA), or a 503 naming why the node does not serve. */
  requireKeys: () => ServingKeys;
  metrics: Pick<NodeMetrics, "registry">;
  views: { status(): StatusView; nodes(): NodesView };
}

export function publicRoutes(deps: PublicRouteDeps) {
  const app = new Hono();
  app.get("/health", (c) => c.json({ status: "healthy" }));
  app.get("/status", (c) => c.json(deps.views.status()));
  app.get("/nodes", (c) => c.json(deps.views.nodes()));
  // Apps ask `GET /nonce`, peers `GET /nonce?for=peer`: a pool and a limit each.
  const nonceLimits = {
    app: limitRate({ perMinute: deps.nonceRateLimitPerMinute.app, key: deps.clientAddress, name: "nonce" }),
    peer: limitRate({ perMinute: deps.nonceRateLimitPerMinute.peer, key: deps.clientAddress, name: "peer nonce" }),
  };
  app.get(
    "/nonce",
    (c, next) => nonceLimits[nonceKind(c)](c, next),
    (c) => c.json({ nonce: deps.nonces.issue(nonceKind(c)) }),
  );
  app.get("/kms/ca", (c) => {
    const keys = deps.requireKeys();
    c.header("content-type", "application/x-pem-file");
    return c.body(keys.ca.certificatePem);
  });
  app.get("/metrics", async (c) => {
    c.header("content-type", deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
  return app;
}
