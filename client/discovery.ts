// Finds the KMS nodes an app may talk to. Everything that matters for trust — a node's wallet and
// its P-384 teePubkey — comes from the registry, never from the node itself (PROTOCOL.md §1):
// those two values are what the response signature and the response envelope are checked against.
// The list is cached briefly because every request needs it and each refresh costs 1 + N chain reads.
import { bytesToHex } from "../enclave/crypto/bytes.js";
import { p384SpkiFromSec1, parseP384PublicKey } from "../enclave/crypto/p384.js";
import { InstanceStatus, type InstanceRecord, type LowerAddress } from "../enclave/protocol/registry-records.js";
import { KmsDiscoveryError } from "./errors.js";

/** The two registry reads discovery needs; the node's RegistryReader fits, so does an in-memory test double. */
export interface KmsRegistryView {
  /** Wallets of the app's ACTIVE instances (NovaAppRegistry.getActiveInstances). */
  getActiveInstances(appId: bigint): Promise<readonly LowerAddress[]>;
  /** The instance registered for a wallet; `id == 0n` when there is none. */
  getInstanceByWallet(wallet: LowerAddress): Promise<InstanceRecord>;
}

export interface KmsNodeInfo {
  /** Base URL without a trailing slash. */
  url: string;
  /** Lower-case wallet, from the chain. */
  wallet: string;
  /** teePubkey from the chain, as the 97-byte uncompressed SEC1 point. */
  teePubkey: Uint8Array;
  instanceId: bigint;
  versionId: bigint;
}

export interface NodeDiscoveryOptions {
  registry: KmsRegistryView;
  kmsAppId: bigint;
  /** Accept `http:` node URLs (simulation on loopback); otherwise only `https:`. */
  allowHttp?: boolean;
  /** How long a discovered list is reused (default 10 s). */
  cacheTtlMs?: number;
  now?: () => number;
}

export const DEFAULT_DISCOVERY_TTL_MS = 10_000;

/** Normalized base URL, or undefined when the registered URL is unusable under the scheme policy. */
export function nodeBaseUrl(raw: string, allowHttp: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && !(allowHttp && url.protocol === "http:")) return undefined;
  // Credentials in a registered URL would be sent to whoever serves it; no legitimate node needs them.
  if (url.username || url.password || url.search || url.hash) return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function usableNode(
  wallet: string,
  instance: InstanceRecord,
  kmsAppId: bigint,
  allowHttp: boolean,
): KmsNodeInfo | undefined {
  if (instance.id === 0n || instance.appId !== kmsAppId) return undefined;
  if (instance.status !== InstanceStatus.ACTIVE || !instance.zkVerified) return undefined;
  if (instance.teeWallet.toLowerCase() !== wallet.toLowerCase()) return undefined;
  const url = nodeBaseUrl(instance.instanceUrl, allowHttp);
  if (!url) return undefined;
  let teePubkey: Uint8Array;
  try {
    teePubkey = parseP384PublicKey(instance.teePubkey);
  } catch {
    return undefined;
  }
  return {
    url,
    wallet: instance.teeWallet.toLowerCase(),
    teePubkey,
    instanceId: instance.id,
    versionId: instance.versionId,
  };
}

// viem errors carry a short headline and the underlying cause separately; both are worth a line.
function errorSummary(e: unknown): string {
  const err = e as { shortMessage?: unknown; details?: unknown; message?: unknown };
  const head = typeof err.shortMessage === "string" ? err.shortMessage : String(err.message ?? e).split("\n")[0];
  return typeof err.details === "string" && err.details ? `${head} (${err.details})` : (head ?? "unknown error");
}

export class NodeDiscovery {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private cached: { nodes: KmsNodeInfo[]; at: number } | undefined;
  private inFlight: Promise<KmsNodeInfo[]> | undefined;

  constructor(private readonly options: NodeDiscoveryOptions) {
    this.ttlMs = options.cacheTtlMs ?? DEFAULT_DISCOVERY_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** Usable nodes (ACTIVE, zkVerified, acceptable URL, valid teePubkey), in registry order. */
  async nodes(): Promise<KmsNodeInfo[]> {
    const cached = this.cached;
    if (cached && this.now() - cached.at < this.ttlMs) return cached.nodes;
    // Single flight: a burst of calls after expiry costs one registry scan, not one each.
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Forget the list, so the next call re-reads the chain (after a node failed). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async refresh(): Promise<KmsNodeInfo[]> {
    const { registry, kmsAppId } = this.options;
    const allowHttp = this.options.allowHttp ?? false;
    let nodes: KmsNodeInfo[];
    try {
      const wallets = await registry.getActiveInstances(kmsAppId);
      const instances = await Promise.all(wallets.map((w) => registry.getInstanceByWallet(w)));
      nodes = [];
      const seen = new Set<string>();
      instances.forEach((instance, i) => {
        const node = usableNode(wallets[i] as string, instance, kmsAppId, allowHttp);
        if (node && !seen.has(node.wallet)) {
          seen.add(node.wallet);
          nodes.push(node);
        }
      });
    } catch (e) {
      throw new KmsDiscoveryError(`cannot read the KMS node list from the registry: ${errorSummary(e)}`, { cause: e });
    }
    if (nodes.length === 0) {
      const hint = allowHttp ? "" : " (http:// node URLs are refused unless allowHttp is set)";
      throw new KmsDiscoveryError(`no usable KMS node registered for app ${kmsAppId}${hint}`);
    }
    this.cached = { nodes, at: this.now() };
    return nodes;
  }
}

/** A printable view of a node (bigints as decimal, teePubkey as SPKI hex like the chain and /status). */
export function describeNode(node: KmsNodeInfo): {
  url: string;
  wallet: string;
  tee_pubkey: string;
  instance_id: string;
  version_id: string;
} {
  return {
    url: node.url,
    wallet: node.wallet,
    tee_pubkey: bytesToHex(p384SpkiFromSec1(node.teePubkey)),
    instance_id: node.instanceId.toString(),
    version_id: node.versionId.toString(),
  };
}
