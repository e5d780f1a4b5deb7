import { readFile } from 'fs/promises';
import type Docker from 'dockerode';
import { errorMessage } from './errors';

/** Linux capability names by bit number (without the CAP_ prefix, as Docker spells them). */
const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

/** Capabilities absent from a CapBnd mask (the hex field of /proc/<pid>/status). */
export function missingCapabilities(capBndHex: string): string[] {
  const mask = BigInt(`0x${capBndHex}`);
  return CAPABILITIES.filter((_, bit) => (mask & (1n << BigInt(bit))) === 0n);
}

/** How privileged containers run on this daemon. */
export type PrivilegedSupport =
  | { mode: 'full' }
  /** Privileged is refused; containers get every capability we hold, unconfined, instead. */
  | { mode: 'capabilities'; missing: string[]; reason: string };

/**
 * Some hosts (sandboxed VMs) lack a capability in every process's bounding set; runc then
 * refuses `Privileged` outright ("unable to apply caps"). We find out once by starting a
 * privileged container whose entrypoint does not exist: a daemon that can run privileged
 * containers fails on the missing file instead, before anything runs either way.
 */
export async function probePrivileged(docker: Docker, image: string, labels: Record<string, string>): Promise<PrivilegedSupport> {
  const probe = await docker.createContainer({
    Image: image,
    Entrypoint: ['/peapod-privileged-probe'],
    Labels: labels,
    HostConfig: { Privileged: true, NetworkMode: 'none' },
  });
  try {
    await probe.start();
    return { mode: 'full' };
  } catch (err) {
    const message = errorMessage(err);
    if (!/apply caps/.test(message)) return { mode: 'full' };
    const status = await readFile('/proc/self/status', 'utf8');
    const capBnd = /^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0';
    return { mode: 'capabilities', missing: missingCapabilities(capBnd), reason: message };
  } finally {
    await probe.remove({ force: true }).catch(() => undefined);
  }
}

/** The closest we can get to privileged when the daemon refuses it. */
export function applyCapabilitiesOnly(hostConfig: Docker.HostConfig, missing: string[]): void {
  hostConfig.Privileged = false;
  hostConfig.CapAdd = ['ALL'];
  if (missing.length > 0) hostConfig.CapDrop = missing;
  hostConfig.SecurityOpt = ['seccomp=unconfined', 'apparmor=unconfined'];
  hostConfig.MaskedPaths = [];
  hostConfig.ReadonlyPaths = [];
}
