import { promises as fs } from 'fs';
import type Docker from 'dockerode';
import { errorMessage } from './errors';
import { CPU_PERIOD_MICROS } from './container-config';
import type { PodCgroupInfo, PodCgroupLimits } from './types';

export interface DaemonCgroup {
  driver: string;
  version: '1' | '2';
}

export async function daemonCgroup(docker: Docker): Promise<DaemonCgroup> {
  const info = (await docker.info()) as { CgroupDriver?: unknown; CgroupVersion?: unknown };
  return {
    driver: typeof info.CgroupDriver === 'string' ? info.CgroupDriver : 'unknown',
    // Daemons older than 20.10 do not report a version and only know v1.
    version: info.CgroupVersion === '2' ? '2' : '1',
  };
}

/**
 * The cgroup parent of a pod, or why there is none. Only the cgroupfs driver takes a plain
 * path; with systemd the parent must be a slice systemd manages, which we do not drive.
 */
export function podCgroupParent(daemon: DaemonCgroup, root: string, uid: string): { parent?: string; note?: string } {
  if (root === '') return { note: 'pod cgroups disabled' };
  if (daemon.driver !== 'cgroupfs') {
    return { note: `cgroup driver ${daemon.driver}: per-container limits only` };
  }
  const base = `/${root.replace(/^\/+|\/+$/g, '')}`;
  return { parent: `${base === '/' ? '' : base}/pod${uid}` };
}

async function writeLimit(file: string, value: string): Promise<void> {
  await fs.writeFile(file, value);
}

/**
 * Writes the pod's summed limits on its parent cgroup, seen through our own cgroup mount.
 * Called once the infra container runs (Docker has then created the parent). When the agent
 * cannot see or write that cgroup (another cgroup namespace, read-only mount), it says so in
 * the note and the containers keep their own limits only.
 */
export async function applyPodLimits(
  fsRoot: string,
  daemon: DaemonCgroup,
  parent: string,
  limits: { memoryBytes?: number; cpuMillis?: number },
): Promise<PodCgroupInfo> {
  const applied: PodCgroupLimits = {};
  const problems: string[] = [];
  const memoryDir = daemon.version === '2' ? `${fsRoot}${parent}` : `${fsRoot}/memory${parent}`;
  const cpuDir = daemon.version === '2' ? `${fsRoot}${parent}` : `${fsRoot}/cpu${parent}`;
  if (limits.memoryBytes !== undefined) {
    try {
      const file = daemon.version === '2' ? 'memory.max' : 'memory.limit_in_bytes';
      await writeLimit(`${memoryDir}/${file}`, String(limits.memoryBytes));
      applied.memoryBytes = limits.memoryBytes;
    } catch (err) {
      problems.push(`memory: ${errorMessage(err)}`);
    }
  }
  if (limits.cpuMillis !== undefined) {
    try {
      // v1 keeps the period the kernel has; v2 sets quota and period together.
      const period =
        daemon.version === '2'
          ? CPU_PERIOD_MICROS
          : Number((await fs.readFile(`${cpuDir}/cpu.cfs_period_us`, 'utf8')).trim());
      const quota = Math.max(1000, Math.ceil((limits.cpuMillis * period) / 1000));
      if (daemon.version === '2') await writeLimit(`${cpuDir}/cpu.max`, `${quota} ${period}`);
      else await writeLimit(`${cpuDir}/cpu.cfs_quota_us`, String(quota));
      applied.cpuQuotaMicros = quota;
      applied.cpuPeriodMicros = period;
    } catch (err) {
      problems.push(`cpu: ${errorMessage(err)}`);
    }
  }
  const info: PodCgroupInfo = { parent, applied };
  if (limits.memoryBytes === undefined && limits.cpuMillis === undefined) {
    info.note = 'no pod-level limits: not every container sets limits';
  } else if (problems.length > 0) {
    info.note = `pod-level limits not fully applied (per-container limits still hold): ${problems.join('; ')}`;
  }
  return info;
}

/** Removes the (empty) pod cgroup directories Docker leaves behind; best effort. */
export async function removePodCgroup(fsRoot: string, daemon: DaemonCgroup, parent: string): Promise<void> {
  const dirs =
    daemon.version === '2'
      ? [`${fsRoot}${parent}`]
      : (await fs.readdir(fsRoot).catch(() => [] as string[])).map((controller) => `${fsRoot}/${controller}${parent}`);
  await Promise.all(dirs.map((dir) => fs.rmdir(dir).catch(() => undefined)));
}
