// tcpSocket: a TCP connection to the port (on the pod IP unless the probe names a host) opens in time.
import net from 'net';
import type { TCPSocketAction } from '@peapod/api';
import type { ProbeHandler } from '../types';
import { resolvePort } from './port';

function dialError(address: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return `dial tcp ${address}: connect: connection refused`;
  if (err.code === 'EHOSTUNREACH') return `dial tcp ${address}: connect: no route to host`;
  return `dial tcp ${address}: ${err.message}`;
}

export const tcpSocketProbe: ProbeHandler<TCPSocketAction> = (action, target, timeoutMs) => {
  const port = resolvePort(target.container, action.port);
  const host = action.host || target.podIP;
  const address = `${host}:${port}`;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => finish({ result: 'failure', output: `dial tcp ${address}: i/o timeout` }), timeoutMs);
    function finish(outcome: { result: 'success' | 'failure'; output: string }): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    }
    socket.once('connect', () => finish({ result: 'success', output: '' }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ result: 'failure', output: dialError(address, err) }));
  });
};
