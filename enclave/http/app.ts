// The node's HTTP surface (PROTOCOL.md §9, §10, §12): public routes (with the derived public key),
// peer /sync, then `/kms/*` behind rate limits, body limits and the authenticated encrypted channel.
// Assembly only; each concern lives in its own middleware or route module.
import { type Context, Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { HttpDeps, KmsEnv, RootEnv } from "./context.js";
import { accessLog } from "./middleware/access-log.js";
import { appChannel } from "./middleware/app-channel.js";
import { clientAddress } from "./middleware/client-address.js";
import { errorResponse, handleError } from "./middleware/errors.js";
import { limitBody, limitRate, limitTime } from "./middleware/limits.js";
import { trafficKind } from "./middleware/traffic-kind.js";
import { certificateRoutes } from "./routes/certificates.js";
import { deriveRoutes } from "./routes/derive.js";
import { derivedPublicKeyRoutes } from "./routes/derived-public-key.js";
import { keyRoutes } from "./routes/keys.js";
import { kvRoutes } from "./routes/kv.js";
import { secretRoutes } from "./routes/secrets.js";
import { publicRoutes } from "./routes/public.js";
import { syncRoutes } from "./routes/sync.js";

export function createHttpApp(deps: HttpDeps): Hono<RootEnv> {
  const { config, serving } = deps;
  const requireKeys = () => serving.requireKeys();
  const address = (c: Context) => clientAddress(c, { trusted: config.TRUST_PROXY, hops: config.TRUST_PROXY_HOPS });
  const app = new Hono<RootEnv>();
  app.onError(handleError(deps.log));
  app.notFound((c) => errorResponse(c, 404, "not_found", "no such route"));
  app.use("*", deps.metrics.middleware());
  app.use("*", accessLog(deps.log));
  app.use("*", requestId());
  app.use("*", secureHeaders());
  app.use("*", limitTime(config.REQUEST_TIMEOUT_MS));
  // Apps and peers at one address count apart, so neither can use up the other's budget.
  app.use(
    "*",
    limitRate({
      perMinute: config.RATE_LIMIT_PER_MINUTE,
      key: (c) => `${trafficKind(c)}:${address(c)}`,
      name: "client",
    }),
  );

  app.route(
    "/",
    publicRoutes({
      nonces: deps.nonces,
      nonceRateLimitPerMinute: {
        app: config.NONCE_RATE_LIMIT_PER_MINUTE,
        peer: config.PEER_NONCE_RATE_LIMIT_PER_MINUTE,
      },
      clientAddress: address,
      requireKeys,
      metrics: deps.metrics,
      views: deps.views,
    }),
  );
  app.route("/", derivedPublicKeyRoutes({ requireKeys, signer: deps.channel }));

  // Peer batches are bounded by the sender (a 1 MiB value goes alone, ≈2.8 MB on the wire).
  app.use("/sync", limitBody(config.SYNC_MAX_BODY_BYTES));
  app.route(
    "/",
    syncRoutes({
      channel: deps.channel,
      pop: deps.pop,
      authorizer: deps.authorizer,
      kmsAppId: config.KMS_APP_ID,
      syncMacKey: () => requireKeys().syncMacKey,
      handler: deps.sync,
    }),
  );

  const kms = new Hono<KmsEnv>();
  // A KV write carries up to a 1 MiB value (≈2.8 MB once base64 → envelope hex → JSON);
  // routes whose bodies are small get the tighter MAX_BODY_BYTES.
  kms.use("*", limitBody(config.MAX_KV_BODY_BYTES));
  for (const smallBodyRoute of ["/derive", "/sign_cert"]) kms.use(smallBodyRoute, limitBody(config.MAX_BODY_BYTES));
  kms.use(
    "*",
    appChannel({
      channel: deps.channel,
      pop: deps.pop,
      authorizer: deps.authorizer,
      requireKeys,
      inEnclave: config.IN_ENCLAVE,
    }),
  );
  // Keyed on the verified caller, so one app instance's retries or flood cannot use up the budget of
  // other apps behind the same address.
  kms.use(
    "*",
    limitRate({
      perMinute: config.WALLET_RATE_LIMIT_PER_MINUTE,
      key: (c) => `wallet:${c.get("caller").wallet}`,
      name: "wallet",
    }),
  );
  kms.use(
    "*",
    limitRate({ perMinute: config.APP_RATE_LIMIT_PER_MINUTE, key: (c) => `app:${c.get("caller").appId}`, name: "app" }),
  );
  kms.route("/", deriveRoutes());
  kms.route("/", certificateRoutes());
  kms.route("/", kvRoutes({ store: () => serving.requireStore(), metrics: deps.metrics, replicated: deps.replicated }));
  kms.route("/", keyRoutes({ keys: deps.keys }));
  kms.route("/", secretRoutes({ secrets: deps.secrets }));
  app.route("/kms", kms);
  return app;
}
