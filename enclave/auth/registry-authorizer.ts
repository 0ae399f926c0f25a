// Decides whether a wallet may call, from the on-chain registry (PROTOCOL.md §4, §10), with a
// short-lived cache because every request needs the answer and eth_call is slow (~380/s here).
// - positive answers live at most `ttlMs` (AUTH_CACHE_TTL_SECONDS), so a revocation on chain
//   takes effect within that time;
// - negative answers live at most `negativeTtlMs` (≤ 5 s), so a newly registered app is let in soon;
// - registry failures are never cached and become 503 — an unreadable chain never means "allow";
// - concurrent lookups of one wallet share one chain round trip (single flight).
import { LRUCache } from "lru-cache";
import type { AppRecord, InstanceRecord, VersionRecord } from "../chain/types.js";
import { KmsError } from "../errors.js";
import {
  checkAppAndVersionRules,
  checkInstanceRules,
  RuleViolation,
  toRegisteredCaller,
  type RegisteredCaller,
} from "./registry-rules.js";

/** The registry reads the authorizer needs (satisfied by enclave/chain/registry-reader.ts). */
export interface RegistryView {
  getInstanceByWallet(wallet: `0x${string}`): Promise<InstanceRecord>;
  getApp(appId: bigint): Promise<AppRecord>;
  getVersion(appId: bigint, versionId: bigint): Promise<VersionRecord>;
}

export interface RegistryAuthorizerOptions {
  registry: RegistryView;
  ttlMs: number;
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

type Verdict = { ok: true; caller: RegisteredCaller } | { ok: false; violation: RuleViolation };
interface CacheEntry {
  verdict: Verdict;
  expiresAt: number;
}

export class RegistryAuthorizer {
  private readonly cache: LRUCache<string, CacheEntry>;
  private readonly inFlight = new Map<string, Promise<Verdict>>();
  private readonly now: () => number;
  private readonly negativeTtlMs: number;

  constructor(private readonly options: RegistryAuthorizerOptions) {
    this.cache = new LRUCache({ max: options.maxEntries ?? 10_000 });
    this.now = options.now ?? Date.now;
    this.negativeTtlMs = Math.min(options.negativeTtlMs ?? 5_000, 5_000, options.ttlMs);
  }

  /** The registered caller behind `wallet`, or a 403 naming the failed rule, or 503. */
  async authorize(wallet: string): Promise<RegisteredCaller> {
    const verdict = await this.lookup(wallet.toLowerCase());
    if (!verdict.ok) throw new KmsError("forbidden", verdict.violation.message, verdict.violation.rule);
    return verdict.caller;
  }

  private async lookup(wallet: string): Promise<Verdict> {
    const cached = this.cache.get(wallet);
    if (cached && cached.expiresAt > this.now()) return cached.verdict;
    const pending = this.inFlight.get(wallet);
    if (pending) return pending;
    const fresh = this.readVerdict(wallet).finally(() => this.inFlight.delete(wallet));
    this.inFlight.set(wallet, fresh);
    return fresh;
  }

  private async readVerdict(wallet: string): Promise<Verdict> {
    let verdict: Verdict;
    try {
      verdict = await this.evaluate(wallet);
    } catch {
      // The chain could not be read: say so, cache nothing.
      throw new KmsError("service_unavailable", "Registry unavailable", "registry_unavailable");
    }
    const ttl = verdict.ok ? this.options.ttlMs : this.negativeTtlMs;
    if (ttl > 0) this.cache.set(wallet, { verdict, expiresAt: this.now() + ttl });
    return verdict;
  }

  private async evaluate(wallet: string): Promise<Verdict> {
    try {
      const instance = await this.options.registry.getInstanceByWallet(wallet as `0x${string}`);
      checkInstanceRules(instance);
      const [app, version] = await Promise.all([
        this.options.registry.getApp(instance.appId),
        this.options.registry.getVersion(instance.appId, instance.versionId),
      ]);
      checkAppAndVersionRules(app, version);
      return { ok: true, caller: toRegisteredCaller(instance, version) };
    } catch (e) {
      if (e instanceof RuleViolation) return { ok: false, violation: e };
      throw e;
    }
  }
}
