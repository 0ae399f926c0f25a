// Per-node change sequence. Every change to a key's state gives that key a new, higher sequence
// number; the log lists keys in sequence order so a reader can resume from any position with a
// binary search. A key that changes again is appended again and its older slot goes stale (the key's
// current seq no longer matches), so each key appears once, at its latest change.

export interface Sequenced {
  /** Current sequence number; -1 once removed from the store. */
  seq: number;
}

export class ChangeLog<T extends Sequenced> {
  private items: T[] = [];
  private seqs: number[] = [];
  private stale = 0;
  private lastSeq = 0;

  /** Highest sequence number handed out so far (0 = nothing yet). */
  get head(): number {
    return this.lastSeq;
  }

  /** Assigns the next sequence number to `item` and appends it. */
  record(item: T): number {
    if (item.seq > 0) this.stale++;
    const seq = ++this.lastSeq;
    item.seq = seq;
    this.items.push(item);
    this.seqs.push(seq);
    this.maybeCompact();
    return seq;
  }

  /** Marks `item` as gone; its slot becomes stale. */
  remove(item: T): void {
    if (item.seq > 0) this.stale++;
    item.seq = -1;
    this.maybeCompact();
  }

  /** Current items with seq > position, in sequence order, lazily. */
  *after(position: number): Generator<T> {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid]! <= position) lo = mid + 1;
      else hi = mid;
    }
    // Compaction during iteration would shift indices; callers only read while iterating.
    for (let i = lo; i < this.items.length; i++) {
      const item = this.items[i]!;
      if (item.seq === this.seqs[i]) yield item;
    }
  }

  private maybeCompact(): void {
    if (this.stale < 1024 || this.stale * 2 < this.items.length) return;
    const items: T[] = [];
    const seqs: number[] = [];
    for (let i = 0; i < this.items.length; i++) {
      const item = this.items[i]!;
      if (item.seq === this.seqs[i]) {
        items.push(item);
        seqs.push(item.seq);
      }
    }
    this.items = items;
    this.seqs = seqs;
    this.stale = 0;
  }
}
