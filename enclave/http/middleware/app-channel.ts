// The authenticated, end-to-end encrypted channel every `/kms/*` route runs in:
//   1. the node must hold the cluster's secret (else 503 with the reason);
//   2. PoP (PROTOCOL.md §3) names the caller — or, outside an enclave only, `x-tee-wallet`;
//   3. the registry must authorize that wallet (§4); its instance's app id is the namespace;
//   4. a request body must be an envelope (§5) from the caller's on-chain teePubkey.
// Handlers answer with `replyToApp` (../app-reply.ts), which seals to the on-chain key under the
// label the caller used and signs over its PoP signature.
import type { Context, MiddlewareHandler } from "hono";
import { hasAnyPopHeader, readPopHeaders, type PopVerifier } from "../../auth/pop-verifier.js";
import type { RegistryAuthorizer } from "../../auth/registry-authorizer.js";
import { canonicalWallet } from "../../crypto/secp256k1.js";
import { forbidden } from "../../errors.js";
import type { ServingKeys } from "../../serving-keys.js";
import type { KmsEnv } from "../context.js";
import { LabelMemory } from "../label-memory.js";
import { takeRequestNonce } from "../../protocol/reply-binding.js";
import type { ServerChannel } from "../server-channel.js";

export interface AppChannelDeps {
  channel: ServerChannel;
  pop: PopVerifier;
  authorizer: Pick<RegistryAuthorizer, "authorize">;
  /** The served secret's keys, or a 503 naming why the node does not serve. */
  requireKeys: () => ServingKeys;
  /** IN_ENCLAVE: the dev shortcut `x-tee-wallet` is refused. */
  inEnclave: boolean;
}

/** @example kms.use("*", appChannel({ channel, pop, authorizer, requireKeys, inEnclave: false })) */
export function appChannel(deps: AppChannelDeps): MiddlewareHandler<KmsEnv> {
  const labels = new LabelMemory();
  return async (c, next) => {
    c.set("keys", deps.requireKeys());
    const wallet = identifyCaller(c, deps);
    const caller = await deps.authorizer.authorize(wallet);
    c.set("caller", caller);
    c.set("channel", deps.channel);
    // A DELETE may come without a body (PROTOCOL.md §12 `DELETE /kms/secrets/<name>`); then it is
    // answered like a GET. Every other method must carry a sealed body.
    const text = c.req.method === "GET" || c.req.method === "HEAD" ? "" : await c.req.text();
    if (text === "" && c.req.method !== "POST" && c.req.method !== "PUT" && c.req.method !== "PATCH") {
      c.set("body", undefined);
      c.set("label", labels.labelFor(wallet));
    } else {
      const opened = await deps.channel.open(text, caller.teePublicKey);
      if (takeRequestNonce(opened.body, c.req.header("x-app-nonce")) === "other_request") {
        throw forbidden("request_nonce is not this request's nonce", "request_nonce_mismatch");
      }
      labels.remember(wallet, opened.label);
      c.set("body", opened.body);
      c.set("label", opened.label);
    }
    await next();
  };
}

function identifyCaller(c: Context<KmsEnv>, deps: AppChannelDeps): string {
  const headers = readPopHeaders("app", (name) => c.req.header(name));
  if (hasAnyPopHeader(headers) || deps.inEnclave) {
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
