// A KV write (and every later replicated write) is acknowledged only once WRITE_QUORUM members
// hold it, this node included, so the loss of the accepting node right after a 2xx loses nothing
// (README "Consistency and durability"). The replicator reports each peer's acknowledged position;
// this module turns that into "has position P reached enough peers?", waits with a bound, and
// nudges the replicator to push now instead of at the next interval. Concurrent writes share the
// pushes: a write waits for the first push whose acknowledged position covers it.
import { KmsError } from "../errors.js";

/** `WRITE_QUORUM`: a member count (1 = this node alone, today's behaviour) or every reachable member. */
export type WriteQuorumSetting = number | "all";

/** What the quorum needs from replication. */
export interface ReplicaProgress {
  /** Peers (this node excluded) that acknowledged our change log up to `position`, in our epoch. */
  peersHolding(position: number): number;
  /** Peers currently in the cluster (registered, policy-allowed). */
  peerCount(): number;
  /** Peers whose last exchange succeeded: what "all" waits for. */
  reachablePeerCount(): number;
  /** Push to every peer now (a push already running is followed by another). */
  pushNow(): void;
}

export interface WriteQuorumOptions {
  setting: WriteQuorumSetting;
  timeoutMs: number;
  progress: ReplicaProgress;
  /** Counts each refusal for metrics. */
  onInsufficient?: () => void;
}

interface Waiter {
  position: number;
  peersNeeded: number;
  resolve: () => void;
}

export class WriteQuorum {
  private readonly waiters = new Set<Waiter>();
  private refusals = 0;

  constructor(private readonly options: WriteQuorumOptions) {}

  /** Members (this node included) a write must reach; for "all", the members reachable now. */
  required(): number {
    const { setting, progress } = this.options;
    return setting === "all" ? 1 + progress.reachablePeerCount() : setting;
  }

  /** Writes waiting for their replicas right now (for /status and metrics). */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Writes answered 503 insufficient_replicas since start. */
  get insufficientTotal(): number {
    return this.refusals;
  }

  /** The setting as /status shows it. */
  get setting(): WriteQuorumSetting {
    return this.options.setting;
  }

  /**
   * Resolves once `position` of our change log is held by enough members; 503
   * `insufficient_replicas` when the cluster has too few members or the timeout passes first. A
   * refused write stays applied here and still converges; the caller only learns that its outcome
   * is not guaranteed.
   */
  async acknowledge(position: number): Promise<void> {
    return this.acknowledgeBy(position, this.required() - 1);
  }

  /**
   * The same wait for an explicit number of peers (this node excluded): named-key changes need
   * every member that granted their lease and a majority (cluster/key-commits.ts), whatever
   * WRITE_QUORUM says for KV writes.
   */
  async acknowledgeBy(position: number, peersNeeded: number): Promise<void> {
    if (peersNeeded <= 0) return;
    const required = peersNeeded + 1;
    const members = 1 + this.options.progress.peerCount();
    if (members < required) {
      throw this.insufficient(`the write needs ${required} members but the cluster has ${members}`);
    }
    if (this.options.progress.peersHolding(position) >= peersNeeded) return;
    let waiter: Waiter | undefined;
    const reached = new Promise<void>((resolve) => {
      waiter = { position, peersNeeded, resolve };
      this.waiters.add(waiter);
    });
    this.options.progress.pushNow();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.options.timeoutMs);
    });
    try {
      const outcome = await Promise.race([reached, timedOut]);
      if (outcome === "timeout") {
        const held = 1 + this.options.progress.peersHolding(position);
        throw this.insufficient(
          `the write reached ${held} of the ${required} members it requires within ` +
            `${this.options.timeoutMs} ms; it stays applied here and will converge, but is not guaranteed`,
        );
      }
    } finally {
      clearTimeout(timer);
      if (waiter) this.waiters.delete(waiter);
    }
  }

  /** Called by replication whenever a peer acknowledges more of our log. */
  notify(): void {
    for (const waiter of this.waiters) {
      if (this.options.progress.peersHolding(waiter.position) >= waiter.peersNeeded) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  private insufficient(message: string): KmsError {
    this.refusals++;
    this.options.onInsufficient?.();
    return new KmsError("insufficient_replicas", message);
  }
}

/** Parses `WRITE_QUORUM`: a positive integer or "all". */
export function parseWriteQuorum(value: string): WriteQuorumSetting {
  if (value === "all") return "all";
  if (!/^[1-9][0-9]{0,2}$/.test(value)) throw new Error('must be a positive integer or "all"');
  return Number(value);
}
