import { posix } from 'path';
import type Docker from 'dockerode';
import { parseBytes, parseCpuMillis } from '@peapod/api';
import type { Container, Pod } from '@peapod/api';
import { ContainerConfigError } from './errors';
import { expandVars } from './expand-vars';
import {
  INFRA_CONTAINER_NAME,
  appLabels,
  dockerContainerName,
  infraLabels,
  podIdentity,
} from './labels';
import type { PodVolumes, SandboxInfo } from './types';

/** CFS period Docker uses for NanoCpus; pod-level quotas are written against the same period. */
export const CPU_PERIOD_MICROS = 100_000;

export interface ContainerLimits {
  memoryBytes?: number;
  cpuMillis?: number;
  /** Relative CPU weight from requests.cpu (limits.cpu when no request), as Kubernetes maps it. */
  cpuShares?: number;
}

function quantityOf(container: Container, kind: 'limits' | 'requests', resource: string): string | undefined {
  return container.resources?.[kind]?.[resource];
}

function parsed<T>(container: Container, field: string, text: string, parse: (t: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    throw new ContainerConfigError(`container "${container.name}": ${field}: ${(err as Error).message}`);
  }
}

export function containerLimits(container: Container): ContainerLimits {
  const limits: ContainerLimits = {};
  const memory = quantityOf(container, 'limits', 'memory');
  if (memory !== undefined) limits.memoryBytes = parsed(container, 'resources.limits.memory', memory, parseBytes);
  const cpu = quantityOf(container, 'limits', 'cpu');
  if (cpu !== undefined) limits.cpuMillis = parsed(container, 'resources.limits.cpu', cpu, parseCpuMillis);
  const cpuRequest = quantityOf(container, 'requests', 'cpu') ?? cpu;
  if (cpuRequest !== undefined) {
    const millis = parsed(container, 'resources.requests.cpu', cpuRequest, parseCpuMillis);
    limits.cpuShares = Math.max(2, Math.floor((millis * 1024) / 1000));
  }
  return limits;
}

/**
 * The pod's outer bound: the sum of its containers' limits, for a resource only when every
 * container limits it (one unlimited container makes the pod unlimited in that resource).
 */
export function podLimits(pod: Pod): { memoryBytes?: number; cpuMillis?: number } {
  const all = pod.spec.containers.map(containerLimits);
  const sum = (pick: (l: ContainerLimits) => number | undefined): number | undefined => {
    const values = all.map(pick);
    return values.length > 0 && values.every((v) => v !== undefined)
      ? values.reduce<number>((a, v) => a + (v ?? 0), 0)
      : undefined;
  };
  const result: { memoryBytes?: number; cpuMillis?: number } = {};
  const memoryBytes = sum((l) => l.memoryBytes);
  if (memoryBytes !== undefined) result.memoryBytes = memoryBytes;
  const cpuMillis = sum((l) => l.cpuMillis);
  if (cpuMillis !== undefined) result.cpuMillis = cpuMillis;
  return result;
}

export interface SandboxConfigInput {
  pod: Pod;
  node: string;
  extraLabels: Record<string, string>;
  infraImage: string;
  network: string;
  cgroupParent?: string;
  volumes?: PodVolumes;
}

/** Where the infra container holds a file volume mounted (and the agent writes it). */
export function sandboxVolumePath(volume: string): string {
  return `/peapod/volumes/${volume}`;
}

/** The infra container: holds the pod's network, IPC and UTS namespaces and publishes host ports. */
export function sandboxCreateOptions(input: SandboxConfigInput): Docker.ContainerCreateOptions {
  const { pod } = input;
  // Host namespaces would need a different sandbox; refuse them rather than run the pod isolated.
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (pod.spec[field]) throw new ContainerConfigError(`spec.${field} is not supported by this node`);
  }
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostPort: string; HostIp?: string }[]> = {};
  for (const container of pod.spec.containers) {
    for (const port of container.ports ?? []) {
      if (!port.hostPort) continue;
      const key = `${port.containerPort}/${(port.protocol ?? 'TCP').toLowerCase()}`;
      exposed[key] = {};
      const binding: { HostPort: string; HostIp?: string } = { HostPort: String(port.hostPort) };
      if (port.hostIP) binding.HostIp = port.hostIP;
      (bindings[key] ??= []).push(binding);
    }
  }
  const hostConfig: Docker.HostConfig = {
    NetworkMode: input.network,
    IpcMode: 'shareable',
    PortBindings: bindings,
    RestartPolicy: { Name: 'no' },
    // Holding them keeps a tmpfs volume's files while app containers restart.
    Binds: Object.entries(input.volumes ?? {}).flatMap(([name, v]) => (v.kind === 'files' ? [`${v.dockerVolume}:${sandboxVolumePath(name)}`] : [])),
  };
  if (input.cgroupParent) hostConfig.CgroupParent = input.cgroupParent;
  return {
    name: dockerContainerName(podIdentity(pod), INFRA_CONTAINER_NAME, 0),
    Image: input.infraImage,
    Hostname: (pod.spec.hostname ?? podIdentity(pod).name).slice(0, 63),
    Labels: infraLabels(pod, input.node, input.extraLabels),
    ExposedPorts: exposed,
    HostConfig: hostConfig,
  };
}

function safeSubPath(container: Container, subPath: string): string {
  const normal = posix.normalize(subPath);
  if (posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../')) {
    throw new ContainerConfigError(`container "${container.name}": subPath "${subPath}" must be relative and stay inside the volume`);
  }
  return normal;
}

function binds(container: Container, volumes: PodVolumes): string[] {
  return (container.volumeMounts ?? []).map((mount) => {
    const source = volumes[mount.name];
    if (!source) {
      throw new ContainerConfigError(`container "${container.name}": volumeMount "${mount.name}" names no pod volume`);
    }
    let from: string;
    if (source.kind === 'hostPath') {
      from = mount.subPath ? posix.join(source.path, safeSubPath(container, mount.subPath)) : source.path;
    } else if (source.kind === 'files' && mount.subPath && source.mountpoint) {
      // The file (or directory) of the version the volume holds as the container is created,
      // bound where the daemon keeps it: as with Kubernetes' subPath, later updates (a new
      // version swapped in beside it) are not seen there.
      from = posix.join(source.mountpoint, '..data', safeSubPath(container, mount.subPath));
    } else {
      // Docker 20.10 cannot mount a sub-directory of a named volume.
      if (mount.subPath) {
        throw new ContainerConfigError(`container "${container.name}": subPath on ${source.kind} volume "${mount.name}" is not supported`);
      }
      from = source.dockerVolume;
    }
    // The agent's files are never written from inside, as Kubernetes mounts them.
    const readOnly = mount.readOnly || source.kind === 'files';
    return `${from}:${mount.mountPath}${readOnly ? ':ro' : ''}`;
  });
}

function dockerUser(pod: Pod, container: Container): string | undefined {
  const user = container.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
  const group = container.securityContext?.runAsGroup ?? pod.spec.securityContext?.runAsGroup;
  if (user === undefined) return undefined;
  return group === undefined ? String(user) : `${user}:${group}`;
}

export interface AppConfigInput {
  pod: Pod;
  container: Container;
  sandbox: SandboxInfo;
  restartCount: number;
  volumes: PodVolumes;
  /** The resolved environment (see env.ts), which also expands $(VAR) in command and args. */
  env: Map<string, string>;
  node: string;
  extraLabels: Record<string, string>;
  /** id of a container whose process namespace this one joins */
  pidNamespaceOf?: string;
}

/**
 * An app container inside the pod's sandbox. No Hostname: it shares the infra's UTS
 * namespace through the joined network namespace (Docker refuses a hostname there).
 */
export function appContainerCreateOptions(input: AppConfigInput): Docker.ContainerCreateOptions {
  const { pod, container, sandbox } = input;
  if (!container.image) throw new ContainerConfigError(`container "${container.name}" has no image`);
  const join = `container:${sandbox.id}`;
  const limits = containerLimits(container);
  const security = container.securityContext ?? {};
  const hostConfig: Docker.HostConfig = {
    NetworkMode: join,
    IpcMode: join,
    Binds: binds(container, input.volumes),
    Privileged: security.privileged === true,
    ReadonlyRootfs: security.readOnlyRootFilesystem === true,
    RestartPolicy: { Name: 'no' },
  };
  if (input.pidNamespaceOf) hostConfig.PidMode = `container:${input.pidNamespaceOf}`;
  else if (pod.spec.shareProcessNamespace) hostConfig.PidMode = join;
  if (sandbox.cgroup.parent) hostConfig.CgroupParent = sandbox.cgroup.parent;
  if (limits.memoryBytes !== undefined) {
    hostConfig.Memory = limits.memoryBytes;
    // Equal to Memory: no swap on top of the limit, as Kubernetes runs containers.
    hostConfig.MemorySwap = limits.memoryBytes;
  }
  if (limits.cpuMillis !== undefined) hostConfig.NanoCpus = limits.cpuMillis * 1_000_000;
  if (limits.cpuShares !== undefined) hostConfig.CpuShares = limits.cpuShares;
  if (security.capabilities?.add?.length) hostConfig.CapAdd = security.capabilities.add;
  if (security.capabilities?.drop?.length) hostConfig.CapDrop = security.capabilities.drop;

  const options: Docker.ContainerCreateOptions = {
    name: dockerContainerName(podIdentity(pod), container.name, input.restartCount),
    Image: container.image,
    Labels: appLabels(pod, container, input.restartCount, input.node, input.extraLabels),
    Env: [...input.env].map(([name, value]) => `${name}=${value}`),
    Tty: container.tty === true,
    OpenStdin: container.stdin === true,
    // As Kubernetes' runtimes do: once the first attached client's stdin ends, the container's
    // stdin closes and the session goes on until the container stops (kubectl run -i prints
    // what comes after). Without it Docker ends an attach session when the client's stdin ends.
    StdinOnce: container.stdin === true && container.stdinOnce === true,
    HostConfig: hostConfig,
  };
  // Kubernetes semantics: command replaces the image ENTRYPOINT (and then the image CMD is
  // dropped, which Docker also does), args replace the image CMD.
  const expand = (list: string[]): string[] => list.map((arg) => expandVars(arg, (name) => input.env.get(name)));
  if (container.command?.length) options.Entrypoint = expand(container.command);
  if (container.args?.length) options.Cmd = expand(container.args);
  if (container.workingDir) options.WorkingDir = container.workingDir;
  const user = dockerUser(pod, container);
  if (user !== undefined) options.User = user;
  return options;
}
