// Where the CLI finds the chain: explicit flags first, then the dev chain's deployment file
// (`.devchain/deployment.json`, written by scripts/devchain). Only the fields the SDK needs are read,
// so a deployment file from a newer script version still works.
import { existsSync, readFileSync } from "node:fs";
import { isAddress, zeroAddress, type Address } from "viem";
import { CAPSULE_LABEL, ENCLAVER_LABEL, type EnvelopeLabel } from "../enclave/crypto/envelope.js";

/** `--label` values: the runtime whose envelope label the app uses. */
export const CLI_LABELS: Readonly<Record<string, EnvelopeLabel>> = { capsule: CAPSULE_LABEL, enclaver: ENCLAVER_LABEL };

export const DEFAULT_DEPLOYMENT_FILE = ".devchain/deployment.json";

export class CliUsageError extends Error {
  override name = "CliUsageError";
}

export interface GlobalOptions {
  rpc?: string;
  registry?: string;
  kmsAppId?: string;
  deployment: string;
  appSeed?: string;
  allowHttp?: boolean;
  timeoutMs?: number;
  /** Envelope label (PROTOCOL.md §5); parsed from `--label capsule|enclaver`. */
  label?: EnvelopeLabel;
}

export interface ChainTarget {
  rpcUrl: string;
  novaAppRegistry: Address;
  /** Not needed by the SDK; the zero address when unknown. */
  kmsRegistry: Address;
  kmsAppId: bigint;
}

interface DeploymentFields {
  rpcUrl?: string;
  novaAppRegistry?: string;
  kmsRegistry?: string;
  kmsAppId?: string;
}

export function readDeploymentFields(file: string): DeploymentFields {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new CliUsageError(`cannot read deployment file ${file}: ${(e as Error).message}`);
  }
  const text = (v: unknown) =>
    typeof v === "string" ? v : typeof v === "number" || typeof v === "bigint" ? String(v) : undefined;
  return {
    rpcUrl: text(raw.rpcUrl),
    novaAppRegistry: text(raw.novaAppRegistry),
    kmsRegistry: text(raw.kmsRegistry),
    kmsAppId: text(raw.kmsAppId),
  };
}

function address(value: string, what: string): Address {
  if (!isAddress(value, { strict: false })) throw new CliUsageError(`${what} is not an address: ${value}`);
  return value as Address;
}

/** The chain to read, from flags and (for whatever the flags leave out) the deployment file. */
export function resolveChainTarget(options: GlobalOptions): ChainTarget {
  let fields: DeploymentFields = {};
  const complete = options.rpc && options.registry && options.kmsAppId;
  if (!complete) {
    if (!existsSync(options.deployment)) {
      throw new CliUsageError(
        `no deployment file at ${options.deployment}: pass --rpc, --registry and --kms-app-id, or start a dev chain (npx tsx scripts/devchain.ts start)`,
      );
    }
    fields = readDeploymentFields(options.deployment);
  }
  const rpcUrl = options.rpc ?? fields.rpcUrl;
  const registry = options.registry ?? fields.novaAppRegistry;
  const kmsAppId = options.kmsAppId ?? fields.kmsAppId;
  if (!rpcUrl) throw new CliUsageError(`missing --rpc (not in ${options.deployment} either)`);
  if (!registry) throw new CliUsageError(`missing --registry (not in ${options.deployment} either)`);
  if (!kmsAppId || !/^\d+$/.test(kmsAppId))
    throw new CliUsageError(`missing or invalid --kms-app-id: ${kmsAppId ?? "(none)"}`);
  return {
    rpcUrl,
    novaAppRegistry: address(registry, "--registry"),
    kmsRegistry:
      fields.kmsRegistry && isAddress(fields.kmsRegistry, { strict: false })
        ? (fields.kmsRegistry as Address)
        : zeroAddress,
    kmsAppId: BigInt(kmsAppId),
  };
}
