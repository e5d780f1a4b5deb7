// The address ranges services are given addresses from: --service-cluster-ip-range (an IPv4
// CIDR) and --service-node-port-range ("30000-32767"), parsed and checked once at start.

import { isIPv4 } from 'node:net';

export interface IPv4Range {
  /** as given: "10.96.0.0/16" */
  cidr: string;
  /** the network address as a 32-bit number */
  network: number;
  /** addresses in the CIDR, network and broadcast included */
  size: number;
}

export interface PortRange {
  text: string;
  base: number;
  size: number;
}

export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * Parses an IPv4 service CIDR. As Kubernetes requires, it is no larger than /12 (a bitmap of
 * a million addresses); it must hold at least a few usable addresses.
 */
export function parseServiceCIDR(cidr: string): IPv4Range {
  const [ip, bitsText, extra] = cidr.split('/');
  const bits = Number(bitsText);
  if (extra !== undefined || !isIPv4(ip) || !/^\d+$/.test(bitsText ?? '') || bits > 32) {
    throw new Error(`invalid service cluster IP range ${JSON.stringify(cidr)}: expected an IPv4 CIDR such as 10.96.0.0/16`);
  }
  if (bits < 12 || bits > 29) throw new Error(`service cluster IP range ${cidr} must have a prefix between /12 and /29`);
  const size = 2 ** (32 - bits);
  // The CIDR names its network by any address in it: keep the network address.
  const network = ipv4ToNumber(ip) - (ipv4ToNumber(ip) % size);
  return { cidr: `${numberToIPv4(network)}/${bits}`, network, size };
}

/** Parses "30000-32767" (both ends included). */
export function parsePortRange(text: string): PortRange {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const base = m ? Number(m[1]) : NaN;
  const top = m ? Number(m[2]) : NaN;
  if (!m || base < 1 || top > 65535 || top < base) {
    throw new Error(`invalid service node port range ${JSON.stringify(text)}: expected FROM-TO, such as 30000-32767`);
  }
  return { text: `${base}-${top}`, base, size: top - base + 1 };
}
