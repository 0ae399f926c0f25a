// Whether this node's view of named keys is current enough to use (README "Keys: replication").
// A key change is committed once every member that answered the lease holds it; a member that was
// stopped (SIGSTOP, a VM pause, a long GC) did not answer and missed it, and on waking it would
// otherwise serve a destroyed or disabled version as if nothing happened. Such a node notices the
// gap itself: a timer beats every few hundred ms, and a beat that comes far too late — or a key
// operation that finds the last beat far in the past — means the process was not running. Then
// key operations wait until it has compared its key records with a majority of the members (which
// include at least one that holds every committed change), or answer 503 if it cannot.
import { performance } from "node:perf_hooks";
import { KmsError } from "../errors.js";

export interface KeyFreshnessOptions {
  /** Compares our key records with every reachable peer; resolves to how many peers answered. */
  catchUp(): Promise<number>;
  /** Registered members, this node included. */
  memberCount(): number;
  /**
   * Whether this node's own exchanges currently reach a majority (itself included). A node cut off
   * from the others cannot have heard of changes made meanwhile, so it catches up first.
   */
  reachesMajority(): boolean;
  /** A gap between beats longer than this means the node was stalled (default 1,500 ms). */
  stallThresholdMs?: number;
  beatMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
}

export class KeyFreshness {
  private readonly now: () => number;
  private readonly thresholdMs: number;
  private lastBeat: number;
  private stale = false;
  private catchingUp: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stalls = 0;

  constructor(private readonly options: KeyFreshnessOptions) {
    this.now = options.now ?? (() => performance.now());
    this.thresholdMs = options.stallThresholdMs ?? 1_500;
    this.lastBeat = this.now();
  }

  start(): void {
    this.timer ??= setInterval(() => this.beat(), this.options.beatMs ?? 250);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stalls noticed since start (for /status and tests). */
  get stallsSeen(): number {
    return this.stalls;
  }

  /** Marks the view stale (also used when this node comes back from a membership lapse). */
  invalidate(): void {
    this.stale = true;
  }

  /** Resolves when key records may be used; 503 while this node cannot catch up. */
  async ensure(): Promise<void> {
    this.beat();
    if (!this.options.reachesMajority()) this.stale = true;
    if (!this.stale) return;
    this.catchingUp ??= this.catchUp().finally(() => {
      this.catchingUp = undefined;
    });
    await this.catchingUp;
  }

  private beat(): void {
    const now = this.now();
    if (now - this.lastBeat > this.thresholdMs) {
      this.stale = true;
      this.stalls++;
    }
    this.lastBeat = now;
  }

  private async catchUp(): Promise<void> {
    const answered = await this.options.catchUp();
    const members = this.options.memberCount();
    const majority = Math.floor(members / 2) + 1;
    if (1 + answered < majority) {
      throw new KmsError(
        "service_unavailable",
        `this node was not running for a while and reached ${1 + answered} of ${members} members to catch up ` +
          `on key changes; a majority is needed`,
      );
    }
    this.stale = false;
  }
}
