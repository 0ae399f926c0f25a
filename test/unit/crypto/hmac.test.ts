// The sync MAC check must compare in constant time: a byte-by-byte comparison that stops at the first
// difference tells a forger, by its timing, how many leading bytes of a guessed MAC are right. Timing
// is too noisy to assert on, so the test pins the mechanism instead: the verdict must be the one
// node:crypto's timingSafeEqual gives for exactly (expected MAC, received MAC).
import * as nodeCrypto from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { hmacSha256, verifyHmacSha256 } from "../../../enclave/crypto/hmac.js";

vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const timingSafeEqual = vi.mocked(nodeCrypto.timingSafeEqual);
const key = new Uint8Array(32).fill(5);
const data = new TextEncoder().encode("exact body bytes");

describe("verifyHmacSha256", () => {
  beforeEach(() => {
    timingSafeEqual.mockClear();
  });

  it("accepts the MAC of the data and refuses any other", () => {
    const mac = hmacSha256(key, data);
    expect(verifyHmacSha256(key, data, mac)).toBe(true);
    const flipped = mac.slice();
    flipped[31]! ^= 1;
    expect(verifyHmacSha256(key, data, flipped)).toBe(false);
    expect(verifyHmacSha256(key, data, mac.subarray(0, 31))).toBe(false);
    expect(verifyHmacSha256(new Uint8Array(32), data, mac)).toBe(false);
  });

  it("decides through timingSafeEqual on (expected, received), for matches and mismatches alike", () => {
    const mac = hmacSha256(key, data);
    const wrong = new Uint8Array(32);
    for (const received of [mac, wrong]) {
      timingSafeEqual.mockClear();
      verifyHmacSha256(key, data, received);
      expect(timingSafeEqual).toHaveBeenCalledTimes(1);
      const [a, b] = timingSafeEqual.mock.calls[0]!;
      expect([Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array)]).toEqual([
        Buffer.from(mac),
        Buffer.from(received),
      ]);
    }
    // The answer is timingSafeEqual's own, not a second comparison beside it.
    timingSafeEqual.mockReturnValueOnce(true);
    expect(verifyHmacSha256(key, data, wrong)).toBe(true);
  });

  it("refuses a MAC of another length without comparing (timingSafeEqual would throw)", () => {
    expect(verifyHmacSha256(key, data, new Uint8Array(16))).toBe(false);
    expect(timingSafeEqual).not.toHaveBeenCalled();
  });
});
