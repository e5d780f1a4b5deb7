import type { Readable } from 'stream';
import Docker from 'dockerode';
import { parseBytes } from '@peapod/api';
import type { Container, Pod } from '@peapod/api';
import { applyPodLimits, daemonCgroup, podCgroupParent, removePodCgroup, type DaemonCgroup } from './cgroup';
import { appContainerCreateOptions, podLimits, sandboxCreateOptions, sandboxVolumePath } from './container-config';
import { dockerStatusCode, errorMessage, isNotFound } from './errors';
import { execInContainer } from './exec';
import { defaultImagePullPolicy } from '@peapod/api';
import { attachInteractive, execInteractive } from './interactive';
import type { InteractiveProcess, Stdio } from './interactive';
import { ensureImage, imagePresent } from './image';
import { killContainer, killPod, type KillPodDeps } from './kill-pod';
import {
  INFRA_CONTAINER_NAME,
  LABEL_CONTAINER,
  LABEL_MANAGED,
  LABEL_NODE,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  LABEL_RESTART_COUNT,
  LABEL_SPEC_HASH,
  LABEL_VOLUME,
  emptyDirVolumeName,
  podIdentity,
  podLabels,
} from './labels';
import { containerLogs } from './logs';
import { podHostsFile, podResolvConf, type NodeDNS } from './pod-dns';
import { applyCapabilitiesOnly, probePrivileged, type PrivilegedSupport } from './privileged';
import { dockerTime, terminateContainer } from './stop';
import type {
  ContainerKillReport,
  ContainerRuntime,
  ContainerStateSummary,
  CreateContainerOptions,
  EnsureImageResult,
  ExecResult,
  KillPodOptions,
  KillPodReport,
  ListFilter,
  PodCgroupInfo,
  LogOptions,
  PodVolumeRecord,
  PodVolumes,
  PullPolicy,
  RemovePodResult,
  RuntimeContainer,
  RuntimeContainerState,
  RuntimeLogger,
  SandboxInfo,
  SandboxOptions,
  OnSignal,
  StopResult,
} from './types';

export interface DockerRuntimeOptions {
  /** Node name, written on every container (peapod.node) and used to list only ours. */
  nodeName: string;
  /** Defaults to the local daemon (DOCKER_HOST or /var/run/docker.sock). */
  docker?: Docker;
  /** Extra labels on everything created (tests mark their objects with these). */
  extraLabels?: Record<string, string>;
  /** Where this process sees the cgroup filesystem (default /sys/fs/cgroup). */
  cgroupFsRoot?: string;
  /** Upper bound on one image pull (default 5 min). */
  pullTimeoutMs?: number;
  logger?: RuntimeLogger;
  /** When set, each pod gets /etc/resolv.conf and /etc/hosts as kubelet writes them (see pod-dns.ts). */
  dns?: NodeDNS;
}

const DEFAULT_NETWORK = 'bridge';
const DEFAULT_CGROUP_ROOT = '/peapod';

function stateOf(info: Docker.ContainerInspectInfo): RuntimeContainerState {
  const { Status } = info.State;
  if (Status === 'created') return 'created';
  if (info.State.Running || Status === 'running' || Status === 'paused' || Status === 'restarting') return 'running';
  return 'exited';
}

function toRuntimeContainer(info: Docker.ContainerInspectInfo): RuntimeContainer {
  const labels = info.Config.Labels ?? {};
  const containerName = labels[LABEL_CONTAINER] ?? '';
  const state = stateOf(info);
  const result: RuntimeContainer = {
    id: info.Id,
    podNamespace: labels[LABEL_POD_NAMESPACE] ?? '',
    podName: labels[LABEL_POD_NAME] ?? '',
    podUid: labels[LABEL_POD_UID] ?? '',
    node: labels[LABEL_NODE] ?? '',
    containerName,
    isInfra: containerName === INFRA_CONTAINER_NAME,
    state,
    createdAt: dockerTime(info.Created) ?? info.Created,
    restartCount: Number(labels[LABEL_RESTART_COUNT] ?? '0') || 0,
    image: info.Config.Image,
    imageId: info.Image,
    oomKilled: info.State.OOMKilled,
  };
  const startedAt = dockerTime(info.State.StartedAt);
  if (startedAt) result.startedAt = startedAt;
  if (state === 'exited') {
    result.exitCode = info.State.ExitCode;
    const finishedAt = dockerTime(info.State.FinishedAt);
    if (finishedAt) result.finishedAt = finishedAt;
  }
  if (info.State.Error) result.error = info.State.Error;
  if (labels[LABEL_SPEC_HASH]) result.specHash = labels[LABEL_SPEC_HASH];
  if (info.HostConfig.CgroupParent) result.cgroupParent = info.HostConfig.CgroupParent;
  return result;
}

/** emptyDir medium Memory: a local volume backed by tmpfs, bounded by sizeLimit when given. */
function tmpfsOptions(sizeLimit: string | undefined, mode = '1777'): Record<string, string> {
  const o = [`mode=${mode}`];
  if (sizeLimit) o.push(`size=${parseBytes(sizeLimit)}`);
  return { type: 'tmpfs', device: 'tmpfs', o: o.join(',') };
}

/** The pod runtime on a Docker daemon: one infra container per pod, app containers joined to it. */
export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker';
  readonly docker: Docker;
  private readonly nodeName: string;
  private readonly extraLabels: Record<string, string>;
  private readonly cgroupFsRoot: string;
  private readonly pullTimeoutMs: number;
  private readonly log: RuntimeLogger;
  private readonly dns?: NodeDNS;
  private cgroup?: Promise<DaemonCgroup>;
  private privileged?: Promise<PrivilegedSupport>;

  constructor(opts: DockerRuntimeOptions) {
    this.docker = opts.docker ?? new Docker();
    this.nodeName = opts.nodeName;
    this.extraLabels = opts.extraLabels ?? {};
    this.cgroupFsRoot = opts.cgroupFsRoot ?? '/sys/fs/cgroup';
    this.pullTimeoutMs = opts.pullTimeoutMs ?? 5 * 60_000;
    this.log = opts.logger ?? (() => undefined);
    this.dns = opts.dns;
  }

  async version(): Promise<string> {
    return `docker://${(await this.docker.version()).Version}`;
  }

  async healthy(): Promise<boolean> {
    await this.docker.ping();
    return true;
  }

  /** Cgroup driver and version of the daemon, asked once. */
  daemonCgroup(): Promise<DaemonCgroup> {
    this.cgroup ??= daemonCgroup(this.docker);
    return this.cgroup;
  }

  async ensureImage(image: string, pullPolicy?: PullPolicy): Promise<EnsureImageResult> {
    const policy = pullPolicy ?? defaultImagePullPolicy(image);
    const result = await ensureImage(this.docker, image, policy, this.pullTimeoutMs);
    if (result.usedLocalAfterPullFailure) {
      this.log('warn', 'pull failed, using the local image', { image, error: result.pullError });
    }
    return result;
  }

  imagePresent(image: string): Promise<boolean> {
    return imagePresent(this.docker, image);
  }

  async createSandbox(pod: Pod, opts: SandboxOptions): Promise<SandboxInfo> {
    const { uid } = podIdentity(pod);
    const network = opts.network ?? DEFAULT_NETWORK;
    await this.ensureImage(opts.infraImage, 'IfNotPresent');
    await this.removeStaleInfra(uid);
    const daemon = await this.daemonCgroup();
    const { parent, note } = podCgroupParent(daemon, opts.cgroupParent ?? DEFAULT_CGROUP_ROOT, uid);
    const create = sandboxCreateOptions({
      pod,
      node: this.nodeName,
      extraLabels: this.extraLabels,
      infraImage: opts.infraImage,
      network,
      cgroupParent: parent,
      ...(opts.volumes ? { volumes: opts.volumes } : {}),
    });
    const container = await this.docker.createContainer(create);
    try {
      await container.start();
      const info = await container.inspect();
      const ip = info.NetworkSettings.Networks[network]?.IPAddress ?? '';
      if (this.dns) await this.writeNameFiles(container.id, pod, ip, this.dns);
      // Docker creates the parent cgroup when the first container of the pod starts.
      const cgroup: PodCgroupInfo = parent
        ? await applyPodLimits(this.cgroupFsRoot, daemon, parent, podLimits(pod))
        : { note };
      this.log('debug', 'sandbox created', { pod: uid, id: container.id, ip, cgroup });
      return { id: container.id, ip, network, cgroup };
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Writes the pod's resolv.conf and hosts into its infra container before any app container
   * exists; app containers share these files (Docker gives a joined container its network
   * container's). Written through the infra image's shell: Docker's copy API cannot replace
   * these bind-mounted files.
   */
  private async writeNameFiles(id: string, pod: Pod, ip: string, dns: NodeDNS): Promise<void> {
    const resolv = podResolvConf(pod, dns);
    const script = `printf '%s' "$1" > /etc/hosts${resolv === undefined ? '' : ` && printf '%s' "$2" > /etc/resolv.conf`}`;
    const r = await this.execInContainer(id, ['sh', '-c', script, 'sh', podHostsFile(pod, ip, dns.clusterDomain), resolv ?? ''], 10_000);
    if (r.exitCode !== 0) {
      throw new Error(`writing /etc/hosts and /etc/resolv.conf in the infra container failed (the infra image needs sh and printf): ${r.output.trim() || (r.timedOut ? 'timed out' : `exit ${r.exitCode}`)}`);
    }
  }

  /** The running infra container of a pod, as a restarted agent finds it again. */
  async findSandbox(uid: string): Promise<SandboxInfo | undefined> {
    const infra = (await this.listPodContainers({ uid })).find((c) => c.isInfra && c.state === 'running');
    if (!infra) return undefined;
    const info = await this.docker.getContainer(infra.id).inspect();
    const [network, settings] = Object.entries(info.NetworkSettings.Networks)[0] ?? [DEFAULT_NETWORK, undefined];
    const parent = info.HostConfig.CgroupParent;
    return { id: infra.id, ip: settings?.IPAddress ?? '', network, cgroup: parent ? { parent } : {} };
  }

  /** Infra containers of this pod that no longer run would only hold the name: remove them. */
  private async removeStaleInfra(uid: string): Promise<void> {
    const stale = (await this.listPodContainers({ uid })).filter((c) => c.isInfra && c.state !== 'running');
    await Promise.all(stale.map((c) => this.removeContainer(c.id)));
  }

  /**
   * Creates the pod's emptyDir volumes (Docker volumes named per pod uid and volume, so they
   * outlive container restarts) and maps every pod volume to its source.
   */
  async prepareVolumes(pod: Pod): Promise<PodVolumes> {
    const { uid } = podIdentity(pod);
    const volumes: PodVolumes = {};
    for (const volume of pod.spec.volumes ?? []) {
      if (volume.hostPath) {
        volumes[volume.name] = { kind: 'hostPath', path: volume.hostPath.path };
        continue;
      }
      const name = emptyDirVolumeName(uid, volume.name);
      // What holds secrets and tokens lives in memory only; ConfigMaps and the downward API go with them.
      const files = !volume.emptyDir && (volume.configMap || volume.secret || volume.downwardAPI || volume.projected) !== undefined;
      let mountpoint: string | undefined;
      try {
        mountpoint = (await this.docker.getVolume(name).inspect()).Mountpoint;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        const driverOpts = files ? tmpfsOptions(undefined, '0755') : volume.emptyDir?.medium === 'Memory' ? tmpfsOptions(volume.emptyDir.sizeLimit) : undefined;
        await this.docker.createVolume({
          Name: name,
          Labels: { ...podLabels(pod, this.nodeName, this.extraLabels), [LABEL_VOLUME]: volume.name },
          ...(driverOpts ? { DriverOpts: driverOpts } : {}),
        });
        if (files) mountpoint = (await this.docker.getVolume(name).inspect()).Mountpoint;
      }
      volumes[volume.name] = files ? { kind: 'files', dockerVolume: name, ...(mountpoint ? { mountpoint } : {}) } : { kind: 'emptyDir', dockerVolume: name };
    }
    return volumes;
  }

  async writeVolumeFiles(sandbox: SandboxInfo, volume: string, archive: Buffer): Promise<void> {
    await this.docker.getContainer(sandbox.id).putArchive(archive, { path: sandboxVolumePath(volume) });
  }

  /** Whether this daemon runs privileged containers, found out once (see probePrivileged). */
  privilegedSupport(image: string): Promise<PrivilegedSupport> {
    this.privileged ??= probePrivileged(this.docker, image, { ...this.extraLabels, 'peapod.probe': 'privileged' });
    return this.privileged;
  }

  async createContainer(pod: Pod, container: Container, sandbox: SandboxInfo, opts: CreateContainerOptions): Promise<string> {
    const create = appContainerCreateOptions({
      pod,
      container,
      sandbox,
      restartCount: opts.restartCount,
      volumes: opts.volumes,
      env: opts.env,
      pidNamespaceOf: opts.pidNamespaceOf,
      node: this.nodeName,
      extraLabels: this.extraLabels,
    });
    if (create.HostConfig?.Privileged && create.Image) {
      const support = await this.privilegedSupport(create.Image);
      if (support.mode === 'capabilities') {
        applyCapabilitiesOnly(create.HostConfig, support.missing);
        this.log('warn', 'daemon refuses privileged containers: running with all available capabilities instead', {
          container: container.name,
          missing: support.missing,
        });
      }
    }
    try {
      return (await this.docker.createContainer(create)).id;
    } catch (err) {
      if (dockerStatusCode(err) !== 409 || !create.name) throw err;
      // The name (pod uid, container, attempt) is taken by a leftover of an earlier try:
      // replace it unless it runs.
      const old = await this.docker.getContainer(create.name).inspect();
      if (old.State.Running) throw err;
      await this.removeContainer(old.Id);
      return (await this.docker.createContainer(create)).id;
    }
  }

  async startContainer(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  async inspect(id: string): Promise<RuntimeContainer> {
    return toRuntimeContainer(await this.docker.getContainer(id).inspect());
  }

  /** Containers of this node's pods, found from their labels alone. */
  async listPodContainers(filter: ListFilter = {}): Promise<RuntimeContainer[]> {
    const label = [`${LABEL_MANAGED}=true`, `${LABEL_NODE}=${this.nodeName}`];
    if (filter.uid) label.push(`${LABEL_POD_UID}=${filter.uid}`);
    const summaries = await this.docker.listContainers({ all: true, filters: { label } });
    const inspected = await Promise.all(
      summaries.map(async (s) => {
        try {
          return toRuntimeContainer(await this.docker.getContainer(s.Id).inspect());
        } catch (err) {
          // Removed between list and inspect.
          if (isNotFound(err)) return undefined;
          throw err;
        }
      }),
    );
    return inspected.filter((c): c is RuntimeContainer => c !== undefined);
  }

  async podContainerStates(): Promise<ContainerStateSummary[]> {
    const summaries = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_NODE}=${this.nodeName}`] },
    });
    return summaries.map((s) => ({
      id: s.Id,
      podUid: s.Labels[LABEL_POD_UID] ?? '',
      state: s.State === 'created' ? 'created' : s.State === 'running' || s.State === 'paused' || s.State === 'restarting' ? 'running' : 'exited',
    }));
  }

  async listPodVolumes(): Promise<PodVolumeRecord[]> {
    const { Volumes } = await this.docker.listVolumes({
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_NODE}=${this.nodeName}`] },
    });
    return (Volumes ?? []).map((v) => ({
      name: v.Name,
      podUid: v.Labels?.[LABEL_POD_UID] ?? '',
      volumeName: v.Labels?.[LABEL_VOLUME] ?? '',
    }));
  }

  stopContainer(id: string, deadline: number, onSignal?: OnSignal): Promise<StopResult> {
    return terminateContainer(this.docker, id, deadline, onSignal ? { onSignal } : {});
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      // Gone already, or Docker is already removing it.
      const code = dockerStatusCode(err);
      if (code !== 404 && code !== 409) throw err;
    }
  }

  execInContainer(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    return execInContainer(this.docker, id, cmd, timeoutMs);
  }

  /** Runs cmd in a running container with the client's streams attached (kubectl exec). */
  execInteractive(id: string, cmd: string[], io: Stdio): Promise<InteractiveProcess> {
    return execInteractive(this.docker, id, cmd, io);
  }

  /** Attaches the client's streams to a running container's stdio (kubectl attach). */
  attachInteractive(id: string, io: Stdio): Promise<InteractiveProcess> {
    return attachInteractive(this.docker, id, io);
  }

  /**
   * Connects io to a port inside a pod's network namespace, servers bound to 127.0.0.1
   * included: busybox nc, run in the infra container (which holds that namespace). Its exit
   * status and stderr say when the connection failed.
   */
  async forwardPort(uid: string, port: number, io: Stdio): Promise<InteractiveProcess> {
    const sandbox = await this.findSandbox(uid);
    if (!sandbox) throw new Error('the pod has no running infra container on this node');
    return execInteractive(this.docker, sandbox.id, ['nc', '127.0.0.1', String(port)], io);
  }

  killPod(pod: Pod, deadline: number, opts: KillPodOptions = {}): Promise<KillPodReport> {
    return killPod(pod, deadline, opts, this.killDeps());
  }

  async killContainer(pod: Pod, container: RuntimeContainer, deadline: number, opts: KillPodOptions = {}): Promise<ContainerKillReport> {
    const start = Date.now();
    const podIP = (await this.findSandbox(container.podUid))?.ip ?? '';
    return killContainer(pod, container, start, deadline, podIP, this.killDeps(), opts);
  }

  private killDeps(): KillPodDeps {
    return {
      listPodContainers: (uid) => this.listPodContainers({ uid }),
      podIP: async (uid) => (await this.findSandbox(uid))?.ip ?? '',
      terminate: (id, killAtMs, opts) => terminateContainer(this.docker, id, killAtMs, opts),
      exec: (id, cmd, timeoutMs) => this.execInContainer(id, cmd, timeoutMs),
      removeContainer: (id) => this.removeContainer(id),
    };
  }

  /** Removes every container, emptyDir volume and the pod cgroup of a pod. */
  async removePod(uid: string): Promise<RemovePodResult> {
    const containers = await this.listPodContainers({ uid });
    // Only a pod's own parent is ever removed, never a shared root.
    const parents = new Set(
      containers.map((c) => c.cgroupParent).filter((p): p is string => p !== undefined && p.endsWith(`/pod${uid}`)),
    );
    await Promise.all(containers.map((c) => this.removeContainer(c.id)));
    const { Volumes } = await this.docker.listVolumes({
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_POD_UID}=${uid}`] },
    });
    let volumes = 0;
    for (const v of Volumes ?? []) {
      try {
        await this.docker.getVolume(v.Name).remove();
        volumes++;
      } catch (err) {
        if (!isNotFound(err)) this.log('warn', 'volume not removed', { volume: v.Name, error: errorMessage(err) });
      }
    }
    if (parents.size > 0) {
      const daemon = await this.daemonCgroup();
      await Promise.all([...parents].map((p) => removePodCgroup(this.cgroupFsRoot, daemon, p)));
    }
    return { containers: containers.length, volumes };
  }

  logs(id: string, opts: LogOptions = {}): Promise<Readable> {
    return containerLogs(this.docker, id, opts);
  }
}
