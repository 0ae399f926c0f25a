// The requesting side of the master-secret transfer (PROTOCOL.md §7): a node whose secret does
// not match the chain asks peers, over a fresh P-384 key per request, and accepts only a
// secret whose keccak256 is the on-chain hash — a peer cannot talk it into another secret. The
// answering peer's URL is returned too (/status `synced_from`).
import type { Hex } from "viem";
import { bytesToHex } from "../crypto/bytes.js";
import { generateP384KeyPair, p384SpkiFromSec1 } from "../crypto/p384.js";
import { openSealedMasterSecret } from "../crypto/sealed-transfer.js";
import type { Logger } from "../log.js";
import { masterSecretHashOf } from "./master-secret.js";
import type { PeerClient } from "./peer-client.js";
import type { PeerInfo } from "./peer-directory.js";

export async function fetchMasterSecretFromPeers(args: {
  client: PeerClient;
  peers: readonly PeerInfo[];
  expectedHash: Hex;
  log: Logger;
}): Promise<{ secret: Uint8Array; from: string } | undefined> {
  for (const peer of args.peers) {
    try {
      const requestKey = generateP384KeyPair();
      const reply = await args.client.call(peer, {
        type: "master_secret_request",
        ecdh_pubkey: bytesToHex(p384SpkiFromSec1(requestKey.publicKey)),
      });
      if (reply?.status !== "ok") throw new Error("peer did not return a sealed secret");
      const secret = openSealedMasterSecret({ requesterPrivateKey: requestKey.privateKey, sealed: reply.sealed });
      if (masterSecretHashOf(secret) !== args.expectedHash.toLowerCase()) {
        args.log.warn({ peer: peer.wallet }, "peer returned a secret that does not match the on-chain hash");
        continue;
      }
      return { secret, from: peer.url };
    } catch (e) {
      args.log.info(
        { peer: peer.wallet, err: (e as Error).message.split("\n")[0] },
        "master secret request to peer failed",
      );
    }
  }
  return undefined;
}
