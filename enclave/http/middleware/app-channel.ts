// The authenticated, end-to-end encrypted channel every `/kms/*` route runs in:
//   1. the node must hold the cluster's secret (else 503 with the reason);
//   2. PoP (PROTOCOL.md §3) names the caller — or, outside an enclave only, `x-tee-wallet`;
//   3. the registry must authorize that wallet (§4); its instance's app id is the namespace;
//   4. a request body must be an envelope (§5) from the caller's on-chain teePubkey.
// Handlers then answer with `replySealed`, which encrypts to the on-chain key (never to a key
// taken from the request) under the envelope label the caller used, and signs the response over
// the caller's PoP signature.
import type { Context, MiddlewareHandler } from "hono";
import { hasAnyPopHeader, readPopHeaders } from "../../auth/pop-verifier.js";
import { appResponseMessage } from "../../crypto/pop.js";
import { canonicalWallet } from "../../crypto/secp256k1.js";
import { KmsError, forbidden } from "../../errors.js";
import type { HttpDeps, KmsEnv } from "../context.js";
import { LabelMemory } from "../label-memory.js";
import { openSealedBody } from "../sealed-body.js";
import { sealJson } from "../../tee/tee.js";

/** @example app.use("/kms/*", appChannel(deps)) */
export function appChannel(deps: HttpDeps): MiddlewareHandler<KmsEnv> {
  const labels = new LabelMemory();
  return async (c, next) => {
    const keys = deps.servingKeys();
    if (!keys) throw new KmsError("service_unavailable", `Service not ready: ${deps.unavailableReason()}`);
    c.set("keys", keys);

    const wallet = identifyCaller(c, deps);
    const caller = await deps.authorizer.authorize(wallet);
    c.set("caller", caller);
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      c.set("body", undefined);
      c.set("label", labels.labelFor(wallet));
    } else {
      const opened = await openSealedBody(deps.tee, await c.req.text(), caller.teePublicKey);
      labels.remember(wallet, opened.label);
      c.set("body", opened.body);
      c.set("label", opened.label);
    }
    await next();
  };
}

function identifyCaller(c: Context<KmsEnv>, deps: HttpDeps): string {
  const headers = readPopHeaders("app", (name) => c.req.header(name));
  if (hasAnyPopHeader(headers) || deps.config.IN_ENCLAVE) {
    const pop = deps.pop.verify("app", headers);
    c.set("pop", pop);
    return pop.wallet;
  }
  const devWallet = c.req.header("x-tee-wallet");
  if (!devWallet) throw forbidden("Missing proof-of-possession headers", "pop_missing_headers");
  c.set("pop", undefined);
  try {
    return canonicalWallet(devWallet);
  } catch {
    throw forbidden("Malformed x-tee-wallet header", "dev_wallet_malformed");
  }
}

/**
 * Seals `payload` (canonical JSON) to the caller's on-chain teePubkey and adds the response
 * signature `NovaKMS:Response:<x-app-signature>:<node wallet>` when the caller used PoP.
 */
export async function replySealed(c: Context<KmsEnv>, deps: HttpDeps, payload: unknown, status: 200 | 201 = 200): Promise<Response> {
  const envelope = await sealJson(deps.tee, c.get("caller").teePublicKey, payload, c.get("label"));
  const pop = c.get("pop");
  if (pop) {
    c.header("x-kms-response-signature", await deps.tee.signMessage(appResponseMessage(pop.signature, deps.ownWallet)));
  }
  return c.json(envelope, status);
}
