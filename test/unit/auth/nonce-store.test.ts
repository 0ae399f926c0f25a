import { describe, expect, it } from "vitest";
import { NonceStore } from "../../../enclave/auth/nonce-store.js";

describe("NonceStore", () => {
  it("issues 16-byte base64 nonces that redeem exactly once", () => {
    const store = new NonceStore({ ttlMs: 1000, maxEntries: 10 });
    const nonce = store.issue();
    expect(Buffer.from(nonce, "base64")).toHaveLength(16);
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(store.consume(nonce)).toBe(true);
    expect(store.consume(nonce)).toBe(false);
  });

  it("rejects unknown and expired nonces", () => {
    let now = 1_000_000;
    const store = new NonceStore({ ttlMs: 1000, maxEntries: 10, now: () => now });
    expect(store.consume("AAAAAAAAAAAAAAAAAAAAAA==")).toBe(false);
    const nonce = store.issue();
    now += 1001;
    expect(store.consume(nonce)).toBe(false);
    const fresh = store.issue();
    now += 999;
    expect(store.consume(fresh)).toBe(true);
  });

  it("expires a nonce on time even right after another check read the clock", () => {
    let now = 1_000_000;
    const store = new NonceStore({ ttlMs: 1000, maxEntries: 10, now: () => now });
    const first = store.issue();
    const second = store.issue();
    now += 999;
    expect(store.consume(first)).toBe(true);
    now += 2;
    expect(store.consume(second)).toBe(false);
  });

  it("stays bounded, dropping the oldest outstanding nonce", () => {
    const store = new NonceStore({ ttlMs: 60_000, maxEntries: 3 });
    const nonces = Array.from({ length: 5 }, () => store.issue());
    expect(store.size).toBe(3);
    expect(store.consume(nonces[0]!)).toBe(false);
    expect(store.consume(nonces[4]!)).toBe(true);
  });
});
