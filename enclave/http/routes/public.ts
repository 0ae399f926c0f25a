// Unauthenticated routes: liveness, readiness, nonces, the node list, the CA certificate and
// metrics. Nothing here is trusted by clients or peers (the registry is the trust root).
import { Hono } from "hono";
import type { NonceStore } from "../../auth/nonce-store.js";
import type { NodesView, StatusView } from "../../protocol/views.js";
import type { ServingKeys } from "../../serving-keys.js";
import { clientAddress } from "../middleware/client-address.js";
import { limitRate } from "../middleware/limits.js";
import type { NodeMetrics } from "../metrics.js";

export interface PublicRouteDeps {
  nonces: Pick<NonceStore, "issue">;
  nonceRateLimitPerMinute: number;
  trustProxy: boolean;
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
  app.get(
    "/nonce",
    limitRate({
      perMinute: deps.nonceRateLimitPerMinute,
      key: (c) => clientAddress(c, deps.trustProxy),
      name: "nonce",
    }),
    (c) => c.json({ nonce: deps.nonces.issue() }),
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
