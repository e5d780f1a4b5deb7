// Where this node's pods live: the Docker network the agents put them on (its subnet is the
// cluster CIDR, its gateway the host's address on it), and the host interface that holds
// that address (the bridge, whose ports get hairpin mode). Docker is asked once, at start,
// through its Engine API on the local socket.

import http from 'http';
import os from 'os';
import { ipv4InRange, numberToIPv4, parseIPv4CIDR } from '@peapod/api';

export interface PodNetwork {
  /** the pods' addresses, e.g. 192.168.176.0/20 */
  cidr: string;
  /** the host's address on the pod network, if the host has one */
  gateway?: string;
  /** the host interface holding that address (a Docker bridge) */
  bridge?: string;
}

/** The Engine API socket: DOCKER_HOST when it names a unix socket, else Docker's default. */
function dockerSocket(): string {
  const host = process.env.DOCKER_HOST;
  if (host === undefined || host === '') return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new Error(`DOCKER_HOST=${host} is not a unix socket: give the pods' addresses with --cluster-cidr instead of --network`);
}

function getJson(socketPath: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('Docker did not answer within 10 s')));
    req.on('error', reject);
  });
}

interface DockerNetwork {
  Id?: string;
  Driver?: string;
  Options?: Record<string, string>;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
}

/**
 * The host interface with an IPv4 address inside `cidr`, and that address. Only interfaces
 * that are up are seen (a Docker bridge is down until its first container joins).
 */
export function hostInterfaceIn(cidr: string): { name: string; address: string } | undefined {
  const range = parseIPv4CIDR(cidr);
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && ipv4InRange(range, a.address)) return { name, address: a.address };
  }
  return undefined;
}

/** The pod network from a CIDR given on the command line. */
export function podNetworkOfCIDR(cidr: string): PodNetwork {
  const canonical = parseIPv4CIDR(cidr, 'cluster CIDR').cidr;
  const local = hostInterfaceIn(canonical);
  return local ? { cidr: canonical, gateway: local.address, bridge: local.name } : { cidr: canonical };
}

/** The pod network from the Docker network the agents use (its first IPv4 subnet). */
export async function podNetworkOfDocker(network: string): Promise<PodNetwork> {
  const socket = dockerSocket();
  let r: { status: number; body: unknown };
  try {
    r = await getJson(socket, `/networks/${encodeURIComponent(network)}`);
  } catch (err) {
    throw new Error(`asking Docker (${socket}) about network ${network}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (r.status === 404) throw new Error(`Docker has no network ${network} (the agents' --network)`);
  if (r.status !== 200) throw new Error(`Docker answered ${r.status} about network ${network}`);
  const info = r.body as DockerNetwork;
  const config = (info.IPAM?.Config ?? []).find((c) => c.Subnet !== undefined && !c.Subnet.includes(':'));
  if (!config?.Subnet) throw new Error(`Docker network ${network} has no IPv4 subnet`);
  const range = parseIPv4CIDR(config.Subnet, 'cluster CIDR');
  if (info.Driver !== 'bridge') return { cidr: range.cidr, ...(config.Gateway ? { gateway: config.Gateway } : {}) };
  // Docker's default bridge does not say its gateway: it is the subnet's first address unless the bridge says otherwise.
  const gateway = config.Gateway ?? hostInterfaceIn(range.cidr)?.address ?? numberToIPv4(range.network + 1);
  // Docker names a bridge br-<the network id's first 12 characters> unless its options say otherwise (docker0).
  const bridge = info.Options?.['com.docker.network.bridge.name'] ?? `br-${(info.Id ?? '').slice(0, 12)}`;
  return { cidr: range.cidr, gateway, bridge };
}
