import fc from "fast-check";
import { describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { canonicalJson, CanonicalJsonError } from "../../../enclave/crypto/canonical-json.js";

describe("canonicalJson", () => {
  it("matches the envelope vector plaintext", () => {
    expect(canonicalJson({ path: "wallet/root", length: 32, context: "session-a" })).toBe(
      vectors.odyn_envelope_v1.plaintext,
    );
  });

  it("sorts keys recursively, inside arrays too, without whitespace", () => {
    expect(canonicalJson({ b: { d: 1, c: [{ z: true, y: null }] }, a: "x y" })).toBe(
      '{"a":"x y","b":{"c":[{"y":null,"z":true}],"d":1}}',
    );
    expect(canonicalJson([3, "a", { b: 1, a: 2 }])).toBe('[3,"a",{"a":2,"b":1}]');
    expect(canonicalJson('é\n"')).toBe('"é\\n\\""');
  });

  it("orders keys by code point, like Python's sort_keys", () => {
    // U+FF61 sorts before U+1F600 by code point but after it by UTF-16 unit.
    expect(canonicalJson({ "😀": 1, "｡": 2, a: 3 })).toBe('{"a":3,"｡":2,"😀":1}');
  });

  it("drops undefined in objects, nulls it in arrays, honours toJSON", () => {
    expect(canonicalJson({ a: undefined, b: [undefined], c: new Date(0) })).toBe(
      '{"b":[null],"c":"1970-01-01T00:00:00.000Z"}',
    );
  });

  it("throws on values JSON cannot carry faithfully", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: Infinity })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: 1n })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(undefined)).toThrow(CanonicalJsonError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(CanonicalJsonError);
    // Shared (non-cyclic) references are fine.
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it("parses back to an equal value and is idempotent (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(text).not.toMatch(/^\s|\s$/);
        const reparsed: unknown = JSON.parse(text);
        expect(reparsed).toStrictEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(reparsed)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
