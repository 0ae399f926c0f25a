// Opening an enveloped request body (PROTOCOL.md §5), shared by the app channel and /sync:
// plaintext JSON → 400 "Request must be E2E encrypted"; an envelope from any key but the caller's
// registered one → 403; a body that does not decrypt or is not JSON → 400. An enclave-runtime
// failure passes through (it becomes 503).
import { bytesToHex } from "../crypto/bytes.js";
import { EnvelopeFormatError, parseEnvelope, type EnvelopeLabel } from "../crypto/envelope.js";
import { KmsError, badRequest, forbidden } from "../errors.js";
import { OdynError } from "../tee/odyn.js";
import type { Tee } from "../tee/tee.js";

export const NOT_ENCRYPTED = "Request must be E2E encrypted";

/** An opened request: its inner JSON and the envelope label it came under (the reply uses the same). */
export type OpenedBody = { body: unknown; label: EnvelopeLabel | undefined };

/** Decrypts `raw` (the exact body text) sent by the holder of `senderKey` (SEC1) and parses its JSON. */
export async function openSealedBody(tee: Tee, raw: string, senderKey: Uint8Array): Promise<OpenedBody> {
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
    if (e instanceof EnvelopeFormatError) {
      const detail = e.message.startsWith(NOT_ENCRYPTED) ? e.message : `${NOT_ENCRYPTED}: ${e.message}`;
      throw new KmsError("not_encrypted", detail);
    }
    throw e;
  }
  if (bytesToHex(envelope.senderPublicKey) !== bytesToHex(senderKey)) {
    throw forbidden("sender_tee_pubkey does not match the caller's registered teePubkey", "envelope_sender_mismatch");
  }
  let opened;
  try {
    opened = await tee.decryptFrom(envelope);
  } catch (e) {
    if (e instanceof OdynError) throw e;
    throw badRequest("Envelope could not be decrypted");
  }
  try {
    return { body: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(opened.plaintext)), label: opened.label };
  } catch {
    throw badRequest("Encrypted body is not valid JSON");
  }
}
