// IPv4 ranges for the fake runtime's pod IPs: a node's range (its podCIDR), the i-th subnet
// of a cluster range (how peapod-hollow hands one to each node), and the addresses in use.
// The addresses are never routed anywhere; they only have to be unique per node and look right.

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/n`; the address is masked down to its network. */
export function parseCidr(text: string): Cidr {
  const [address, bits, ...rest] = text.split('/');
  const ip = parseIPv4(address ?? '');
  const prefix = Number(bits);
  if (ip === undefined || rest.length > 0 || !/^\d{1,2}$/.test(bits ?? '') || prefix > 32) {
    throw new Error(`${JSON.stringify(text)} is not an IPv4 CIDR such as 10.244.0.0/24`);
  }
  return { base: prefix === 0 ? 0 : (ip & ~(2 ** (32 - prefix) - 1)) >>> 0, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIPv4(cidr.base)}/${cidr.prefix}`;
}

/** The index-th subnet of size /prefix inside range (node i's podCIDR inside a cluster CIDR). */
export function nthSubnet(range: Cidr, prefix: number, index: number): Cidr {
  const count = 2 ** (prefix - range.prefix);
  if (prefix < range.prefix || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new Error(`${formatCidr(range)} has no subnet number ${index} of size /${prefix} (it has ${count})`);
  }
  return { base: range.base + index * 2 ** (32 - prefix), prefix };
}

/** Subnets of 10.128.0.0/9 a node name hashes to when it is given no podCIDR. */
const DEFAULT_NODE_RANGE = parseCidr('10.128.0.0/9');

/** A /24 derived from the node name (FNV-1a), stable across restarts. */
export function defaultPodCidr(nodeName: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < nodeName.length; i++) hash = Math.imul(hash ^ nodeName.charCodeAt(i), 0x01000193) >>> 0;
  return formatCidr(nthSubnet(DEFAULT_NODE_RANGE, 24, hash % 2 ** (24 - DEFAULT_NODE_RANGE.prefix)));
}

/**
 * The host addresses of one range, handed out round-robin (as host-local IPAM does, so an
 * address just freed is not reused at once). The network address, the first host (the
 * gateway's) and the broadcast address are never handed out.
 */
export class IpPool {
  private readonly first: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  private next = 0;

  constructor(readonly cidr: string) {
    const { base, prefix } = parseCidr(cidr);
    if (prefix > 30) throw new Error(`pod CIDR ${cidr} is too small: it needs at least a /30`);
    this.first = base + 2;
    this.size = 2 ** (32 - prefix) - 3;
  }

  get inUse(): number {
    return this.used.size;
  }

  allocate(): string {
    for (let tried = 0; tried < this.size; tried++) {
      const offset = this.next;
      this.next = (this.next + 1) % this.size;
      if (!this.used.has(offset)) {
        this.used.add(offset);
        return formatIPv4(this.first + offset);
      }
    }
    throw new Error(`no pod IP left in ${this.cidr} (${this.size} addresses in use)`);
  }

  release(ip: string): void {
    const n = parseIPv4(ip);
    if (n !== undefined) this.used.delete(n - this.first);
  }
}
