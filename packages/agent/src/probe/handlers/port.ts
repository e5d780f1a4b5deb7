// A handler's port: a number, or the name of one of the container's ports (a numeric string counts as a number).
import type { Container } from '@peapod/api';

export function resolvePort(container: Container, port: number | string): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else {
    const named = container.ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^\d+$/.test(port)) n = Number(port);
    else throw new Error(`port "${port}" is not a named port of container "${container.name}"`);
  }
  if (!Number.isInteger(n) || n <= 0 || n >= 65536) throw new Error(`invalid port number: ${n}`);
  return n;
}
