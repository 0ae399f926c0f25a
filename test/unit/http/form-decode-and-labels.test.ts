import { describe, expect, it } from "vitest";
import { CAPSULE_LABEL, ENCLAVER_LABEL } from "../../../enclave/crypto/envelope.js";
import { KmsError } from "../../../enclave/errors.js";
import { LabelMemory } from "../../../enclave/http/label-memory.js";
import { formDecodeComponent } from "../../../enclave/http/validate.js";

describe("formDecodeComponent (KV keys in GET /kms/data/<key>)", () => {
  it("reads what the runtime's form encoder writes, and what encodeURIComponent writes", () => {
    const keys = ["a b", "dir/x+y", "ünï cödé", "100%", "~*-._", "a\u0000b"];
    for (const key of keys) {
      const form = new URLSearchParams({ k: key }).toString().slice(2);
      expect(formDecodeComponent(form)).toBe(key);
      expect(formDecodeComponent(encodeURIComponent(key))).toBe(key);
    }
    expect(formDecodeComponent("a+b")).toBe("a b");
    expect(formDecodeComponent("a%2Bb")).toBe("a+b");
    expect(formDecodeComponent("a%2Fb")).toBe("a/b");
  });

  it("refuses malformed escapes with a 400", () => {
    for (const raw of ["%zz", "%", "a%2", "%E2%82"]) {
      const err = (() => {
        try {
          formDecodeComponent(raw);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(KmsError);
      expect(err).toMatchObject({ status: 400, message: "Invalid key: malformed percent-encoding" });
    }
  });
});

describe("LabelMemory", () => {
  it("answers a caller under its last label, others under capsule, and forgets the oldest past its bound", () => {
    const memory = new LabelMemory(2);
    expect(memory.labelFor("0xa")).toBe(CAPSULE_LABEL);
    memory.remember("0xa", ENCLAVER_LABEL);
    expect(memory.labelFor("0xa")).toBe(ENCLAVER_LABEL);
    memory.remember("0xa", undefined);
    expect(memory.labelFor("0xa")).toBe(ENCLAVER_LABEL);
    memory.remember("0xb", ENCLAVER_LABEL);
    memory.remember("0xc", ENCLAVER_LABEL);
    expect(memory.labelFor("0xa")).toBe(CAPSULE_LABEL);
    expect(memory.labelFor("0xc")).toBe(ENCLAVER_LABEL);
  });
});
