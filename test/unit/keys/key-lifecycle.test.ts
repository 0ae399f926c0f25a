// The lifecycle rules of one named key (PROTOCOL.md §12) as pure functions: defaults by purpose,
// rotation and the primary, version state transitions, destroy after a delay (settle) and the
// rotation schedule. Ported from the KeyRing conformance list of the old in-memory engine.
import { describe, expect, it } from "vitest";
import { KeyInputError } from "../../../enclave/keys/api.js";
import { MAX_ROTATION_PERIOD_DAYS } from "../../../enclave/protocol/key-views.js";
import {
  changeVersion,
  checkKeyName,
  DAY_MS,
  isDueForDestruction,
  isDueForRotation,
  type KeyRecord,
  KeyStateError,
  keyView,
  newKey,
  nextVersionNumber,
  rotateKey,
  settle,
  updateKey,
  usableVersion,
  versionOf,
} from "../../../enclave/keys/key-lifecycle.js";
import { KEY_PURPOSES } from "../../../enclave/keys/purpose.js";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const DELAY = 24 * HOUR;

/** Asserts a KeyStateError of the given kind and returns its message. */
function stateError(kind: "conflict" | "not_found", fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KeyStateError);
    expect((e as KeyStateError).kind).toBe(kind);
    return (e as Error).message;
  }
  throw new Error(`expected a KeyStateError ${kind}`);
}

/** A key with versions 1 (primary at creation) and 2 (primary now), both ENABLED. */
function rotated(): KeyRecord {
  return rotateKey(newKey({ name: "k", purpose: "encrypt" }, T0), T0 + 1000).key;
}

describe("newKey", () => {
  it("makes version 1 ENABLED and primary, with an encrypt key rotating every 30 days by default", () => {
    const key = newKey({ name: "orders", purpose: "encrypt" }, T0);
    expect(key).toEqual({
      name: "orders",
      purpose: "encrypt",
      primaryVersion: 1,
      rotationPeriodDays: 30,
      nextRotationAtMs: T0 + 30 * DAY_MS,
      createdAtMs: T0,
      description: "",
      labels: {},
      versions: [{ version: 1, state: "ENABLED", createdAtMs: T0 }],
    });
  });

  it("every other purpose rotates only by hand by default (period 0, next rotation 0)", () => {
    for (const purpose of KEY_PURPOSES.filter((p) => p !== "encrypt")) {
      const key = newKey({ name: "k", purpose }, T0);
      expect([purpose, key.rotationPeriodDays, key.nextRotationAtMs]).toEqual([purpose, 0, 0]);
    }
  });

  it("takes an explicit period (0 = manual even for encrypt), fractions of a day, description and labels", () => {
    expect(newKey({ name: "k", purpose: "encrypt", rotationPeriodDays: 0 }, T0).nextRotationAtMs).toBe(0);
    const fractional = newKey({ name: "k", purpose: "mac", rotationPeriodDays: 0.001 }, T0);
    expect(fractional.rotationPeriodDays).toBe(0.001);
    expect(fractional.nextRotationAtMs).toBe(T0 + 86_400);
    expect(newKey({ name: "k", purpose: "encrypt", rotationPeriodDays: 1.5 }, T0).nextRotationAtMs).toBe(
      T0 + 36 * HOUR,
    );
    const labels = { team: "pay" };
    const key = newKey({ name: "k", purpose: "encrypt", description: "orders key", labels }, T0);
    expect(key).toMatchObject({ description: "orders key", labels: { team: "pay" } });
    labels.team = "changed";
    expect(key.labels).toEqual({ team: "pay" }); // copied, not shared
    expect(newKey({ name: "k", purpose: "encrypt", rotationPeriodDays: MAX_ROTATION_PERIOD_DAYS }, T0)).toMatchObject({
      rotationPeriodDays: 3650,
      nextRotationAtMs: T0 + 3650 * DAY_MS,
    });
  });

  it("refuses a bad name or period with KeyInputError", () => {
    for (const name of ["", "a b", "a/b", "a:b", "é", "x".repeat(129), ".", ".."]) {
      expect(() => newKey({ name, purpose: "encrypt" }, T0), JSON.stringify(name)).toThrow(KeyInputError);
      expect(() => checkKeyName(name)).toThrow(KeyInputError);
    }
    for (const name of ["a", "A-z_0.9", "x".repeat(128), "...", ".a", "-"])
      expect(() => checkKeyName(name)).not.toThrow();
    for (const days of [-1, -0.001, 3650.5, 3651, Number.NaN, Number.POSITIVE_INFINITY, "30" as unknown as number]) {
      expect(() => newKey({ name: "k", purpose: "encrypt", rotationPeriodDays: days }, T0), String(days)).toThrow(
        KeyInputError,
      );
    }
  });
});

describe("rotateKey", () => {
  it("adds an ENABLED version that becomes primary and restarts the schedule from now, leaving the input alone", () => {
    const key = newKey({ name: "k", purpose: "encrypt", rotationPeriodDays: 2 }, T0);
    const at = T0 + 5 * HOUR;
    const { key: next, version } = rotateKey(key, at);
    expect(version).toEqual({ version: 2, state: "ENABLED", createdAtMs: at });
    expect(next.primaryVersion).toBe(2);
    expect(next.nextRotationAtMs).toBe(at + 2 * DAY_MS);
    expect(next.versions).toEqual([{ version: 1, state: "ENABLED", createdAtMs: T0 }, version]);
    expect(key.versions).toHaveLength(1);
    expect(key.primaryVersion).toBe(1);
    expect(key.nextRotationAtMs).toBe(T0 + 2 * DAY_MS);
  });

  it("a manual-only key stays manual-only after a rotation", () => {
    const key = newKey({ name: "k", purpose: "sign-p256" }, T0);
    expect(rotateKey(key, T0 + 1).key.nextRotationAtMs).toBe(0);
  });

  it("numbers the new version above every version the key has, whatever their order or state", () => {
    const key: KeyRecord = {
      ...newKey({ name: "k", purpose: "encrypt" }, T0),
      versions: [
        { version: 1, state: "DESTROYED", createdAtMs: T0, destroyedAtMs: T0 + 5 },
        { version: 7, state: "DISABLED", createdAtMs: T0 },
        { version: 3, state: "ENABLED", createdAtMs: T0 },
      ],
      primaryVersion: 3,
    };
    expect(nextVersionNumber(key)).toBe(8);
    const { key: next, version } = rotateKey(key, T0 + 9);
    expect(version.version).toBe(8);
    expect(next.primaryVersion).toBe(8);
    expect(next.versions.map((v) => v.version)).toEqual([1, 7, 3, 8]);
    expect(rotateKey(next, T0 + 10).version.version).toBe(9);
  });
});

describe("updateKey", () => {
  it("changes description and labels, and a new period restarts the schedule from now", () => {
    const key = newKey({ name: "k", purpose: "encrypt", labels: { a: "1" } }, T0);
    const at = T0 + 3 * DAY_MS;
    const next = updateKey(key, { description: "d", labels: { b: "2" }, rotationPeriodDays: 7 }, at);
    expect(next).toMatchObject({
      description: "d",
      labels: { b: "2" },
      rotationPeriodDays: 7,
      nextRotationAtMs: at + 7 * DAY_MS,
      primaryVersion: 1,
    });
    expect(updateKey(next, { rotationPeriodDays: 0 }, at + 1)).toMatchObject({
      rotationPeriodDays: 0,
      nextRotationAtMs: 0,
    });
    // Untouched fields keep their values; the input is not changed.
    expect(updateKey(key, {}, at)).toEqual(key);
    expect(key).toMatchObject({ description: "", labels: { a: "1" }, rotationPeriodDays: 30 });
    expect(() => updateKey(key, { rotationPeriodDays: -1 }, at)).toThrow(KeyInputError);
    expect(() => updateKey(key, { rotationPeriodDays: 3651 }, at)).toThrow(KeyInputError);
  });

  it("moves the primary only to an ENABLED version (else conflict), and to an unknown one → not_found", () => {
    const key = rotated();
    expect(updateKey(key, { primaryVersion: 1 }, T0).primaryVersion).toBe(1);
    const disabled = changeVersion(key, 1, "disable", T0, DELAY);
    expect(stateError("conflict", () => updateKey(disabled, { primaryVersion: 1 }, T0))).toMatch(/DISABLED/);
    const scheduled = changeVersion(key, 1, "destroy", T0, DELAY);
    expect(stateError("conflict", () => updateKey(scheduled, { primaryVersion: 1 }, T0))).toMatch(/DESTROY_SCHEDULED/);
    const destroyed = settle(scheduled, T0 + DELAY);
    expect(stateError("conflict", () => updateKey(destroyed, { primaryVersion: 1 }, T0 + DELAY))).toMatch(/DESTROYED/);
    stateError("not_found", () => updateKey(key, { primaryVersion: 3 }, T0));
    stateError("not_found", () => updateKey(key, { primaryVersion: 0 }, T0));
  });
});

describe("changeVersion", () => {
  it("disable → DISABLED (not usable), enable → ENABLED again; repeating either returns the same record", () => {
    const key = rotated();
    const disabled = changeVersion(key, 1, "disable", T0, DELAY);
    expect(versionOf(disabled, 1)).toEqual({ version: 1, state: "DISABLED", createdAtMs: T0 });
    expect(stateError("conflict", () => usableVersion(disabled, 1))).toBe("version 1 is DISABLED");
    expect(changeVersion(disabled, 1, "disable", T0, DELAY)).toBe(disabled);
    const enabled = changeVersion(disabled, 1, "enable", T0, DELAY);
    expect(versionOf(enabled, 1)).toEqual({ version: 1, state: "ENABLED", createdAtMs: T0 });
    expect(usableVersion(enabled, 1).version).toBe(1);
    expect(changeVersion(enabled, 1, "enable", T0, DELAY)).toBe(enabled);
    expect(versionOf(key, 1).state).toBe("ENABLED"); // input untouched
  });

  it("the primary cannot be disabled or destroyed (conflict)", () => {
    const key = rotated();
    expect(stateError("conflict", () => changeVersion(key, 2, "disable", T0, DELAY))).toMatch(/primary/);
    expect(stateError("conflict", () => changeVersion(key, 2, "destroy", T0, DELAY))).toMatch(/primary/);
    const single = newKey({ name: "k", purpose: "mac" }, T0);
    stateError("conflict", () => changeVersion(single, 1, "destroy", T0, DELAY));
  });

  it("destroy schedules destroy_at = now + delay from ENABLED or DISABLED; repeating keeps the first time", () => {
    const key = rotated();
    const at = T0 + 10;
    const scheduled = changeVersion(key, 1, "destroy", at, DELAY);
    expect(versionOf(scheduled, 1)).toEqual({
      version: 1,
      state: "DESTROY_SCHEDULED",
      createdAtMs: T0,
      destroyAtMs: at + DELAY,
    });
    expect(changeVersion(scheduled, 1, "destroy", at + HOUR, DELAY)).toBe(scheduled);
    const fromDisabled = changeVersion(changeVersion(key, 1, "disable", at, DELAY), 1, "destroy", at + 5, 1000);
    expect(versionOf(fromDisabled, 1)).toMatchObject({ state: "DESTROY_SCHEDULED", destroyAtMs: at + 1005 });
    // A scheduled version can neither be enabled nor disabled, nor used.
    expect(stateError("conflict", () => changeVersion(scheduled, 1, "enable", at, DELAY))).toBe(
      "version 1 is DESTROY_SCHEDULED",
    );
    stateError("conflict", () => changeVersion(scheduled, 1, "disable", at, DELAY));
    stateError("conflict", () => usableVersion(scheduled, 1));
  });

  it("restore works only from DESTROY_SCHEDULED and returns the version DISABLED without a destroy time", () => {
    const key = rotated();
    const restored = changeVersion(changeVersion(key, 1, "destroy", T0, DELAY), 1, "restore", T0 + 1, DELAY);
    expect(versionOf(restored, 1)).toEqual({ version: 1, state: "DISABLED", createdAtMs: T0 });
    expect(stateError("conflict", () => changeVersion(key, 1, "restore", T0, DELAY))).toBe("version 1 is ENABLED");
    expect(stateError("conflict", () => changeVersion(restored, 1, "restore", T0, DELAY))).toBe(
      "version 1 is DISABLED",
    );
  });

  it("an unknown version → not_found for every action", () => {
    const key = rotated();
    for (const action of ["enable", "disable", "destroy", "restore"] as const) {
      expect(stateError("not_found", () => changeVersion(key, 3, action, T0, DELAY))).toBe("key k has no version 3");
    }
    stateError("not_found", () => versionOf(key, 0));
    stateError("not_found", () => usableVersion(key, 9));
  });
});

describe("settle", () => {
  it("makes a scheduled version DESTROYED exactly at destroy_at_ms, and nothing brings it back", () => {
    const key = rotated();
    const scheduled = changeVersion(key, 1, "destroy", T0, DELAY);
    const destroyAt = T0 + DELAY;
    expect(settle(scheduled, destroyAt - 1)).toBe(scheduled);
    expect(isDueForDestruction(versionOf(scheduled, 1), destroyAt - 1)).toBe(false);
    expect(isDueForDestruction(versionOf(scheduled, 1), destroyAt)).toBe(true);
    const destroyed = settle(scheduled, destroyAt);
    expect(versionOf(destroyed, 1)).toEqual({
      version: 1,
      state: "DESTROYED",
      createdAtMs: T0,
      destroyedAtMs: destroyAt,
    });
    expect(versionOf(destroyed, 2).state).toBe("ENABLED");
    // Settling later keeps the destroy time of the schedule, not the time of the look.
    expect(versionOf(settle(scheduled, destroyAt + 5 * HOUR), 1).destroyedAtMs).toBe(destroyAt);
    expect(settle(destroyed, destroyAt + DAY_MS)).toBe(destroyed);
    for (const action of ["enable", "disable", "destroy", "restore"] as const) {
      expect(stateError("conflict", () => changeVersion(destroyed, 1, action, destroyAt, DELAY))).toBe(
        "version 1 is DESTROYED",
      );
    }
    expect(stateError("conflict", () => usableVersion(destroyed, 1))).toBe("version 1 is DESTROYED");
    expect(isDueForDestruction(versionOf(destroyed, 1), destroyAt + 1)).toBe(false);
  });

  it("leaves a record without due versions identical", () => {
    const key = rotated();
    expect(settle(key, T0 + 100 * DAY_MS)).toBe(key);
  });
});

describe("isDueForRotation / usableVersion / keyView", () => {
  it("is due exactly from next_rotation_at_ms on, never for a manual-only key", () => {
    const key = newKey({ name: "k", purpose: "encrypt", rotationPeriodDays: 1 }, T0);
    expect(isDueForRotation(key, T0 + DAY_MS - 1)).toBe(false);
    expect(isDueForRotation(key, T0 + DAY_MS)).toBe(true);
    const after = rotateKey(key, T0 + DAY_MS).key;
    expect(isDueForRotation(after, T0 + DAY_MS)).toBe(false);
    expect(isDueForRotation(after, T0 + 2 * DAY_MS)).toBe(true);
    const manual = newKey({ name: "m", purpose: "encrypt", rotationPeriodDays: 0 }, T0);
    expect(isDueForRotation(manual, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it("uses the primary unless a version is named", () => {
    const key = rotated();
    expect(usableVersion(key).version).toBe(2);
    expect(usableVersion(key, 1).version).toBe(1);
  });

  it("shows the key without its versions", () => {
    const key = rotated();
    const view = keyView(key);
    expect(view).not.toHaveProperty("versions");
    expect(view).toEqual({
      name: "k",
      purpose: "encrypt",
      primaryVersion: 2,
      rotationPeriodDays: 30,
      nextRotationAtMs: T0 + 1000 + 30 * DAY_MS,
      createdAtMs: T0,
      description: "",
      labels: {},
    });
  });
});
