// Which X-Forwarded-For entry counts (PROTOCOL.md §2): the one the outermost trusted proxy appended,
// never the client-written leftmost; anything short or malformed falls back to the socket address.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { clientAddress, forwardedClient, type ProxyTrust } from "../../../enclave/http/middleware/client-address.js";

describe("forwardedClient", () => {
  it.each([
    ["6.6.6.6, 203.0.113.7", 1, "203.0.113.7"],
    ["6.6.6.6,203.0.113.7 ", 1, "203.0.113.7"],
    ["6.6.6.6, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"],
    ["203.0.113.7", 1, "203.0.113.7"],
    ["6.6.6.6, 2001:db8::7", 1, "2001:db8::7"],
  ] as const)("%s with %i hop(s) → %s", (header, hops, expected) => {
    expect(forwardedClient(header, hops)).toBe(expected);
  });

  it.each([
    ["no header", undefined, 1],
    ["fewer entries than hops", "203.0.113.7", 2],
    ["an empty entry", "6.6.6.6, ", 1],
    ["a name, not an address", "6.6.6.6, proxy.internal", 1],
    ["an address with a port", "6.6.6.6, 203.0.113.7:443", 1],
    ["garbage", "<script>", 1],
  ] as const)("is undefined for %s", (_name, header, hops) => {
    expect(forwardedClient(header, hops)).toBeUndefined();
  });
});

describe("clientAddress", () => {
  const seen = async (proxy: ProxyTrust, forwardedFor: string) => {
    const app = new Hono().get("/", (c) => c.text(clientAddress(c, proxy)));
    return (await app.request("/", { headers: { "x-forwarded-for": forwardedFor } })).text();
  };

  it("reads the header only when a proxy is trusted, and falls back to the socket address", async () => {
    // In process there is no socket; clientAddress calls that address "local".
    expect(await seen({ trusted: false, hops: 1 }, "6.6.6.6, 203.0.113.7")).toBe("local");
    expect(await seen({ trusted: true, hops: 1 }, "6.6.6.6, 203.0.113.7")).toBe("203.0.113.7");
    expect(await seen({ trusted: true, hops: 3 }, "6.6.6.6, 203.0.113.7")).toBe("local");
  });
});
