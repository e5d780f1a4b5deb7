import os from 'os';

/** The host's first non-loopback IPv4 address, else loopback: where others on the network reach it. */
export function hostIPv4(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
