// Crypto primitive throughput (ops/s, one core) with an in-run baseline for each:
//   recover      native libsecp256k1 vs @noble/curves (the fallback)
//   envelope     parse + ECDH + HKDF + AES-GCM open of a 256 B request, cached vs per-request ECDH
//   hkdf         kdf.ts hkdfSha256 (node:crypto HMAC) vs noble's pure-JS HKDF
//                (@noble/hashes); a second line compares node:crypto hkdfSync with the same baseline
//   aes-gcm      aesGcmEncrypt 256 B (node:crypto, what aead.ts uses) vs @noble/ciphers
// Run: npx tsx bench/crypto.ts
import { hkdfSync, randomBytes } from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { aesGcmEncrypt } from "../enclave/crypto/aead.js";
import { EcdhSecretCache } from "../enclave/crypto/ecdh-cache.js";
import { openEnvelope, parseEnvelope, sealEnvelope } from "../enclave/crypto/envelope.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hkdfSha256 } from "../enclave/crypto/kdf.js";

/** Pure-JS HKDF as the baseline the node:crypto HMAC version is measured against. */
const nobleHkdf = (ikm: Uint8Array, salt: Uint8Array, info: string, length: number) =>
  hkdf(sha256, ikm, salt, new TextEncoder().encode(info), length);
import {
  generateP384KeyPair,
  p384PrivateKeyObject,
  p384SharedX,
  p384SharedXWithKeyObject,
} from "../enclave/crypto/p384.js";
import {
  jsSecp256k1,
  nativeSecp256k1,
  recoverPersonalMessageSigner,
  signPersonalMessage,
} from "../enclave/crypto/secp256k1.js";
import { compareOps } from "./lib/ops.js";
import { printResult } from "./lib/result.js";

const BENCH = "crypto";

// --- secp256k1 recover (the per-request PoP check) ---
{
  const key = new Uint8Array(randomBytes(32));
  const message = "NovaKMS:AppAuth:ABEiM0RVZneImaq7zN3u/w==:0x859f53ad373b1f929b525b57d58ff8b7f9deee4c:1767225600";
  const signature = signPersonalMessage(key, message);
  if (!nativeSecp256k1) {
    process.stderr.write("native secp256k1 binding unavailable: reporting the JS backend only\n");
  }
  const native = nativeSecp256k1 ?? jsSecp256k1;
  const r = compareOps(
    () => recoverPersonalMessageSigner(message, signature, native),
    () => recoverPersonalMessageSigner(message, signature, jsSecp256k1),
    { roundMs: 500 },
  );
  printResult({
    bench: BENCH,
    metric: `secp256k1_recover_${native.name}`,
    value: r.value,
    unit: "ops/s",
    baseline: r.baseline,
    baseline_metric: "secp256k1_recover_js",
  });
}

// --- envelope open: cached vs uncached ECDH ---
{
  const node = generateP384KeyPair();
  const app = generateP384KeyPair();
  const plaintext = new Uint8Array(randomBytes(256));
  const appSide = sealEnvelope({
    sharedX: p384SharedX(app.privateKey, node.publicKey),
    senderPublicKey: app.publicKey,
    recipientPublicKey: node.publicKey,
    plaintext,
  });
  const body = JSON.parse(JSON.stringify(appSide)) as unknown;
  const cache = new EcdhSecretCache(node.privateKey);
  const nodeKeyObject = p384PrivateKeyObject(node.privateKey);
  const open = (sharedX: (peer: Uint8Array) => Uint8Array) => () => {
    const p = parseEnvelope(body);
    return openEnvelope({
      sharedX: sharedX(p.senderPublicKey),
      senderPublicKey: p.senderPublicKey,
      recipientPublicKey: node.publicKey,
      nonce: p.nonce,
      ciphertext: p.ciphertext,
    });
  };
  const r = compareOps(
    open((peer) => cache.sharedX(peer)),
    // Fair baseline: the private KeyObject is built once; only the ECDH itself is per request.
    open((peer) => p384SharedXWithKeyObject(nodeKeyObject, peer)),
    { roundMs: 500 },
  );
  printResult({
    bench: BENCH,
    metric: "envelope_open_256B_cached_ecdh",
    value: r.value,
    unit: "ops/s",
    baseline: r.baseline,
    baseline_metric: "envelope_open_256B_uncached_ecdh",
  });
}

// --- HKDF-SHA256, 32-byte output (app keys, envelope keys) ---
{
  const ikm = new Uint8Array(randomBytes(48));
  const salt = new Uint8Array(randomBytes(206));
  const info = "enclaver-ecdh-aes256gcm-v1";
  const r = compareOps(
    () => hkdfSha256(ikm, salt, info, 32),
    () => nobleHkdf(ikm, salt, info, 32),
  );
  printResult({
    bench: BENCH,
    metric: "hkdf_sha256_32B_node_hmac",
    value: r.value,
    unit: "ops/s",
    baseline: r.baseline,
    baseline_metric: "hkdf_sha256_32B_noble",
  });
  const s = compareOps(
    () => hkdfSync("sha256", ikm, salt, info, 32),
    () => nobleHkdf(ikm, salt, info, 32),
  );
  printResult({
    bench: BENCH,
    metric: "hkdf_sha256_32B_node_hkdfSync",
    value: s.value,
    unit: "ops/s",
    baseline: s.baseline,
    baseline_metric: "hkdf_sha256_32B_noble",
  });
}

// --- AES-256-GCM encrypt, 256-byte message ---
{
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(12));
  const data = new Uint8Array(randomBytes(256));
  const r = compareOps(
    () => aesGcmEncrypt(key, nonce, data),
    () => gcm(key, nonce).encrypt(data),
  );
  printResult({
    bench: BENCH,
    metric: "aes_256_gcm_encrypt_256B_node_crypto",
    value: r.value,
    unit: "ops/s",
    baseline: r.baseline,
    baseline_metric: "aes_256_gcm_encrypt_256B_noble_ciphers",
  });
}
