import { describe, expect, it } from "vitest";
import { EnvelopeReplayGuard } from "../../../enclave/tee/replay-guard.js";

const key = (n: number) => Uint8Array.from({ length: 97 }, (_, i) => (i === 0 ? 4 : (n * 7 + i) & 0xff));
const nonce = (n: number) => Uint8Array.from({ length: 12 }, (_, i) => (n >> (i % 4)) & 0xff);

describe("EnvelopeReplayGuard", () => {
  it("remembers (sender, nonce) pairs, separately per sender", () => {
    const g = new EnvelopeReplayGuard(10);
    g.remember(key(1), nonce(1));
    expect(g.has(key(1), nonce(1))).toBe(true);
    expect(g.has(key(2), nonce(1))).toBe(false);
    expect(g.has(key(1), nonce(2))).toBe(false);
  });

  it("stays within its capacity, forgetting the oldest first", () => {
    const g = new EnvelopeReplayGuard(3);
    for (let i = 0; i < 5; i++) g.remember(key(1), nonce(i + 100));
    expect(g.size).toBe(3);
    expect(g.has(key(1), nonce(100))).toBe(false);
    expect(g.has(key(1), nonce(104))).toBe(true);
  });

  it("capacity 0 disables it", () => {
    const g = new EnvelopeReplayGuard(0);
    g.remember(key(1), nonce(1));
    expect(g.has(key(1), nonce(1))).toBe(false);
    expect(() => new EnvelopeReplayGuard(-1)).toThrow();
  });
});
