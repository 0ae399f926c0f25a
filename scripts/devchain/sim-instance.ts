// Registers a made-up enclave instance: a fresh secp256k1 wallet and a fresh P-384 key, as a real
// enclave would present them. Used by `make run` and tests to get an eligible KMS instance quickly.
import { generateKeyPairSync } from "node:crypto";
import type { Address, Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Deployment } from "./deployment-file.js";
import type { RegistryAdmin } from "./registry-admin.js";

export interface SimInstance {
  instanceId: bigint;
  wallet: Address;
  /** The instance's wallet key, so callers can act as the enclave (e.g. setMasterSecretHash). */
  privateKey: Hex;
  /** DER SubjectPublicKeyInfo of the P-384 key (120 bytes), as PROTOCOL.md §1 carries it. */
  teePubkey: Uint8Array;
}

export interface RegisterSimInstanceOptions {
  appId?: bigint;
  versionId?: bigint;
  instanceUrl?: string;
  /** Default true: an instance the registry already trusts. */
  zkVerified?: boolean;
  privateKey?: Hex;
}

export function newP384PublicKeySpki(): Uint8Array {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  return new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
}

export async function registerSimInstance(
  admin: RegistryAdmin,
  deployment: Deployment,
  options: RegisterSimInstanceOptions = {},
): Promise<SimInstance> {
  const privateKey = options.privateKey ?? generatePrivateKey();
  const wallet = privateKeyToAccount(privateKey).address;
  const teePubkey = newP384PublicKeySpki();
  const instanceId = await admin.registerInstance({
    appId: options.appId ?? deployment.kmsAppId,
    versionId: options.versionId ?? deployment.kmsVersionId,
    teeWallet: wallet,
    teePubkey,
    instanceUrl: options.instanceUrl ?? "http://127.0.0.1:0",
  });
  if (options.zkVerified ?? true) await admin.setZkVerified(instanceId, true);
  return { instanceId, wallet, privateKey, teePubkey };
}
