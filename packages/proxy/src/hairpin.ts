// Hairpin mode on the pod bridge's ports (kubelet's hairpin-veth): a pod that reaches its own
// service can be sent to itself, and the bridge only sends a frame back out of the port it
// came in on when that port is in hairpin mode.

import { promises as fs } from 'fs';
import path from 'path';

/** Turns hairpin mode on for every port of `bridge` that lacks it; returns how many it changed. */
export async function enableHairpin(bridge: string, sysfs = '/sys/class/net'): Promise<number> {
  const dir = path.join(sysfs, bridge, 'brif');
  let changed = 0;
  for (const port of await fs.readdir(dir)) {
    const file = path.join(dir, port, 'hairpin_mode');
    try {
      if ((await fs.readFile(file, 'utf8')).trim() === '1') continue;
      await fs.writeFile(file, '1');
      changed++;
    } catch (err) {
      // A port that went away meanwhile (its container stopped).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return changed;
}
