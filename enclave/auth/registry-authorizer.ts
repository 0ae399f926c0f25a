// Decides whether a wallet may call, from the on-chain registry (PROTOCOL.md §4, §10), with a
// short-lived cache because every request needs the answer and eth_call is slow (~380/s here).
// - positive answers live at most `ttlMs` (AUTH_CACHE_TTL_SECONDS), so a revocation on chain
//   takes effect within that time;
// - negative answers live at most `negativeTtlMs` (≤ 5 s), so a newly registered app is let in soon;
//   they have their own bounded cache, so a stream of unknown signers cannot push registered callers
//   out of theirs;
// - a lookup the caches cannot answer spends from a per-second budget (REGISTRY_LOOKUPS_PER_SECOND);
//   a wallet that is not a known caller gets 503 without a chain call once it is spent. Known callers
//   (a positive answer still held, even expired) always get their lookup: there are only as many of
//   them as registered wallets, while made-up signers are free to mint;
// - registry failures are never cached and become 503 — an unreadable chain never means "allow";
// - concurrent lookups of one wallet share one chain round trip (single flight).
import { LRUCache } from "lru-cache";
import type { AppRecord, InstanceRecord, VersionRecord } from "../chain/types.js";
import { KmsError } from "../errors.js";
import { LookupBudget } from "./lookup-budget.js";
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
  /** Registered callers remembered (default 10,000). */
  maxEntries?: number;
  /** Refused wallets remembered (default 10,000), in a cache of their own. */
  maxNegativeEntries?: number;
  /** Chain lookups started per second for wallets that are not known callers; 0 or absent = no limit. */
  lookupsPerSecond?: number;
  now?: () => number;
}

type Verdict = { ok: true; caller: RegisteredCaller } | { ok: false; violation: RuleViolation };
interface Cached<V> {
  verdict: V;
  expiresAt: number;
}
type Allowed = Extract<Verdict, { ok: true }>;
type Refused = Extract<Verdict, { ok: false }>;

export class RegistryAuthorizer {
  /** Registered callers; an expired entry is kept (LRU-bounded) as "known", to be refreshed first. */
  private readonly allowed: LRUCache<string, Cached<Allowed>>;
  private readonly refused: LRUCache<string, Cached<Refused>>;
  private readonly inFlight = new Map<string, Promise<Verdict>>();
  private readonly budget: LookupBudget;
  private readonly now: () => number;
  private readonly negativeTtlMs: number;

  constructor(private readonly options: RegistryAuthorizerOptions) {
    this.allowed = new LRUCache({ max: options.maxEntries ?? 10_000 });
    this.refused = new LRUCache({ max: options.maxNegativeEntries ?? 10_000 });
    this.now = options.now ?? Date.now;
    this.budget = new LookupBudget(options.lookupsPerSecond ?? 0, this.now);
    this.negativeTtlMs = Math.min(options.negativeTtlMs ?? 5_000, 5_000, options.ttlMs);
  }

  /** The registered caller behind `wallet`, or a 403 naming the failed rule, or 503. */
  async authorize(wallet: string): Promise<RegisteredCaller> {
    const verdict = await this.lookup(wallet.toLowerCase());
    if (!verdict.ok) throw new KmsError("forbidden", verdict.violation.message, verdict.violation.rule);
    return verdict.caller;
  }

  private async lookup(wallet: string): Promise<Verdict> {
    const now = this.now();
    const known = this.allowed.get(wallet);
    if (known && known.expiresAt > now) return known.verdict;
    const refused = this.refused.get(wallet);
    if (refused && refused.expiresAt > now) return refused.verdict;
    const pending = this.inFlight.get(wallet);
    if (pending) return pending;
    if (!known && !this.budget.tryTake()) {
      // 503, not 429: the limit is this node's, not the caller's, and clients try another node on 503.
      throw new KmsError("service_unavailable", "Registry lookup limit reached", "registry_lookup_limit");
    }
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
    const now = this.now();
    if (verdict.ok) {
      // Kept even with a zero TTL: the entry then only marks the wallet as a known caller.
      this.allowed.set(wallet, { verdict, expiresAt: now + this.options.ttlMs });
      this.refused.delete(wallet);
    } else {
      this.allowed.delete(wallet);
      if (this.negativeTtlMs > 0) this.refused.set(wallet, { verdict, expiresAt: now + this.negativeTtlMs });
    }
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
