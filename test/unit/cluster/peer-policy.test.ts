import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import {
  IPV4_SPECIAL_BLOCKS,
  IPV6_SPECIAL_BLOCKS,
  type ResolveAll,
  type SpecialBlock,
  checkPeerUrl,
  guardedLookup,
  isNonPublicAddress,
  specialBlockOf,
} from "../../../enclave/cluster/peer-policy.js";

// Addresses as numbers, to name the first and last address of a block and its two neighbours.
const V4_BITS = 32n;
const V6_BITS = 128n;

function v4ToBig(a: string): bigint {
  return a.split(".").reduce((n, part) => (n << 8n) | BigInt(part), 0n);
}
function bigToV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => ((n >> s) & 255n).toString()).join(".");
}
function v6ToBig(a: string): bigint {
  const [head = "", tail = ""] = a.split("::");
  const h = head ? head.split(":") : [];
  const t = a.includes("::") && tail ? tail.split(":") : [];
  const groups = a.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return groups.reduce((n, g) => (n << 16n) | BigInt(`0x${g}`), 0n);
}
function bigToV6(n: bigint): string {
  return Array.from({ length: 8 }, (_, i) => ((n >> BigInt((7 - i) * 16)) & 0xffffn).toString(16)).join(":");
}

/** First and last address of a block, and the addresses just before and after it (when they exist). */
function edges(b: SpecialBlock, v6: boolean) {
  const bits = v6 ? V6_BITS : V4_BITS;
  const [toBig, toText] = v6 ? [v6ToBig, bigToV6] : [v4ToBig, bigToV4];
  const first = toBig(b.network);
  const last = first + (1n << (bits - BigInt(b.prefix))) - 1n;
  const max = (1n << bits) - 1n;
  return {
    inside: [toText(first), toText(last)],
    outside: [first > 0n ? toText(first - 1n) : undefined, last < max ? toText(last + 1n) : undefined].filter(
      (a): a is string => a !== undefined,
    ),
  };
}

/** Whether block `inner` lies within block `outer`. */
function contains(outer: SpecialBlock, inner: SpecialBlock, v6: boolean): boolean {
  const range = (b: SpecialBlock) => edges(b, v6).inside.map(v6 ? v6ToBig : v4ToBig);
  const [o1, o2] = range(outer);
  const [i1, i2] = range(inner);
  return inner.prefix >= outer.prefix && i1! >= o1! && i2! <= o2!;
}

describe("special-purpose address table", () => {
  const cases = [
    ...IPV4_SPECIAL_BLOCKS.map((b) => ({ b, v6: false })),
    ...IPV6_SPECIAL_BLOCKS.map((b) => ({ b, v6: true })),
  ].map(({ b, v6 }) => [`${b.network}/${b.prefix} (${b.name}, ${b.rfc})`, b, v6] as const);

  it.each(cases)("%s: refused inside, not matched just outside", (_, b, v6) => {
    const { inside, outside } = edges(b, v6);
    for (const address of inside) {
      // The entry itself, or a more specific one nested in it (e.g. ::/128 inside ::/96).
      const matched = specialBlockOf(address);
      expect(matched && contains(b, matched, v6), address).toBe(true);
      expect(isNonPublicAddress(address), address).toBe(true);
    }
    for (const address of outside) expect(specialBlockOf(address), address).not.toBe(b);
  });

  // The neighbours above that are ordinary public addresses must stay allowed (the table is not a
  // blanket refusal); the others are covered by a neighbouring entry or, for IPv6, by lying outside
  // global unicast 2000::/3.
  it.each([
    ["9.255.255.255", "before 10/8"],
    ["11.0.0.0", "after 10/8"],
    ["100.63.255.255", "before 100.64/10"],
    ["100.128.0.0", "after 100.64/10"],
    ["126.255.255.255", "before 127/8"],
    ["128.0.0.0", "after 127/8"],
    ["172.15.255.255", "before 172.16/12"],
    ["172.32.0.0", "after 172.16/12"],
    ["191.255.255.255", "before 192.0.0/24"],
    ["192.0.1.0", "after 192.0.0/24"],
    ["192.0.3.0", "after 192.0.2/24"],
    ["192.88.98.255", "before 192.88.99/24"],
    ["192.167.255.255", "before 192.168/16"],
    ["192.169.0.0", "after 192.168/16"],
    ["198.17.255.255", "before 198.18/15"],
    ["198.20.0.0", "after 198.18/15"],
    ["203.0.112.255", "before 203.0.113/24"],
    ["223.255.255.255", "before 224/4"],
    ["1.0.0.0", "after 0/8"],
    ["2001:200::", "after 2001::/23"],
    ["2001:db9::", "after 2001:db8::/32"],
    ["2003::1", "after 2002::/16"],
    ["2001:1fff:ffff::1", "before 2001:db8::/32, not in 2001::/23"],
    ["2620:4f:8001::", "after 2620:4f:8000::/48"],
    ["3ffe:ffff::1", "before 3fff::/20"],
    ["3fff:1000::", "after 3fff::/20"],
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["2606:4700:4700::1111", "public"],
    ["::ffff:8.8.8.8", "IPv4-mapped public"],
    ["::ffff:808:808", "IPv4-mapped public, hex form"],
  ])("%s (%s) is public", (address) => expect(isNonPublicAddress(address)).toBe(false));

  it.each([
    ["64:ff9b::a00:1", "NAT64 of 10.0.0.1"],
    ["64:ff9b::808:808", "NAT64 even of a public address"],
    ["2002:c0a8:101::1", "6to4 of 192.168.1.1"],
    ["fec0::1", "site-local"],
    ["::7f00:1", "IPv4-compatible ::127.0.0.1"],
    ["::808:808", "IPv4-compatible ::8.8.8.8"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
    ["::ffff:7f00:1", "IPv4-mapped loopback, as URLs write it"],
    ["::ffff:a9fe:a9fe", "IPv4-mapped 169.254.169.254"],
    ["198.18.0.1", "benchmarking"],
    ["192.0.0.9", "IETF protocol assignment"],
    ["255.255.255.255", "limited broadcast"],
    ["4000::1", "outside global unicast"],
    ["not-an-address", "not an address"],
  ])("%s (%s) is not public", (address) => expect(isNonPublicAddress(address)).toBe(true));
});

describe("checkPeerUrl", () => {
  const enclave = { enclaveMode: true };
  const sim = { enclaveMode: false };
  it("requires https and public literal addresses in enclave mode", () => {
    expect(checkPeerUrl("http://kms.example.com", enclave)).toBe("https required in enclave mode");
    expect(checkPeerUrl("https://127.0.0.1:8000", enclave)).toBe("non-public address");
    expect(checkPeerUrl("https://[::1]:8000", enclave)).toBe("non-public address");
    expect(checkPeerUrl("https://[::ffff:127.0.0.1]:8000", enclave)).toBe("non-public address");
    expect(checkPeerUrl("https://[64:ff9b::10.0.0.1]", enclave)).toBe("non-public address");
    expect(checkPeerUrl("https://[::10.0.0.1]", enclave)).toBe("non-public address");
    expect(checkPeerUrl("https://0x7f.1", enclave)).toBe("non-public address");
    expect(checkPeerUrl("https://localhost", enclave)).toBe("non-public address");
    expect(checkPeerUrl("https://kms.localhost", enclave)).toBe("non-public address");
    expect(checkPeerUrl("https://kms.example.com", enclave)).toBeUndefined();
    expect(checkPeerUrl("https://8.8.8.8", enclave)).toBeUndefined();
  });
  it("allows http and loopback in simulation, but never other schemes or credentials", () => {
    expect(checkPeerUrl("http://127.0.0.1:8000", sim)).toBeUndefined();
    expect(checkPeerUrl("ftp://x", sim)).toBe("http or https required");
    expect(checkPeerUrl("https://u:p@kms.example.com", sim)).toBe("credentials in URL");
    expect(checkPeerUrl("not a url", sim)).toBe("not a valid URL");
  });
});

describe("guardedLookup", () => {
  const resolve = (policy: { enclaveMode: boolean }, host: string, resolveAll?: ResolveAll, all = false) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((done) =>
      guardedLookup(policy, resolveAll)(host, all ? { all: true } : {}, (err, address) => done({ err, address })),
    );
  /** A resolver that answers every name with these addresses. */
  const answering =
    (...addresses: string[]): ResolveAll =>
    (_host, _options, callback) =>
      callback(
        null,
        addresses.map((address): LookupAddress => ({ address, family: address.includes(":") ? 6 : 4 })),
      );

  it("refuses names that resolve to loopback in enclave mode, checked on the resolved address", async () => {
    const refused = await resolve({ enclaveMode: true }, "localhost");
    expect(refused.err?.code).toBe("ENOTPUBLIC");
    const allowed = await resolve({ enclaveMode: false }, "localhost");
    expect(allowed.err).toBeNull();
    expect(isNonPublicAddress(String(allowed.address))).toBe(true);
  });

  it("refuses a name with one public and one private address, whichever comes first", async () => {
    for (const order of [
      ["8.8.8.8", "10.0.0.1"],
      ["10.0.0.1", "8.8.8.8"],
      ["2606:4700:4700::1111", "fd00::1"],
    ]) {
      const { err, address } = await resolve({ enclaveMode: true }, "mixed.example", answering(...order));
      expect(err?.code, order.join(",")).toBe("ENOTPUBLIC");
      expect(address).toEqual([]);
    }
  });

  it("passes a name whose every address is public, first address or all of them as asked", async () => {
    const resolver = answering("8.8.8.8", "1.1.1.1");
    expect(await resolve({ enclaveMode: true }, "public.example", resolver)).toEqual({ err: null, address: "8.8.8.8" });
    expect(await resolve({ enclaveMode: true }, "public.example", resolver, true)).toEqual({
      err: null,
      address: [
        { address: "8.8.8.8", family: 4 },
        { address: "1.1.1.1", family: 4 },
      ],
    });
  });
});
