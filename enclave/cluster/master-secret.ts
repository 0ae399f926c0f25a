// The master-secret lifecycle (PROTOCOL.md §7). The chain decides which secret is the cluster's:
// a node serves only while it holds a secret whose keccak256 equals `KMSRegistry.masterSecretHash`.
// Each tick:
//   hash = 0            → propose our candidate (the secret we hold, the preset, or fresh random
//                         bytes), submit its hash, and serve it only once the chain shows it won;
//   hash = ours         → serve;
//   hash ≠ ours         → adopt it from a peer that holds it (if a peer source is configured),
//                         else stay unavailable and say why.
// After an owner reset (hash back to 0) the node proposes the secret it already holds, so a reset
// alone does not orphan data encrypted under that secret; see README "Cluster".
import { keccak256, type Hex } from "viem";
import type { Logger } from "../log.js";

export const ZERO_HASH = `0x${"0".repeat(64)}` as Hex;

export interface MasterSecretSources {
  /** Current `KMSRegistry.masterSecretHash()`. */
  readHash(): Promise<Hex>;
  /** Submits `setMasterSecretHash(hash)` and waits for the receipt; "refused" when not eligible or too late. */
  submitHash(hash: Hex): Promise<{ status: "mined" } | { status: "refused"; reason: string }>;
  randomBytes(n: number): Promise<Uint8Array>;
  /**
   * Fetches the secret with this hash from a peer (cluster mode), with the URL of the peer that gave
   * it; undefined when none could provide it.
   */
  adoptFromPeers?(expectedHash: Hex): Promise<{ secret: Uint8Array; from: string } | undefined>;
  /** How many other members the registry lists (cluster mode). */
  peerCount?(): number;
}

/**
 * Ticks a node that holds no secret waits, while the on-chain hash is zero and it has peers,
 * before proposing a fresh one. After an owner reset the nodes that hold the cluster's secret
 * propose it on their first tick; without this grace a newly started node could win with a random
 * secret and orphan every stored record.
 */
export const FRESH_PROPOSAL_GRACE_TICKS = 3;

export interface MasterSecretStatus {
  ready: boolean;
  reason: string;
  onChainHash: Hex | undefined;
  /** How the held secret was obtained. */
  origin: "generated" | "preset" | "peer" | undefined;
  /** URL of the peer the held secret came from (origin "peer"). */
  syncedFrom: string | undefined;
}

export function masterSecretHashOf(secret: Uint8Array): Hex {
  return keccak256(secret);
}

export class MasterSecretManager {
  private held: { secret: Uint8Array; hash: Hex; origin: "generated" | "preset" | "peer"; from?: string } | undefined;
  private candidate: { secret: Uint8Array; hash: Hex; origin: "generated" | "preset" } | undefined;
  private state: MasterSecretStatus = {
    ready: false,
    reason: "starting",
    onChainHash: undefined,
    origin: undefined,
    syncedFrom: undefined,
  };
  private readonly listeners: Array<(secret: Uint8Array | undefined) => void> = [];
  private ticking: Promise<void> | undefined;
  private zeroHashTicks = 0;

  constructor(
    private readonly sources: MasterSecretSources,
    private readonly log: Logger,
    private readonly preset?: Uint8Array,
  ) {
    if (preset && preset.length !== 32) throw new Error("preset master secret must be 32 bytes");
  }

  /** The secret to serve with, only while it matches the chain. */
  get secret(): Uint8Array | undefined {
    return this.state.ready ? this.held?.secret : undefined;
  }

  status(): MasterSecretStatus {
    return { ...this.state };
  }

  /** Called whenever the served secret changes (undefined = stopped serving). */
  onChange(listener: (secret: Uint8Array | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** One step of the lifecycle; concurrent calls share the step in progress. */
  tick(): Promise<void> {
    this.ticking ??= this.step().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async step(): Promise<void> {
    let onChain: Hex;
    try {
      onChain = (await this.sources.readHash()).toLowerCase() as Hex;
    } catch {
      // Keep the last verdict: a node that was serving keeps its secret; the registry outage
      // itself makes authorization answer 503.
      this.state = { ...this.state, reason: this.state.ready ? this.state.reason : "KMS registry unreadable" };
      return;
    }
    if (onChain === ZERO_HASH) {
      this.zeroHashTicks++;
      return this.bootstrap();
    }
    this.zeroHashTicks = 0;
    if (this.held?.hash === onChain) return this.serve(onChain);
    for (const known of [this.candidate, this.presetEntry()]) {
      if (known?.hash === onChain) {
        this.held = { ...known };
        return this.serve(onChain);
      }
    }
    const fromPeer = await this.sources.adoptFromPeers?.(onChain).catch(() => undefined);
    if (fromPeer && masterSecretHashOf(fromPeer.secret) === onChain) {
      this.held = { secret: fromPeer.secret, hash: onChain, origin: "peer", from: fromPeer.from };
      this.log.info({ hash: onChain, peer: fromPeer.from }, "adopted the cluster master secret from a peer");
      return this.serve(onChain);
    }
    this.stop(onChain, "on-chain master secret hash does not match a secret this node holds; no peer provided it");
  }

  private async bootstrap(): Promise<void> {
    const holdsOne = this.held !== undefined || this.candidate !== undefined || this.preset !== undefined;
    if (!holdsOne && (this.sources.peerCount?.() ?? 0) > 0 && this.zeroHashTicks <= FRESH_PROPOSAL_GRACE_TICKS) {
      this.stop(ZERO_HASH, "master secret not set on chain; giving peers that hold one time to propose it");
      return;
    }
    this.stop(ZERO_HASH, "master secret not set on chain; proposing one");
    this.candidate ??= this.held
      ? {
          secret: this.held.secret,
          hash: this.held.hash,
          origin: this.held.origin === "preset" ? "preset" : "generated",
        }
      : (this.presetEntry() ?? (await this.generated()));
    let outcome;
    try {
      outcome = await this.sources.submitHash(this.candidate.hash);
    } catch (e) {
      this.state.reason = `could not submit master secret hash: ${(e as Error).message.split("\n")[0]}`;
      return;
    }
    if (outcome.status === "refused") {
      this.state.reason = `master secret not set on chain; this node cannot set it (${outcome.reason})`;
      return;
    }
    this.log.info({ hash: this.candidate.hash }, "submitted the master secret hash");
    // Whether we won or lost a race, the next read tells; do it now so a winner serves at once.
    const after = (await this.sources.readHash()).toLowerCase();
    if (after === this.candidate.hash) {
      this.held = { ...this.candidate };
      this.serve(after as Hex);
    }
  }

  private presetEntry() {
    return this.preset
      ? { secret: this.preset, hash: masterSecretHashOf(this.preset), origin: "preset" as const }
      : undefined;
  }

  private async generated() {
    const secret = await this.sources.randomBytes(32);
    return { secret, hash: masterSecretHashOf(secret), origin: "generated" as const };
  }

  private serve(onChain: Hex): void {
    const wasServing = this.state.ready ? this.held?.secret : undefined;
    const { origin, from } = this.held!;
    this.state = { ready: true, reason: "serving", onChainHash: onChain, origin, syncedFrom: from };
    this.candidate = undefined;
    if (wasServing !== this.held!.secret) this.notify(this.held!.secret);
  }

  private stop(onChain: Hex, reason: string): void {
    const wasReady = this.state.ready;
    this.state = { ready: false, reason, onChainHash: onChain, origin: this.held?.origin, syncedFrom: this.held?.from };
    if (wasReady) {
      this.log.warn({ onChain }, `stopped serving: ${reason}`);
      this.notify(undefined);
    }
  }

  private notify(secret: Uint8Array | undefined): void {
    for (const listener of this.listeners) listener(secret);
  }
}
