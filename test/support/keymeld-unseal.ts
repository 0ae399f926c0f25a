// The second half of the KeyMeld flow (test/integration/keys-sdk.test.ts), run as its own process
// so that nothing of the first client survives: a fresh app process with the same enclave identity
// reads the sealed file, has the KMS decrypt the data key — through the node named in the config
// only (listed first, one attempt) — unseals its secp256k1 private key with AES-256-GCM and signs.
//   npx tsx test/support/keymeld-unseal.ts '<json config>'   → stdout: {"address","signature"}
import { createDecipheriv } from "node:crypto";
import { readFileSync } from "node:fs";
import { privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "viem";
import { NovaKmsClient } from "../../client/nova-kms-client.js";
import type { KmsRegistryView } from "../../client/discovery.js";
import { RegistryReader } from "../../enclave/chain/registry-reader.js";
import { SimulatedTee } from "../../enclave/tee/simulated.js";

export interface KeyMeldUnsealConfig {
  rpcUrl: string;
  novaAppRegistry: Address;
  kmsRegistry: Address;
  kmsAppId: string;
  appSeed: string;
  /** Wallet of the only node to ask. */
  nodeWallet: string;
  file: string;
  message: string;
}

/** What the first process wrote: the data key sealed by the KMS, and the private key sealed by the data key. */
export interface KeyMeldFile {
  dataKeyCiphertext: string;
  /** hex */
  iv: string;
  sealedKey: string;
  tag: string;
}

/** The registry's node list with one node moved to the front (the client is told to try only the first). */
function preferring(reader: RegistryReader, wallet: string): KmsRegistryView {
  return {
    getInstanceByWallet: (w) => reader.getInstanceByWallet(w),
    async getActiveInstances(appId) {
      const all = await reader.getActiveInstances(appId);
      return [...all.filter((w) => w === wallet), ...all.filter((w) => w !== wallet)];
    },
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as KeyMeldUnsealConfig;
  const file = JSON.parse(readFileSync(config.file, "utf8")) as KeyMeldFile;
  const reader = RegistryReader.fromRpcUrl(config.rpcUrl, {
    novaAppRegistry: config.novaAppRegistry,
    kmsRegistry: config.kmsRegistry,
  });
  const kms = new NovaKmsClient({
    tee: new SimulatedTee({ seed: config.appSeed }),
    registry: preferring(reader, config.nodeWallet.toLowerCase()),
    kmsAppId: BigInt(config.kmsAppId),
    allowHttp: true,
    nodeSelection: "ordered",
    maxAttempts: 1,
  });
  const { plaintext: dataKey } = await kms.keys.decrypt(file.dataKeyCiphertext);
  const decipher = createDecipheriv("aes-256-gcm", dataKey, Buffer.from(file.iv, "hex"));
  decipher.setAuthTag(Buffer.from(file.tag, "hex"));
  const privateKey = Buffer.concat([decipher.update(Buffer.from(file.sealedKey, "hex")), decipher.final()]);
  const account = privateKeyToAccount(`0x${privateKey.toString("hex")}` as Hex);
  const signature = await account.signMessage({ message: config.message });
  process.stdout.write(`${JSON.stringify({ address: account.address, signature })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`keymeld-unseal: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
