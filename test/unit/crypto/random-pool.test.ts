import { describe, expect, it } from "vitest";
import { bytesToHex } from "../../../enclave/crypto/bytes.js";
import { RandomPool } from "../../../enclave/crypto/random-pool.js";

describe("RandomPool", () => {
  it("never hands out the same bytes twice, across refills", () => {
    const pool = new RandomPool(64);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(bytesToHex(pool.take(12)));
    expect(seen.size).toBe(200);
  });

  it("returns copies of the requested size, also larger than a block", () => {
    const pool = new RandomPool(32);
    const a = pool.take(16);
    expect(a).toHaveLength(16);
    expect(pool.take(100)).toHaveLength(100);
    const before = bytesToHex(a);
    pool.take(16);
    pool.take(16); // forces a refill that overwrites the buffer
    expect(bytesToHex(a)).toBe(before);
  });
});
