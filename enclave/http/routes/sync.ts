// POST /sync (PROTOCOL.md §10): node-to-node messages. Transport checks, in order:
//   peer PoP (x-kms-*) → the signer is a registered, ACTIVE, zkVerified, non-revoked instance of
//   KMS_APP_ID → x-sync-signature HMAC over the exact body (required for every type but
//   master_secret_request) → envelope from the peer's on-chain key → inner sender_wallet = signer.
// Only then does the cluster's SyncHandler see the message. Replies go back through the same
// server channel as app replies, signed into x-kms-peer-signature.
import { Hono } from "hono";
import { readPopHeaders, type PopVerifier } from "../../auth/pop-verifier.js";
import type { RegistryAuthorizer } from "../../auth/registry-authorizer.js";
import type { SyncHandler } from "../../cluster/sync-handler.js";
import { syncMessage } from "../../cluster/sync-messages.js";
import { hexToBytes, utf8 } from "../../crypto/bytes.js";
import { verifyHmacSha256 } from "../../crypto/hmac.js";
import { badRequest, forbidden } from "../../errors.js";
import { PEER_CHANNEL } from "../../protocol/channel.js";
import type { ServerChannel } from "../server-channel.js";

export interface SyncRouteDeps {
  channel: ServerChannel;
  pop: PopVerifier;
  authorizer: Pick<RegistryAuthorizer, "authorize">;
  kmsAppId: bigint;
  /** The sync HMAC key of the served secret, or a 503 naming why the node does not serve. */
  syncMacKey: () => Uint8Array;
  handler: SyncHandler;
}

export function syncRoutes(deps: SyncRouteDeps) {
  return new Hono().post("/sync", async (c) => {
    const pop = deps.pop.verify(
      "peer",
      readPopHeaders("peer", (name) => c.req.header(name)),
    );
    const peer = await deps.authorizer.authorize(pop.wallet);
    if (peer.appId !== deps.kmsAppId) throw forbidden("Not a KMS node", "sync_not_kms_member");

    const raw = await c.req.text();
    const macHeader = c.req.header("x-sync-signature");
    const macValid = macHeader !== undefined && macMatches(deps.syncMacKey(), raw, macHeader);
    if (macHeader !== undefined && !macValid) throw forbidden("Invalid sync signature", "sync_bad_hmac");

    const opened = await deps.channel.open(raw, peer.teePublicKey);
    const parsed = syncMessage.safeParse(opened.body);
    if (!parsed.success) throw badRequest(`Invalid sync message: ${parsed.error.issues[0]?.message ?? "malformed"}`);
    const message = parsed.data;
    if (message.sender_wallet.toLowerCase() !== pop.wallet) {
      throw forbidden("sender_wallet does not match the signer", "sync_sender_mismatch");
    }
    if (message.type !== "master_secret_request" && !macValid)
      throw forbidden("Missing sync signature", "sync_missing_hmac");

    const reply = await deps.handler.handle(message, peer);
    const to = { publicKey: peer.teePublicKey, label: opened.label, popSignature: pop.signature };
    return deps.channel.reply(c, to, reply, PEER_CHANNEL);
  });
}

function macMatches(key: Uint8Array, raw: string, macHex: string): boolean {
  try {
    return verifyHmacSha256(key, utf8(raw), hexToBytes(macHex));
  } catch {
    return false;
  }
}
