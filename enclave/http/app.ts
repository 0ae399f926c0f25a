// The node's HTTP surface (PROTOCOL.md §9): public routes, then `/kms/*` behind rate limits,
// body limits and the authenticated encrypted channel. Assembly only; each concern lives in
// its own middleware or route module.
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { HttpDeps, KmsEnv } from "./context.js";
import { appChannel } from "./middleware/app-channel.js";
import { clientAddress } from "./middleware/client-address.js";
import { errorResponse, handleError } from "./middleware/errors.js";
import { limitBody, limitRate, limitTime } from "./middleware/limits.js";
import { certificateRoutes } from "./routes/certificates.js";
import { deriveRoutes } from "./routes/derive.js";
import { kvRoutes } from "./routes/kv.js";
import { publicRoutes } from "./routes/public.js";

export interface ExtraRoutes {
  /** Mounted under /kms behind the app channel (KV, certificates). */
  kms?: Array<{ mount: (kms: Hono<KmsEnv>) => void }>;
  /** Mounted at the root (peer sync). */
  root?: Array<{ mount: (root: Hono) => void }>;
}

export function createHttpApp(deps: HttpDeps, extra: ExtraRoutes = {}): Hono {
  const { config } = deps;
  const app = new Hono();
  app.onError(handleError(deps.log));
  app.notFound((c) => errorResponse(c, 404, "not_found", "no such route"));
  app.use("*", deps.metrics.middleware());
  app.use("*", requestId());
  app.use("*", secureHeaders());
  app.use("*", limitTime(config.REQUEST_TIMEOUT_MS));
  app.use(
    "*",
    limitRate({ perMinute: config.RATE_LIMIT_PER_MINUTE, key: (c) => clientAddress(c, config.TRUST_PROXY), name: "client" }),
  );

  // The outer cap fits a KV write of a 1 MiB value (≈2.8 MB once base64 → envelope hex → JSON)
  // and a sync batch; routes whose bodies are small get the tighter MAX_BODY_BYTES below.
  app.use("*", limitBody(config.MAX_KV_BODY_BYTES));

  app.route("/", publicRoutes(deps));

  const kms = new Hono<KmsEnv>();
  for (const smallBodyRoute of ["/derive", "/sign_cert"]) kms.use(smallBodyRoute, limitBody(config.MAX_BODY_BYTES));
  kms.use("*", appChannel(deps));
  kms.use(
    "*",
    limitRate({ perMinute: config.APP_RATE_LIMIT_PER_MINUTE, key: (c) => `app:${c.get("caller").appId}`, name: "app" }),
  );
  kms.route("/", deriveRoutes(deps));
  kms.route("/", certificateRoutes(deps));
  kms.route("/", kvRoutes(deps, () => deps.store()));
  for (const route of extra.kms ?? []) route.mount(kms);
  app.route("/kms", kms);

  for (const route of extra.root ?? []) route.mount(app);
  return app;
}
