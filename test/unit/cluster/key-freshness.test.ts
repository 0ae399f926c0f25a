// Whether a node's view of named keys is current (cluster/key-freshness.ts), with an injected
// monotonic clock: a gap between beats longer than the threshold means the process was stalled, and
// key operations then wait for one catch-up with a majority (single flight), or answer 503.
import { describe, expect, it, vi } from "vitest";
import { KeyFreshness } from "../../../enclave/cluster/key-freshness.js";
import { KmsError } from "../../../enclave/errors.js";

interface Deferred {
  resolve: (answered: number) => void;
  reject: (e: Error) => void;
}

function freshness(members = 3, thresholdMs = 1_500) {
  let t = 50_000;
  const pending: Deferred[] = [];
  const state = { calls: 0, answer: undefined as number | undefined };
  const f = new KeyFreshness({
    // Answers at once with `state.answer` when set; otherwise stays pending until the test settles it.
    catchUp: () => {
      state.calls++;
      if (state.answer !== undefined) return Promise.resolve(state.answer);
      return new Promise<number>((resolve, reject) => pending.push({ resolve, reject }));
    },
    memberCount: () => members,
    stallThresholdMs: thresholdMs,
    now: () => t,
  });
  return { f, state, pending, advance: (ms: number) => (t += ms) };
}

describe("KeyFreshness", () => {
  it("without a stall, ensure() never catches up", async () => {
    const { f, state, advance } = freshness();
    await f.ensure();
    advance(1_000);
    await f.ensure();
    advance(1_500); // exactly the threshold is not a stall
    await f.ensure();
    expect(state.calls).toBe(0);
    expect(f.stallsSeen).toBe(0);
  });

  it("a gap above the threshold makes concurrent callers wait for one single catch-up", async () => {
    const { f, state, pending, advance } = freshness();
    advance(1_501);
    let settled = 0;
    const waiting = [f.ensure(), f.ensure(), f.ensure()].map((p) => p.then(() => settled++));
    await Promise.resolve();
    expect(state.calls).toBe(1);
    expect(f.stallsSeen).toBe(1);
    expect(settled).toBe(0);
    pending[0]!.resolve(1); // 1 + 1 of 3 members: a majority
    await Promise.all(waiting);
    expect(settled).toBe(3);
    // Fresh again: the next calls do not catch up.
    advance(100);
    await f.ensure();
    expect(state.calls).toBe(1);
  });

  it("a catch-up reaching less than a majority answers 503 service_unavailable and stays stale", async () => {
    const { f, state, advance } = freshness(3);
    advance(10_000);
    state.answer = 0;
    const callers = await Promise.allSettled([f.ensure(), f.ensure()]);
    expect(state.calls).toBe(1);
    for (const c of callers) {
      expect(c.status).toBe("rejected");
      const e = (c as PromiseRejectedResult).reason as KmsError;
      expect(e).toBeInstanceOf(KmsError);
      expect(e.code).toBe("service_unavailable");
      expect(e.status).toBe(503);
      expect(e.message).toMatch(/reached 1 of 3 members/);
    }
    // Still stale: the next call (no new stall) tries again, and succeeds with a majority.
    await expect(f.ensure()).rejects.toThrow(KmsError);
    expect(state.calls).toBe(2);
    state.answer = 1;
    await f.ensure();
    expect(state.calls).toBe(3);
    await f.ensure();
    expect(state.calls).toBe(3);
    expect(f.stallsSeen).toBe(1);
  });

  it("a failing catch-up (peers unreachable) rejects its callers and is retried by the next one", async () => {
    const { f, state, pending, advance } = freshness();
    advance(2_000);
    const first = f.ensure();
    pending[0]!.reject(new Error("network down"));
    await expect(first).rejects.toThrow("network down");
    state.answer = 2;
    await f.ensure();
    expect(state.calls).toBe(2);
  });

  it("majority is counted of all members: 5 members need 2 peers, 1 member needs none", async () => {
    const five = freshness(5);
    five.advance(2_000);
    five.state.answer = 1;
    await expect(five.f.ensure()).rejects.toThrow(/reached 2 of 5 members/);
    five.state.answer = 2;
    await five.f.ensure();
    const one = freshness(1);
    one.advance(2_000);
    one.state.answer = 0;
    await one.f.ensure();
    expect(one.state.calls).toBe(1);
  });

  it("invalidate() forces a catch-up without a stall, once", async () => {
    const { f, state } = freshness();
    state.answer = 2;
    await f.ensure();
    expect(state.calls).toBe(0);
    f.invalidate();
    await f.ensure();
    expect(state.calls).toBe(1);
    await f.ensure();
    expect(state.calls).toBe(1);
    expect(f.stallsSeen).toBe(0);
  });

  it("every stall is counted, each forcing its own catch-up", async () => {
    const { f, state, advance } = freshness(3, 200);
    state.answer = 2;
    for (let i = 1; i <= 3; i++) {
      advance(201);
      await f.ensure();
      expect([state.calls, f.stallsSeen]).toEqual([i, i]);
    }
  });

  it("start(): the timer's beats notice a stall between operations; stop() ends them", async () => {
    vi.useFakeTimers();
    try {
      let t = 0;
      let calls = 0;
      const f = new KeyFreshness({
        catchUp: async () => {
          calls++;
          return 2;
        },
        memberCount: () => 3,
        beatMs: 250,
        now: () => t,
      });
      f.start();
      for (let i = 0; i < 8; i++) {
        t += 250;
        vi.advanceTimersByTime(250);
      }
      expect(f.stallsSeen).toBe(0);
      t += 5_000; // the process was stopped; its next beat comes late
      vi.advanceTimersByTime(250);
      expect(f.stallsSeen).toBe(1);
      t += 10; // an operation soon after finds the last beat recent, but the view is already stale
      await f.ensure();
      expect(calls).toBe(1);
      f.stop();
      t += 5_000;
      vi.advanceTimersByTime(1_000);
      expect(f.stallsSeen).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
