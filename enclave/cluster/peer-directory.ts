// The cluster's membership, read from the registry every tick (PROTOCOL.md §10): ACTIVE,
// zkVerified instances of KMS_APP_ID whose version is not REVOKED. Peers whose URL fails the
// policy stay visible in /nodes (with the reason) but are never contacted.
import type { Address } from "viem";
import { checkInstanceRules, RuleViolation } from "../auth/registry-rules.js";
import type { RegistryReader } from "../chain/registry-reader.js";
import { VersionStatus, type VersionRecord } from "../chain/types.js";
import { parseP384PublicKey } from "../crypto/p384.js";
import type { Logger } from "../log.js";
import { checkPeerUrl, type PeerUrlPolicy } from "./peer-policy.js";

export interface PeerInfo {
  wallet: string;
  url: string;
  /** Registered teePubkey as a validated SEC1 point. */
  teePublicKey: Uint8Array;
  instanceId: bigint;
  versionId: bigint;
  versionStatus: number;
}

export interface MemberView extends Omit<PeerInfo, "teePublicKey"> {
  self: boolean;
  // From the instance record, for /nodes (membership already requires ACTIVE and zkVerified).
  operator: string;
  registeredAt: bigint;
  zkVerified: boolean;
  instanceStatus: number;
  /** Why this member is not contacted, if it is not. */
  excluded?: string;
}

export interface PeerDirectoryOptions {
  registry: Pick<RegistryReader, "getActiveInstances" | "getInstanceByWallet" | "getVersion">;
  kmsAppId: bigint;
  selfWallet: string;
  policy: PeerUrlPolicy;
  log: Logger;
}

export class PeerDirectory {
  private reachable: PeerInfo[] = [];
  private view: MemberView[] = [];
  private refreshedAt = 0;

  constructor(private readonly options: PeerDirectoryOptions) {}

  /** Peers to talk to (excluding this node). */
  peers(): readonly PeerInfo[] {
    return this.reachable;
  }

  /** Every member the registry lists, this node included, for /nodes. */
  members(): { members: readonly MemberView[]; refreshedAt: number } {
    return { members: this.view, refreshedAt: this.refreshedAt };
  }

  /** Re-reads membership; on a registry error the previous view is kept (and the error thrown). */
  async refresh(): Promise<void> {
    const { registry, kmsAppId, selfWallet, policy } = this.options;
    const wallets = await registry.getActiveInstances(kmsAppId);
    const instances = await Promise.all(wallets.map((w) => registry.getInstanceByWallet(w as Address)));
    const versions = new Map<bigint, Promise<VersionRecord>>();
    const versionOf = (id: bigint) => {
      if (!versions.has(id)) versions.set(id, registry.getVersion(kmsAppId, id));
      return versions.get(id)!;
    };
    const reachable: PeerInfo[] = [];
    const view: MemberView[] = [];
    for (const instance of instances) {
      if (instance.appId !== kmsAppId) continue;
      try {
        checkInstanceRules(instance);
      } catch (e) {
        if (e instanceof RuleViolation) continue;
        throw e;
      }
      const version = await versionOf(instance.versionId);
      if (version.status === VersionStatus.REVOKED) continue;
      const self = instance.teeWallet === selfWallet;
      let excluded = self ? undefined : checkPeerUrl(instance.instanceUrl, policy);
      let teePublicKey: Uint8Array | undefined;
      try {
        teePublicKey = parseP384PublicKey(instance.teePubkey);
      } catch {
        excluded ??= "invalid teePubkey";
      }
      const info = {
        wallet: instance.teeWallet,
        url: instance.instanceUrl.replace(/\/+$/, ""),
        instanceId: instance.id,
        versionId: instance.versionId,
        versionStatus: version.status,
      };
      const record = {
        operator: instance.operator,
        registeredAt: instance.registeredAt,
        zkVerified: instance.zkVerified,
        instanceStatus: instance.status,
      };
      view.push({ ...info, ...record, self, ...(excluded ? { excluded } : {}) });
      if (!self && !excluded && teePublicKey) reachable.push({ ...info, teePublicKey });
    }
    this.reachable = reachable;
    this.view = view;
    this.refreshedAt = Date.now();
  }
}
