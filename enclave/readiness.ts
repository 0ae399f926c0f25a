// Whether this node may serve, and why not (shown in /status and in every 503). Three conditions,
// checked in this order: its own instance is registered on chain (same rules as any instance,
// PROTOCOL.md §4, rechecked every tick); it holds the cluster's master secret; its KV store has
// caught up with its peers. "serving" is the first two (keys usable, peers may sync with it);
// "available" is all three (the KV API is open).
import type { Address } from "viem";
import { checkInstanceRules, RuleViolation } from "./auth/registry-rules.js";
import type { RegistryReader } from "./chain/registry-reader.js";
import type { Logger } from "./log.js";

/** Whether this node's own instance is registered and allowed to serve. */
export interface SelfRegistration {
  registered: boolean;
  reason: string;
  /** The URL the registry lists for this node (what peers and apps dial). */
  instanceUrl?: string;
}

export interface ReadinessOptions {
  registry: Pick<RegistryReader, "getInstanceByWallet">;
  wallet: string;
  kmsAppId: bigint;
  /** NODE_INSTANCE_URL, compared with the registered URL only to warn. */
  configuredUrl: string | undefined;
  log: Logger;
  /** The master secret's state: held and matching the chain, or why not. */
  secret: () => { ready: boolean; reason: string };
  /** The node holds keys of the served secret. */
  holdsKeys: () => boolean;
  /** The KV store of the served secret has caught up with the peers. */
  storeRecovered: () => boolean;
}

const NOT_CHECKED: SelfRegistration = { registered: false, reason: "registration not checked yet" };

export class Readiness {
  private self: SelfRegistration = NOT_CHECKED;

  constructor(private readonly options: ReadinessOptions) {}

  get registration(): SelfRegistration {
    return this.self;
  }

  /** Registered and holding the cluster's keys: /kms/* and /sync may run. */
  get serving(): boolean {
    return this.self.registered && this.options.holdsKeys();
  }

  /** Serving, and the KV store has caught up with its peers. */
  get available(): boolean {
    return this.serving && this.options.storeRecovered();
  }

  reason(): string {
    if (!this.self.registered) return this.self.reason;
    const secret = this.options.secret();
    if (!secret.ready) return secret.reason;
    return this.available ? "serving" : "KV store recovering from peers";
  }

  /** Rereads this node's instance. A registry outage keeps the previous verdict (auth answers 503 meanwhile). */
  async refresh(): Promise<SelfRegistration> {
    const { registry, wallet, kmsAppId, configuredUrl, log } = this.options;
    let instance;
    try {
      instance = await registry.getInstanceByWallet(wallet as Address);
    } catch {
      this.self = { ...this.self, reason: this.self.registered ? this.self.reason : "registry unreadable" };
      return this.self;
    }
    const wasRegistered = this.self.registered;
    try {
      checkInstanceRules(instance);
      if (instance.appId !== kmsAppId) throw new RuleViolation("instance_other_app", "Instance of another app");
    } catch (e) {
      if (!(e instanceof RuleViolation)) throw e;
      const reason =
        e.rule === "instance_not_found" ? "this node's wallet is not registered on chain" : `this node: ${e.message}`;
      this.self = { registered: false, reason };
      return this.self;
    }
    const configured = configuredUrl?.replace(/\/+$/, "");
    if (configured && instance.instanceUrl.replace(/\/+$/, "") !== configured && !wasRegistered) {
      // Peers and apps dial the registered URL; a mismatch usually means a stale registration.
      log.warn(
        { registered: instance.instanceUrl, configured },
        "registered instanceUrl differs from NODE_INSTANCE_URL",
      );
    }
    this.self = { registered: true, reason: "registered", instanceUrl: instance.instanceUrl };
    return this.self;
  }
}
