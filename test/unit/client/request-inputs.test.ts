// How SDK arguments become §12 wire values: names as safe path segments, page queries, digests,
// and the page walker's guard against a node that never ends a listing.
import { describe, expect, it } from "vitest";
import { KmsClientError } from "../../../client/errors.js";
import {
  allPages,
  digestHex,
  lookupOfPath,
  nameSegment,
  optionalBase64,
  pageQuery,
} from "../../../client/request-inputs.js";

describe("request inputs", () => {
  it("encodes names as one path segment and refuses dot segments", () => {
    expect(nameSegment("orders.v2_a-b")).toBe("orders.v2_a-b");
    expect(nameSegment("a/b?c")).toBe("a%2Fb%3Fc");
    expect(nameSegment("...")).toBe("...");
    for (const bad of [".", "..", ""]) expect(() => nameSegment(bad)).toThrow(KmsClientError);
  });

  it("builds the page query and refuses a bad page size", () => {
    expect(pageQuery()).toEqual({ pageSize: 100, query: "?page_size=100" });
    expect(pageQuery({ pageSize: 5, pageToken: "b3Jk+/=" })).toEqual({
      pageSize: 5,
      query: "?page_size=5&page_token=b3Jk%2B%2F%3D",
    });
    for (const pageSize of [0, -1, 1.5, Number.NaN]) expect(() => pageQuery({ pageSize })).toThrow(KmsClientError);
  });

  it("writes digests as lower-case hex and binary inputs as base64", () => {
    expect(digestHex(new Uint8Array([0xab, 1]))).toBe("ab01");
    expect(digestHex("0xAB01")).toBe("ab01");
    expect(() => digestHex("xyz")).toThrow(KmsClientError);
    expect(optionalBase64(undefined)).toBeUndefined();
    expect(optionalBase64("hi")).toBe("aGk=");
    expect(optionalBase64(new Uint8Array([0, 255]))).toBe("AP8=");
  });

  it("follows page tokens to the end", async () => {
    const pages: Record<string, { items: number[]; nextPageToken?: string }> = {
      "": { items: [1, 2], nextPageToken: "a" },
      a: { items: [3], nextPageToken: "b" },
      b: { items: [] },
    };
    const asked: Array<string | undefined> = [];
    const all: number[] = [];
    for await (const n of allPages(async (token) => {
      asked.push(token);
      return pages[token ?? ""]!;
    }))
      all.push(n);
    expect(all).toEqual([1, 2, 3]);
    expect(asked).toEqual([undefined, "a", "b"]);
  });

  it("stops a listing whose token repeats", async () => {
    const walk = async () => {
      for await (const _ of allPages(async () => ({ items: [1], nextPageToken: "same" }))) {
        // drain
      }
    };
    await expect(walk()).rejects.toThrow(/repeated a page token/);
  });
});

describe("lookupOfPath", () => {
  it("names the key or secret of a named route, decoded; other routes have none", () => {
    expect(lookupOfPath("/kms/keys/a.b/versions/2/enable")).toEqual({ operation: "keys.lookup", key: "a.b" });
    expect(lookupOfPath("/kms/keys/k%2Dx?version=1")).toEqual({ operation: "keys.lookup", key: "k-x" });
    expect(lookupOfPath("/kms/secrets/db?version=3")).toEqual({ operation: "secrets.lookup", key: "db" });
    for (const path of ["/kms/keys", "/kms/keys?page_size=2", "/kms/decrypt", "/kms/secrets", "/kms/data/x"]) {
      expect(lookupOfPath(path)).toBeUndefined();
    }
  });
});
