// Which peer URLs a node may connect to. In enclave mode a peer must use https and must not
// resolve to a special-purpose address (a registry entry must not be able to point the node at its
// own host's internal services, at a translator or tunnel that reaches them, or at anything that is
// not an ordinary public unicast host). The address check runs on the address actually used for the
// connection (see `guardedLookup`), so DNS cannot swap it after the check.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";

export interface PeerUrlPolicy {
  /** https only, public addresses only. */
  enclaveMode: boolean;
}

/** A block of addresses that is never a peer, and where it is defined. */
export interface SpecialBlock {
  network: string;
  prefix: number;
  name: string;
  rfc: string;
}

const block = (network: string, prefix: number, name: string, rfc: string): SpecialBlock => ({
  network,
  prefix,
  name,
  rfc,
});

/**
 * The IANA IPv4 Special-Purpose Address Registry (RFC 6890 and the RFCs it lists), every entry,
 * plus multicast (IANA IPv4 address space). Entries the registry marks "globally reachable"
 * (anycast services, AS112, AMT) are refused as well: no KMS peer lives on them.
 */
export const IPV4_SPECIAL_BLOCKS: readonly SpecialBlock[] = [
  block("0.0.0.0", 8, "this network", "RFC 791 §3.2"),
  block("10.0.0.0", 8, "private-use", "RFC 1918"),
  block("100.64.0.0", 10, "shared address space (CGNAT)", "RFC 6598"),
  block("127.0.0.0", 8, "loopback", "RFC 1122 §3.2.1.3"),
  block("169.254.0.0", 16, "link local", "RFC 3927"),
  block("172.16.0.0", 12, "private-use", "RFC 1918"),
  // 192.0.0.0/24 holds 192.0.0.0/29 (RFC 7335), .8 (RFC 7600), .9 (RFC 7723), .10 (RFC 8155),
  // .170 and .171 (RFC 7050): all inside this block.
  block("192.0.0.0", 24, "IETF protocol assignments", "RFC 6890 §2.1"),
  block("192.0.2.0", 24, "documentation (TEST-NET-1)", "RFC 5737"),
  block("192.31.196.0", 24, "AS112-v4", "RFC 7535"),
  block("192.52.193.0", 24, "AMT", "RFC 7450"),
  block("192.88.99.0", 24, "deprecated 6to4 relay anycast", "RFC 7526"),
  block("192.168.0.0", 16, "private-use", "RFC 1918"),
  block("192.175.48.0", 24, "direct delegation AS112 service", "RFC 7534"),
  block("198.18.0.0", 15, "benchmarking", "RFC 2544"),
  block("198.51.100.0", 24, "documentation (TEST-NET-2)", "RFC 5737"),
  block("203.0.113.0", 24, "documentation (TEST-NET-3)", "RFC 5737"),
  block("224.0.0.0", 4, "multicast", "RFC 5771"),
  // Includes 255.255.255.255/32, limited broadcast (RFC 8190, RFC 919 §7).
  block("240.0.0.0", 4, "reserved", "RFC 1112 §4"),
];

/**
 * The IANA IPv6 Special-Purpose Address Registry (RFC 6890 and the RFCs it lists), every entry, plus
 * the address architecture's non-global ranges. `::ffff:0:0/96` (IPv4-mapped) is not refused as a
 * whole: such an address is judged by the IPv4 address it carries (see `isNonPublicAddress`).
 */
export const IPV6_SPECIAL_BLOCKS: readonly SpecialBlock[] = [
  block("::", 128, "unspecified", "RFC 4291 §2.5.2"),
  block("::1", 128, "loopback", "RFC 4291 §2.5.3"),
  // ::a.b.c.d: deprecated, and would reach the IPv4 address on some stacks.
  block("::", 96, "IPv4-compatible (deprecated)", "RFC 4291 §2.5.5.1"),
  // A NAT64 prefix reaches any IPv4 address, private ones included, through the translator.
  block("64:ff9b::", 96, "IPv4-IPv6 translation", "RFC 6052"),
  block("64:ff9b:1::", 48, "IPv4-IPv6 translation, local use", "RFC 8215"),
  block("100::", 64, "discard-only", "RFC 6666"),
  // 2001::/23 holds TEREDO 2001::/32 (RFC 4380), PCP/TURN/DNS-SD SRP anycast 2001:1::1-3/128
  // (RFC 7723, 8155, 9665), benchmarking 2001:2::/48 (RFC 5180), AMT 2001:3::/32 (RFC 7450),
  // AS112-v6 2001:4:112::/48 (RFC 7535), ORCHID 2001:10::/28 (RFC 4843), ORCHIDv2 2001:20::/28
  // (RFC 7343) and drone remote ID 2001:30::/28 (RFC 9374): all inside this block.
  block("2001::", 23, "IETF protocol assignments", "RFC 2928"),
  block("2001:db8::", 32, "documentation", "RFC 3849"),
  // 6to4 reaches the IPv4 address embedded in bits 16..47 through a relay.
  block("2002::", 16, "6to4", "RFC 3056"),
  block("2620:4f:8000::", 48, "direct delegation AS112 service", "RFC 7534"),
  block("3fff::", 20, "documentation", "RFC 9637"),
  block("5f00::", 16, "segment routing (SRv6) SIDs", "RFC 9602"),
  block("fc00::", 7, "unique-local", "RFC 4193"),
  block("fe80::", 10, "link-local unicast", "RFC 4291 §2.5.6"),
  block("fec0::", 10, "site-local (deprecated)", "RFC 3879"),
  block("ff00::", 8, "multicast", "RFC 4291 §2.7"),
];

/** One BlockList per entry, most specific first, so that a match names the entry that refused the address. */
function matchersOf(blocks: readonly SpecialBlock[], family: "ipv4" | "ipv6") {
  return [...blocks]
    .sort((a, b) => b.prefix - a.prefix)
    .map((b) => {
      const list = new BlockList();
      list.addSubnet(b.network, b.prefix, family);
      return { block: b, list };
    });
}
const v4Matchers = matchersOf(IPV4_SPECIAL_BLOCKS, "ipv4");
const v6Matchers = matchersOf(IPV6_SPECIAL_BLOCKS, "ipv6");

/** Global unicast (IANA IPv6 address space, RFC 4291 §2.4): the rest of IPv6 is reserved by the IETF. */
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet("2000::", 3, "ipv6");
const ipv4Mapped = new BlockList();
ipv4Mapped.addSubnet("::ffff:0:0", 96, "ipv6");

/**
 * The most specific special-purpose block holding `address`, if any. Node's BlockList matches an
 * IPv4-mapped address (::ffff:a.b.c.d, or ::ffff:xxxx:xxxx as URLs write it) against IPv4 rules, so
 * a mapped address gets the verdict of the IPv4 address it carries.
 */
export function specialBlockOf(address: string): SpecialBlock | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? "ipv4" : "ipv6";
  const matchers = family === 4 || ipv4Mapped.check(address, "ipv6") ? v4Matchers : v6Matchers;
  return matchers.find((m) => m.list.check(address, type))?.block;
}

/** True unless `address` is an ordinary public unicast IP address (anything unparsable is not). */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (specialBlockOf(address)) return true;
  if (family === 4 || ipv4Mapped.check(address, "ipv6")) return false;
  return !globalUnicastV6.check(address, "ipv6");
}

/** Why a peer URL is refused, or undefined when it is acceptable (before name resolution). */
export function checkPeerUrl(raw: string, policy: PeerUrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a valid URL";
  }
  if (url.username || url.password) return "credentials in URL";
  if (policy.enclaveMode) {
    if (url.protocol !== "https:") return "https required in enclave mode";
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) && isNonPublicAddress(host)) return "non-public address";
    if (host === "localhost" || host.endsWith(".localhost")) return "non-public address";
  } else if (url.protocol !== "https:" && url.protocol !== "http:") {
    return "http or https required";
  }
  return undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** The part of `dns.lookup` the guard uses: every address of a name. */
export type ResolveAll = (
  hostname: string,
  options: { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `dns.lookup` replacement for the peer connection pool: resolves as usual and, in enclave
 * mode, fails the connection unless EVERY resolved address is public — the connection may use any
 * of them, so one private address among public ones is enough to refuse.
 */
export function guardedLookup(policy: PeerUrlPolicy, resolveAll: ResolveAll = dnsLookup) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    resolveAll(hostname, { ...options, all: true }, (err, list) => {
      if (err) return callback(err, []);
      if (policy.enclaveMode && list.some((a) => isNonPublicAddress(a.address))) {
        const refused: NodeJS.ErrnoException = new Error(`peer ${hostname} resolves to a non-public address`);
        refused.code = "ENOTPUBLIC";
        return callback(refused, []);
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    });
  };
}
