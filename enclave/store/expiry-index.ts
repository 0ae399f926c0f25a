// Min-heap of expiry instants, so that finding what has expired costs O(log n) per expired record
// instead of a scan of every record. Entries are never removed in place: an overwritten or deleted
// version leaves a stale entry that the owner recognises (via `isCurrent`) when it surfaces; the
// owner calls `compact` when stale entries outnumber current ones.

export interface ExpiryEntry<T> {
  at: number;
  item: T;
}

export class ExpiryIndex<T> {
  private heap: ExpiryEntry<T>[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(at: number, item: T): void {
    const h = this.heap;
    h.push({ at, item });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  /** Removes and returns every entry with `at <= now`, earliest first. */
  popDue(now: number): T[] {
    const out: T[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= now) out.push(this.pop()!.item);
    return out;
  }

  peekAt(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Drops entries for which `keep` is false and re-heapifies: O(n), amortised over the stale ones. */
  compact(keep: (item: T) => boolean): void {
    this.heap = this.heap.filter((e) => keep(e.item));
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private pop(): ExpiryEntry<T> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(start: number): void {
    const h = this.heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.at < h[m]!.at) m = l;
      if (r < h.length && h[r]!.at < h[m]!.at) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
