// Unauthenticated routes: liveness, readiness, nonces, the node list, the CA certificate and
// metrics. Nothing here is trusted by clients or peers (the registry is the trust root).
import { Hono } from "hono";
import type { HttpDeps } from "../context.js";
import { clientAddress } from "../middleware/client-address.js";
import { limitRate } from "../middleware/limits.js";
import { errorResponse } from "../middleware/errors.js";

export function publicRoutes(deps: HttpDeps) {
  const app = new Hono();
  app.get("/health", (c) => c.json({ status: "healthy" }));
  app.get("/status", async (c) => c.json(await deps.status()));
  app.get("/nodes", async (c) => c.json(await deps.nodes()));
  app.get(
    "/nonce",
    limitRate({
      perMinute: deps.config.NONCE_RATE_LIMIT_PER_MINUTE,
      key: (c) => clientAddress(c, deps.config.TRUST_PROXY),
      name: "nonce",
    }),
    (c) => c.json({ nonce: deps.nonces.issue() }),
  );
  app.get("/kms/ca", (c) => {
    const keys = deps.servingKeys();
    if (!keys) return errorResponse(c, 503, "service_unavailable", `Service not ready: ${deps.unavailableReason()}`);
    c.header("content-type", "application/x-pem-file");
    return c.body(keys.ca.certificatePem);
  });
  app.get("/metrics", async (c) => {
    c.header("content-type", deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
  return app;
}
