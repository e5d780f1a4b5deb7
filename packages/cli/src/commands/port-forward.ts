// peactl port-forward POD|pod/NAME [LOCAL:]REMOTE... [--address A,B]
// Listens on each local port (on every --address) and forwards each connection it accepts
// over its own pods/portforward stream, until interrupted.

import net from 'net';
import type { Pod } from '@peapod/api';
import type { Context } from '../context';
import { CliError, errorLine } from '../errors';
import { podName } from './exec';

export interface PortForwardFlags {
  address: string;
}

interface PortPair {
  local: number;
  remote: number;
}

function port(text: string, what: string, allowZero: boolean): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n > 65535 || n < (allowZero ? 0 : 1)) throw new CliError(`${what} port ${JSON.stringify(text)} is not a valid port number`);
  return n;
}

/** 8080, 9000:80, :80 (a free local port). */
export function parsePortPair(spec: string): PortPair {
  const parts = spec.split(':');
  if (parts.length === 1) {
    const p = port(parts[0], 'remote', false);
    return { local: p, remote: p };
  }
  if (parts.length !== 2) throw new CliError(`invalid port format ${JSON.stringify(spec)}: LOCAL:REMOTE`);
  return { local: parts[0] === '' ? 0 : port(parts[0], 'local', true), remote: port(parts[1], 'remote', false) };
}

function listen(address: string, localPort: number, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer(onConnection);
    server.once('error', reject);
    server.listen(localPort, address, () => resolve(server));
  });
}

export async function portForward(ctx: Context, args: string[], flags: PortForwardFlags): Promise<void> {
  if (args.length < 2) throw new CliError('expected POD [LOCAL:]REMOTE...');
  const pod = podName(args[0], 'forward ports of');
  const pairs = args.slice(1).map(parsePortPair);
  const obj = await ctx.client.get<Pod>('pods', pod, { namespace: ctx.namespace });
  if (obj.status?.phase !== 'Running') throw new CliError(`unable to forward port because pod is not running. Current status=${obj.status?.phase ?? 'Unknown'}`);
  const addresses = flags.address
    .split(',')
    .map((a) => (a.trim() === 'localhost' ? '127.0.0.1' : a.trim()))
    .filter(Boolean);
  const servers: net.Server[] = [];
  const connections = new Set<net.Socket>();
  const forward = (local: number, remote: number) => (socket: net.Socket) => {
    process.stdout.write(`Handling connection for ${local}\n`);
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    ctx.client.portForward(ctx.namespace, pod, remote).then(
      (stream) => {
        stream.on('error', (err) => {
          process.stderr.write(`error: an error occurred forwarding ${local} -> ${remote}: ${errorLine(err).replace(/^error: /, '')}\n`);
          socket.destroy();
        });
        socket.pipe(stream);
        stream.pipe(socket);
        socket.on('close', () => stream.destroy());
      },
      (err: unknown) => {
        process.stderr.write(`${errorLine(err)}\n`);
        socket.destroy();
      },
    );
  };
  try {
    for (const pair of pairs) {
      let local = pair.local;
      for (const address of addresses) {
        // Every address shares the local port; the first picks it when 0 was asked.
        const server = await listen(address, local, (socket) => forward(local, pair.remote)(socket));
        servers.push(server);
        local = (server.address() as net.AddressInfo).port;
        process.stdout.write(`Forwarding from ${address.includes(':') ? `[${address}]` : address}:${local} -> ${pair.remote}\n`);
      }
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw new CliError(`unable to listen on any of the requested ports: ${(err as Error).message}`);
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      for (const s of servers) s.close();
      for (const c of connections) c.destroy();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
