// The address ranges services are given addresses from: --service-cluster-ip-range (an IPv4
// CIDR) and --service-node-port-range ("30000-32767"), parsed and checked once at start.

import { parseIPv4CIDR, type IPv4Range } from '@peapod/api';

export interface PortRange {
  text: string;
  base: number;
  size: number;
}

/**
 * Parses an IPv4 service CIDR. As Kubernetes requires, it is no larger than /12 (a bitmap of
 * a million addresses); it must hold at least a few usable addresses.
 */
export function parseServiceCIDR(cidr: string): IPv4Range {
  const range = parseIPv4CIDR(cidr, 'service cluster IP range');
  if (range.bits < 12 || range.bits > 29) throw new Error(`service cluster IP range ${cidr} must have a prefix between /12 and /29`);
  return range;
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
