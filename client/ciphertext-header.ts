// Which key and version an `nkms1:` ciphertext names (PROTOCOL.md §12). The SDK reads only this
// public header, never the sealed part: it lets a reply be checked against the request — an encrypt
// answer must name the key we asked for and the version it reports, a decrypt answer the key and
// version of the ciphertext we sent. The codec is the node's own (enclave/protocol), so the two
// ends cannot disagree about the format.
import { decodeCiphertext } from "../enclave/protocol/named-key-ciphertext.js";

export interface CiphertextHeader {
  keyName: string;
  version: number;
}

/** The header of a well-formed v1 ciphertext, or undefined for anything else (never throws). */
export function readCiphertextHeader(ciphertext: string): CiphertextHeader | undefined {
  try {
    const { keyName, version } = decodeCiphertext(ciphertext);
    return { keyName, version };
  } catch {
    return undefined;
  }
}
