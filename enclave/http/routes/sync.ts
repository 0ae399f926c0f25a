// POST /sync (PROTOCOL.md §10): node-to-node messages. Transport checks, in order:
//   peer PoP (x-kms-*) → the signer is a registered, ACTIVE, zkVerified, non-revoked instance of
//   KMS_APP_ID → x-sync-signature HMAC over the exact body (required for every type but
//   master_secret_request) → envelope from the peer's on-chain key → inner sender_wallet = signer.
// Only then does the cluster's SyncHandler see the message. Replies are sealed to the peer's
// on-chain key and signed over its PoP signature (x-kms-peer-signature).
import { Hono } from "hono";
import { readPopHeaders } from "../../auth/pop-verifier.js";
import { hexToBytes, utf8 } from "../../crypto/bytes.js";
import { verifyHmacSha256 } from "../../crypto/hmac.js";
import { peerResponseMessage } from "../../crypto/pop.js";
import { KmsError, badRequest, forbidden } from "../../errors.js";
import type { SyncHandler } from "../../cluster/sync-handler.js";
import { syncMessage } from "../../cluster/sync-messages.js";
import type { HttpDeps } from "../context.js";
import { openSealedBody } from "../sealed-body.js";
import { sealJson } from "../../tee/tee.js";

export function syncRoutes(deps: HttpDeps, handler: SyncHandler) {
  return new Hono().post("/sync", async (c) => {
    const pop = deps.pop.verify("peer", readPopHeaders("peer", (name) => c.req.header(name)));
    const peer = await deps.authorizer.authorize(pop.wallet);
    if (peer.appId !== deps.config.KMS_APP_ID) throw forbidden("Not a KMS node", "sync_not_kms_member");

    const raw = await c.req.text();
    const macHeader = c.req.header("x-sync-signature");
    const macValid = macHeader !== undefined && checkMac(deps, raw, macHeader);
    if (macHeader !== undefined && !macValid) throw forbidden("Invalid sync signature", "sync_bad_hmac");

    const opened = await openSealedBody(deps.tee, raw, peer.teePublicKey);
    const parsed = syncMessage.safeParse(opened.body);
    if (!parsed.success) throw badRequest(`Invalid sync message: ${parsed.error.issues[0]?.message ?? "malformed"}`);
    const message = parsed.data;
    if (message.sender_wallet.toLowerCase() !== pop.wallet) throw forbidden("sender_wallet does not match the signer", "sync_sender_mismatch");
    if (message.type !== "master_secret_request" && !macValid) throw forbidden("Missing sync signature", "sync_missing_hmac");

    const reply = await handler.handle(message, peer);
    const envelope = await sealJson(deps.tee, peer.teePublicKey, reply, opened.label);
    c.header("x-kms-peer-signature", await deps.tee.signMessage(peerResponseMessage(pop.signature, deps.ownWallet)));
    return c.json(envelope);
  });
}

function checkMac(deps: HttpDeps, raw: string, macHex: string): boolean {
  const keys = deps.servingKeys();
  if (!keys) throw new KmsError("service_unavailable", `Service not ready: ${deps.unavailableReason()}`);
  try {
    return verifyHmacSha256(keys.syncMacKey, utf8(raw), hexToBytes(macHex));
  } catch {
    return false;
  }
}
