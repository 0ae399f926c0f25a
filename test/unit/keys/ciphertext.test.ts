import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CIPHERTEXT_PREFIX,
  CiphertextFormatError,
  ciphertextAad,
  decodeCiphertext,
  encodeCiphertext,
} from "../../../enclave/protocol/named-key-ciphertext.js";

const parts = {
  keyName: "orders.v2",
  version: 7,
  nonce: new Uint8Array(12).fill(1),
  sealed: new Uint8Array(20).fill(2),
};

describe("nkms1 ciphertext format", () => {
  it("round-trips every field and says which key and version it needs", () => {
    const text = encodeCiphertext(parts);
    expect(text.startsWith(CIPHERTEXT_PREFIX)).toBe(true);
    expect(text).not.toMatch(/[=+/]/);
    expect(decodeCiphertext(text)).toEqual(parts);
  });

  it("round-trips any valid name, version and body (property)", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/).filter((name) => name !== "." && name !== ".."),
        fc.integer({ min: 1, max: 0xffff_ffff }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ minLength: 16, maxLength: 200 }),
        (keyName, version, nonce, sealed) => {
          expect(decodeCiphertext(encodeCiphertext({ keyName, version, nonce, sealed }))).toEqual({
            keyName,
            version,
            nonce,
            sealed,
          });
        },
      ),
    );
  });

  it.each([
    ["not a string", 42],
    ["another prefix", "nkms2:AQ"],
    ["non-base64url characters", `${CIPHERTEXT_PREFIX}AQ+/`],
    ["padding", `${encodeCiphertext(parts)}=`],
    ["a truncated body", encodeCiphertext(parts).slice(0, 30)],
    ["an unknown format byte", `${CIPHERTEXT_PREFIX}${Buffer.from([2, 1, 65, 0, 0, 0, 1]).toString("base64url")}`],
    ["version 0", encodeCiphertext(parts).replace(/^(.*)$/, () => reencode({ version: 0 }))],
    ["an invalid key name", reencode({ name: "a b" })],
  ])("refuses %s", (_name, text) => {
    expect(() => decodeCiphertext(text)).toThrow(CiphertextFormatError);
  });

  it("binds app, key, version and caller AAD without ambiguity", () => {
    const base = ciphertextAad(1n, "k", 1, new Uint8Array([1]));
    const variants = [
      ciphertextAad(2n, "k", 1, new Uint8Array([1])),
      ciphertextAad(1n, "k2", 1, new Uint8Array([1])),
      ciphertextAad(1n, "k", 2, new Uint8Array([1])),
      ciphertextAad(1n, "k", 1, new Uint8Array([2])),
      ciphertextAad(1n, "k", 1, new Uint8Array()),
      // Shifting bytes between fields must change the AAD (length prefixes).
      ciphertextAad(11n, "", 1, new Uint8Array([1])),
    ];
    for (const v of variants) expect(Buffer.from(v).equals(Buffer.from(base))).toBe(false);
  });

  it("the AAD layout is pinned byte for byte (ciphertexts must open across versions of the node)", () => {
    const aad = ciphertextAad(7n, "k", 1, new Uint8Array([0xaa]));
    expect(Buffer.from(aad).toString("hex")).toBe(
      "6e6b6d7331" + "00000001" + "37" + "00000001" + "6b" + "00000004" + "00000001" + "00000001" + "aa",
    );
  });
});

/** A hand-built body with a bad field, encoded as the format would be. */
function reencode(bad: { version?: number; name?: string }): string {
  const name = Buffer.from(bad.name ?? "k", "latin1");
  const body = Buffer.alloc(2 + name.length + 4 + 12 + 16);
  body[0] = 1;
  body[1] = name.length;
  name.copy(body, 2);
  body.writeUInt32BE(bad.version ?? 1, 2 + name.length);
  return CIPHERTEXT_PREFIX + body.toString("base64url");
}
