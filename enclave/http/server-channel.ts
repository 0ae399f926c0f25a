// The node's half of the signed, end-to-end encrypted channel (PROTOCOL.md §3, §5), for apps
// (`/kms/*`) and peers (`/sync`) alike:
//   open   the exact body text must be an envelope from the caller's registered teePubkey: plaintext
//          JSON → 400 "Request must be E2E encrypted", another sender key → 403, a body that does
//          not decrypt or is not JSON → 400; an enclave-runtime failure passes through (503).
//   reply  the payload plus the caller's PoP signature as `request_signature` (what binds this body
//          to its request, protocol/reply-binding.ts), as canonical JSON, sealed to the caller's
//          registered key under the label its request used, with `NovaKMS:Response:<caller's PoP
//          signature>:<our wallet>` signed into the response header of that channel
//          (protocol/channel.ts: apps x-kms-response-signature, peers x-kms-peer-signature).
//   miss   the signature that proves a KV miss (a 404 the caller can tell from a forged one).
//   public the node's statement about an app's derived public key (GET /derived_public_key).
import type { Context } from "hono";
import { bytesToHex } from "../crypto/bytes.js";
import { EnvelopeFormatError, parseEnvelope, type EnvelopeLabel } from "../crypto/envelope.js";
import { derivedPublicKeyMessage, type DerivedKeyRequest } from "../crypto/derived-public-key.js";
import { appNotFoundMessage } from "../crypto/pop.js";
import { KmsError, badRequest, forbidden } from "../errors.js";
import type { ChannelVariant } from "../protocol/channel.js";
import type { LookupOperation } from "../protocol/operations.js";
import { bindToRequest } from "../protocol/reply-binding.js";
import { sealJson, TeeUnavailableError, type Tee } from "../tee/tee.js";

export const NOT_ENCRYPTED = "Request must be E2E encrypted";

/** An opened request: its inner JSON and the envelope label it came under (the reply uses the same). */
export type OpenedBody = { body: unknown; label: EnvelopeLabel | undefined };

/** Whom a reply goes to: the registered key, the label of the request, the PoP signature it carried. */
export interface ReplyTo {
  publicKey: Uint8Array;
  label: EnvelopeLabel | undefined;
  /** Absent when the dev shortcut `x-tee-wallet` named the caller: there is nothing to sign over. */
  popSignature: string | undefined;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export class ServerChannel {
  constructor(
    private readonly tee: Tee,
    private readonly ownWallet: string,
  ) {}

  /** Decrypts `raw` (the exact body text) sent by the holder of `senderKey` (SEC1) and parses its JSON. */
  async open(raw: string, senderKey: Uint8Array): Promise<OpenedBody> {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new KmsError("not_encrypted", NOT_ENCRYPTED);
    }
    let envelope;
    try {
      envelope = parseEnvelope(json);
    } catch (e) {
      if (!(e instanceof EnvelopeFormatError)) throw e;
      const detail = e.message.startsWith(NOT_ENCRYPTED) ? e.message : `${NOT_ENCRYPTED}: ${e.message}`;
      throw new KmsError("not_encrypted", detail);
    }
    if (bytesToHex(envelope.senderPublicKey) !== bytesToHex(senderKey)) {
      throw forbidden("sender_tee_pubkey does not match the caller's registered teePubkey", "envelope_sender_mismatch");
    }
    let opened;
    try {
      opened = await this.tee.decryptFrom(envelope);
    } catch (e) {
      if (e instanceof TeeUnavailableError) throw e;
      throw badRequest("Envelope could not be decrypted");
    }
    try {
      return { body: JSON.parse(strictUtf8.decode(opened.plaintext)), label: opened.label };
    } catch {
      throw badRequest("Encrypted body is not valid JSON");
    }
  }

  /**
   * Seals `payload`, bound to the request by its PoP signature, to `to` and signs the response over
   * that signature, as `channel` names it. Without a PoP (the dev shortcut) there is nothing to bind.
   */
  async reply(
    c: Context,
    to: ReplyTo,
    payload: Record<string, unknown>,
    channel: Pick<ChannelVariant, "responseSignatureHeader" | "responseMessage">,
    status: 200 | 201 = 200,
  ): Promise<Response> {
    const { popSignature } = to;
    const sealed = popSignature === undefined ? payload : bindToRequest(payload, popSignature);
    const envelope = await sealJson(this.tee, to.publicKey, sealed, to.label);
    if (popSignature !== undefined) {
      const message = channel.responseMessage(popSignature, this.ownWallet);
      c.header(channel.responseSignatureHeader, await this.tee.signMessage(message));
    }
    return c.json(envelope, status);
  }

  /** Our signature over `NovaKMS:NotFound:…`: that, answering the request signed `popSignature`, `key` was absent. */
  signNotFound(popSignature: string, operation: LookupOperation, key: string): Promise<string> {
    return this.tee.signMessage(appNotFoundMessage(popSignature, this.ownWallet, operation, key));
  }

  /** Our wallet and signature over `NovaKMS:DerivedPublicKey:…`: `address` is `request`'s derived key's address. */
  async signDerivedPublicKey(
    request: DerivedKeyRequest,
    address: string,
  ): Promise<{ nodeWallet: string; signature: string }> {
    const signature = await this.tee.signMessage(derivedPublicKeyMessage(request, address));
    return { nodeWallet: this.ownWallet, signature };
  }
}
