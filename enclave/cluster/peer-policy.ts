// Which peer URLs a node may connect to. In enclave mode a peer must use https and must not
// resolve to a private, loopback or link-local address (a registry entry must not be able to
// point the node at its own host's internal services). The address check runs on the address
// actually used for the connection (see `guardedLookup`), so DNS cannot swap it after the check.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";

export interface PeerUrlPolicy {
  /** https only, public addresses only. */
  enclaveMode: boolean;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** True for loopback, private, link-local, CGNAT, multicast and unspecified addresses (v4, v6, v4-mapped). */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, "ipv4");
    return blocked.check(address, "ipv6");
  }
  return true;
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

/**
 * A `dns.lookup` replacement for the peer connection pool: resolves as usual and, in enclave
 * mode, fails the connection when any resolved address is not public.
 */
export function guardedLookup(policy: PeerUrlPolicy) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
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
