import { BlockList, isIP } from 'node:net';

/**
 * Addresses a client ID metadata document must never be fetched from (CIMD §8.5: "MUST NOT fetch
 * … URLs … that resolve to special-use IP addresses as defined in RFC 6890"), from the IANA
 * special-purpose registries, plus private and shared ranges that reach internal services.
 * IPv6 is allowed only inside global unicast 2000::/3, which leaves out loopback, unspecified,
 * IPv4-mapped and -compatible, NAT64, discard, ULA fc00::/7, link-local and multicast wholesale.
 */
const IPV4_SPECIAL: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // shared address space, CGNAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.31.196.0', 24], // AS112
  ['192.52.193.0', 24], // AMT
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['192.175.48.0', 24], // AS112 direct delegation
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast 255.255.255.255
];

/** Special-purpose blocks inside 2000::/3. */
const IPV6_SPECIAL_IN_GLOBAL: Array<[string, number]> = [
  ['2001::', 23], // IETF protocol assignments (Teredo 2001::/32, benchmarking, ORCHID…)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address that could be private
  ['2620:4f:8000::', 48], // AS112
  ['3fff::', 20], // documentation (RFC 9637)
];

const special = new BlockList();
for (const [network, prefix] of IPV4_SPECIAL) special.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of IPV6_SPECIAL_IN_GLOBAL) special.addSubnet(network, prefix, 'ipv6');
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

// Two lists: a BlockList also matches IPv4-mapped IPv6 addresses against its IPv4 rules.
const loopbackV4 = new BlockList();
loopbackV4.addSubnet('127.0.0.0', 8, 'ipv4');
const loopbackV6 = new BlockList();
loopbackV6.addAddress('::1', 'ipv6');

/** True for an address the gateway may fetch a document from: a public unicast address. Anything unparsable is refused. */
export function isPublicAddress(address: string): boolean {
  try {
    switch (isIP(address)) {
      case 4:
        return !special.check(address, 'ipv4');
      case 6:
        return globalUnicast.check(address, 'ipv6') && !special.check(address, 'ipv6');
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** 127.0.0.0/8 and ::1 only (not IPv4-mapped forms): what the test-only loopback allowance admits. */
export function isLoopbackAddress(address: string): boolean {
  try {
    const family = isIP(address);
    if (family === 4) return loopbackV4.check(address, 'ipv4');
    return family === 6 && loopbackV6.check(address, 'ipv6');
  } catch {
    return false;
  }
}
