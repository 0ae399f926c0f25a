// CSPRNG bytes handed out from a buffer refilled in 4 KiB blocks. Per-request nonces are 12–16
// bytes, and one `randomFillSync` per nonce cost ~4 % of a derive's node CPU (bench/README.md);
// drawing them from a block amortises that. Each instance has its own buffer (no shared state).
import { randomFillSync } from "node:crypto";

export class RandomPool {
  private readonly buffer: Uint8Array;
  private offset: number;

  constructor(blockBytes = 4096) {
    this.buffer = new Uint8Array(blockBytes);
    this.offset = blockBytes;
  }

  /** `n` fresh random bytes (a copy; never handed out twice). */
  take(n: number): Uint8Array {
    if (n > this.buffer.length) return randomFillSync(new Uint8Array(n));
    if (this.offset + n > this.buffer.length) {
      randomFillSync(this.buffer);
      this.offset = 0;
    }
    const out = this.buffer.slice(this.offset, this.offset + n);
    // Wipe what was handed out, so the pool never keeps a copy of a nonce it gave away.
    this.buffer.fill(0, this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}
