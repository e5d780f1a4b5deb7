// IPv4 addresses and CIDRs as numbers: the service range the API server allocates from, the
// pod network and service range the service proxy matches traffic against.

import { isIPv4 } from 'node:net';

export interface IPv4Range {
  /** the network in canonical form: "10.96.0.0/16" */
  cidr: string;
  /** the network address as a 32-bit number */
  network: number;
  /** the prefix length */
  bits: number;
  /** addresses in the CIDR, network and broadcast included */
  size: number;
}

export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses an IPv4 CIDR ("10.96.0.0/16"; any address of the network names it); throws on anything else. */
export function parseIPv4CIDR(cidr: string, what = 'IPv4 CIDR'): IPv4Range {
  const [ip, bitsText, extra] = cidr.split('/');
  const bits = Number(bitsText);
  if (extra !== undefined || !isIPv4(ip) || !/^\d+$/.test(bitsText ?? '') || bits > 32) {
    throw new Error(`invalid ${what} ${JSON.stringify(cidr)}: expected an IPv4 CIDR such as 10.96.0.0/16`);
  }
  const size = 2 ** (32 - bits);
  const network = ipv4ToNumber(ip) - (ipv4ToNumber(ip) % size);
  return { cidr: `${numberToIPv4(network)}/${bits}`, network, bits, size };
}

export function ipv4InRange(range: IPv4Range, ip: string): boolean {
  if (!isIPv4(ip)) return false;
  const n = ipv4ToNumber(ip);
  return n >= range.network && n < range.network + range.size;
}
