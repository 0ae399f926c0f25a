// The lifecycle rules of PROTOCOL.md §12 as a conformance list in the spirit of Cloud KMS tests:
// paging, rotation and the primary, enable/disable, destroy → scheduled → (clock) destroyed → 409
// forever, restore before that, the primary protected.
import { describe, expect, it } from "vitest";
import { KeyRing, KeyStateError } from "../../../enclave/keys/key-ring.js";

const HOUR = 3600 * 1000;
const wrapped = (n: number) => new Uint8Array(8).fill(n);

function ring() {
  let now = 1_000_000;
  const r = new KeyRing({ now: () => now, destroyDelayMs: 24 * HOUR });
  return { r, advance: (ms: number) => (now += ms), now: () => now };
}

const conflict = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KeyStateError);
    expect((e as KeyStateError).kind).toBe("conflict");
    return (e as Error).message;
  }
  throw new Error("expected a 409 conflict");
};

describe("KeyRing", () => {
  it("creates keys with purpose defaults, refuses a duplicate name, and pages every key exactly once", () => {
    const { r, now } = ring();
    for (const name of ["e", "d", "c", "b", "a"]) r.create({ name, purpose: "encrypt" }, wrapped(1));
    expect(r.get("a")).toMatchObject({
      primaryVersion: 1,
      rotationPeriodDays: 30,
      nextRotationAtMs: now() + 30 * 24 * HOUR,
    });
    expect(r.create({ name: "s", purpose: "sign-p256" }, wrapped(1)).nextRotationAtMs).toBe(0);
    conflict(() => r.create({ name: "a", purpose: "mac" }, wrapped(1)));
    expect(() => r.create({ name: "bad name", purpose: "mac" }, wrapped(1))).toThrow(RangeError);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = r.list(2, after);
      seen.push(...page.keys.map((k) => k.name));
      if (!page.nextAfter) break;
      after = page.nextAfter;
    }
    expect(seen).toEqual(["a", "b", "c", "d", "e", "s"]);
  });

  it("rotation makes a new primary; old versions stay usable for decryption; primary can be moved back", () => {
    const { r } = ring();
    r.create({ name: "k", purpose: "encrypt" }, wrapped(1));
    expect(r.rotate("k", wrapped(2)).version).toBe(2);
    expect(r.usable("k").version.version).toBe(2);
    expect(r.usable("k", 1).version.version).toBe(1);
    r.setPrimary("k", 1);
    expect(r.get("k").primaryVersion).toBe(1);
  });

  it("disable → 409 on use, enable → usable again; the primary cannot be disabled or destroyed", () => {
    const { r } = ring();
    r.create({ name: "k", purpose: "encrypt" }, wrapped(1));
    r.rotate("k", wrapped(2));
    r.disable("k", 1);
    expect(conflict(() => r.usable("k", 1))).toMatch(/DISABLED/);
    conflict(() => r.setPrimary("k", 1));
    r.enable("k", 1);
    expect(r.usable("k", 1).version.state).toBe("ENABLED");
    expect(conflict(() => r.disable("k", 2))).toMatch(/primary/);
    expect(conflict(() => r.destroy("k", 2))).toMatch(/primary/);
  });

  it("destroy schedules, restore brings it back DISABLED, and past the delay it is DESTROYED for good, material erased", () => {
    const { r, advance } = ring();
    r.create({ name: "k", purpose: "encrypt" }, wrapped(1));
    const v1 = r.get("k").versions.get(1)!;
    r.rotate("k", wrapped(2));
    expect(r.destroy("k", 1)).toMatchObject({ state: "DESTROY_SCHEDULED", destroyAtMs: expect.any(Number) });
    expect(conflict(() => r.usable("k", 1))).toMatch(/DESTROY_SCHEDULED/);
    expect(r.restore("k", 1).state).toBe("DISABLED");
    r.destroy("k", 1);
    const material = v1.wrapped!;
    advance(24 * HOUR);
    expect(r.get("k").versions.get(1)).toMatchObject({ state: "DESTROYED", destroyedAtMs: expect.any(Number) });
    expect(r.get("k").versions.get(1)!.wrapped).toBeUndefined();
    expect([...material].every((b) => b === 0)).toBe(true);
    for (const op of [
      () => r.restore("k", 1),
      () => r.enable("k", 1),
      () => r.destroy("k", 1),
      () => r.usable("k", 1),
    ]) {
      conflict(op);
    }
  });

  it("scheduled rotation comes due once per period", () => {
    const { r, advance } = ring();
    r.create({ name: "auto", purpose: "encrypt", rotationPeriodDays: 1 }, wrapped(1));
    r.create({ name: "manual", purpose: "encrypt", rotationPeriodDays: 0 }, wrapped(1));
    expect(r.dueForRotation()).toEqual([]);
    advance(24 * HOUR);
    expect(r.dueForRotation()).toEqual(["auto"]);
    r.rotate("auto", wrapped(2));
    expect(r.dueForRotation()).toEqual([]);
  });

  it("an unknown key or version is not found (404), not a conflict", () => {
    const { r } = ring();
    expect(() => r.get("none")).toThrow(expect.objectContaining({ kind: "not_found" }));
    r.create({ name: "k", purpose: "mac" }, wrapped(1));
    expect(() => r.usable("k", 9)).toThrow(expect.objectContaining({ kind: "not_found" }));
  });
});
