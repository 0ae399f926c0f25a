// `.devchain/deployment.json`: where a running dev chain and its contracts are, for the CLI's admin
// commands, `make run`, the simulation scripts and humans. Ids are written as decimal strings because
// JSON has no bigint.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";

export interface Deployment {
  rpcUrl: string;
  chainId: number;
  novaAppRegistry: Address;
  kmsRegistry: Address;
  kmsAppId: bigint;
  kmsVersionId: bigint;
  /** An anvil default key (see accounts.ts); owner of both registries. */
  deployer: { address: Address; privateKey: Hex };
  /** Block of the last deployment transaction, useful to start event scans from. */
  deployedAtBlock: bigint;
  /** Set by `devchain start`: the anvil process, so stop scripts can check or end it. */
  anvilPid?: number;
}

export function serializeDeployment(deployment: Deployment): string {
  return `${JSON.stringify(
    {
      ...deployment,
      kmsAppId: deployment.kmsAppId.toString(),
      kmsVersionId: deployment.kmsVersionId.toString(),
      deployedAtBlock: deployment.deployedAtBlock.toString(),
    },
    null,
    2,
  )}\n`;
}

export function parseDeployment(text: string, source = "deployment"): Deployment {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const fail = (field: string): never => {
    throw new Error(`${source}: missing or invalid "${field}"`);
  };
  const address = (field: string, value: unknown): Address =>
    typeof value === "string" && isAddress(value) ? getAddress(value) : fail(field);
  const id = (field: string, value: unknown): bigint =>
    typeof value === "string" && /^\d+$/.test(value) ? BigInt(value) : fail(field);
  const deployer = (raw.deployer ?? {}) as Record<string, unknown>;
  const privateKey = deployer.privateKey;
  return {
    rpcUrl: typeof raw.rpcUrl === "string" ? raw.rpcUrl : fail("rpcUrl"),
    chainId: typeof raw.chainId === "number" && Number.isSafeInteger(raw.chainId) ? raw.chainId : fail("chainId"),
    novaAppRegistry: address("novaAppRegistry", raw.novaAppRegistry),
    kmsRegistry: address("kmsRegistry", raw.kmsRegistry),
    kmsAppId: id("kmsAppId", raw.kmsAppId),
    kmsVersionId: id("kmsVersionId", raw.kmsVersionId),
    deployer: {
      address: address("deployer.address", deployer.address),
      privateKey:
        typeof privateKey === "string" && isHex(privateKey) && privateKey.length === 66
          ? privateKey
          : fail("deployer.privateKey"),
    },
    deployedAtBlock: id("deployedAtBlock", raw.deployedAtBlock),
    ...(typeof raw.anvilPid === "number" ? { anvilPid: raw.anvilPid } : {}),
  };
}

export function writeDeploymentFile(file: string, deployment: Deployment): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // Write-then-rename so a reader never sees half a file.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, serializeDeployment(deployment));
  renameSync(partial, file);
}

export function readDeploymentFile(file: string): Deployment {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(`no deployment at ${file}: start a dev chain first (npx tsx scripts/devchain.ts start)`);
  }
  return parseDeployment(text, file);
}

export function removeDeploymentFile(file: string): void {
  rmSync(file, { force: true });
}
