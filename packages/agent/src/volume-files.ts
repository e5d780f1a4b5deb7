// The files of configMap, secret, downwardAPI and projected volumes: what they hold (with
// items, modes and optional), the serviceAccountToken source's bound token refreshed at 80%
// of its life, and the layout kubelet's atomic writer gives them (a timestamped directory,
// `..data` pointing at it, each top-level entry a link through `..data`) so that a reader
// sees one version or the next, never a mix.
import { createHash, randomInt } from 'crypto';
import { posix } from 'path';
import { pack } from 'tar-stream';
import type { ConfigMap, KeyToPath, Pod, Secret, TokenRequest, Volume, VolumeProjection } from '@peapod/api';
import type { Client } from '@peapod/client';
import { podFieldValue, resourceFieldValue, type PodObjectSource } from './env';
import type { ContainerRuntime, PodVolumes, SandboxInfo } from './runtime';

export interface VolumeFile {
  data: Buffer;
  mode: number;
}

/** Relative path → content. */
export type VolumePayload = Map<string, VolumeFile>;

/** A volume that cannot be set up (kubelet's FailedMount). */
export class VolumeSetupError extends Error {
  constructor(
    readonly volume: string,
    message: string,
  ) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${message}`);
    this.name = 'VolumeSetupError';
  }
}

const DEFAULT_MODE = 0o644;
const DEFAULT_TOKEN_SECONDS = 3600;

interface KeyedSource {
  kind: 'configmap' | 'secret';
  name: string;
  items?: KeyToPath[];
  optional?: boolean;
}

/** A live token of a serviceAccountToken projection, and when to replace it. */
interface HeldToken {
  token: string;
  refreshAt: number;
}

export interface VolumeContext {
  pod: Pod;
  podIP: string;
  hostIP: string;
  allocatable: Record<string, string>;
}

function keyedData(obj: ConfigMap | Secret, kind: 'configmap' | 'secret'): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (kind === 'configmap') {
    const cm = obj as ConfigMap;
    for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  } else {
    for (const [k, v] of Object.entries((obj as Secret).data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  }
  return out;
}

/**
 * The atomic writer's layout as one tar archive: a fresh `..<timestamp>` directory with the
 * files, `..data` pointing at it, and a link per top-level entry. Docker replaces `..data` as
 * it extracts, so readers switch to the new version at once.
 */
export function atomicArchive(payload: VolumePayload, now = new Date()): Promise<Buffer> {
  const stamp = `..${now.toISOString().replace(/[-:T]/g, '_').replace('Z', '')}${String(randomInt(1_000_000)).padStart(6, '0')}`;
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
  });
  const mtime = now;
  archive.entry({ name: `${stamp}/`, type: 'directory', mode: 0o755, mtime });
  const dirs = new Set<string>();
  const top = new Set<string>();
  for (const [path, file] of [...payload].sort(([a], [b]) => a.localeCompare(b))) {
    const parts = path.split('/');
    top.add(parts[0]);
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!dirs.has(dir)) archive.entry({ name: `${stamp}/${dir}/`, type: 'directory', mode: 0o755, mtime });
      dirs.add(dir);
    }
    archive.entry({ name: `${stamp}/${path}`, mode: file.mode, mtime }, file.data);
  }
  archive.entry({ name: '..data', type: 'symlink', linkname: stamp, mtime });
  for (const entry of [...top].sort()) archive.entry({ name: entry, type: 'symlink', linkname: `..data/${entry}`, mtime });
  archive.finalize();
  return done;
}

function payloadHash(payload: VolumePayload): string {
  const hash = createHash('sha256');
  for (const [path, file] of [...payload].sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`${path}\0${file.mode}\0${file.data.length}\0`);
    hash.update(file.data);
  }
  return hash.digest('hex');
}

/**
 * Writes the file volumes of the node's pods, rewriting one only when what it holds changed
 * (a ConfigMap or Secret update, a token near its end).
 */
export class VolumeFileWriter {
  private readonly written = new Map<string, string>();
  private readonly tokens = new Map<string, HeldToken>();

  constructor(
    private readonly client: Client,
    private readonly runtime: ContainerRuntime,
    private readonly objects: PodObjectSource,
  ) {}

  /** Brings every file volume of the pod up to date; returns when a token needs renewing next (epoch ms). */
  async sync(ctx: VolumeContext, sandbox: SandboxInfo, volumes: PodVolumes): Promise<number | undefined> {
    const uid = ctx.pod.metadata.uid ?? '';
    let next: number | undefined;
    for (const volume of ctx.pod.spec.volumes ?? []) {
      if (volumes[volume.name]?.kind !== 'files') continue;
      let payload: VolumePayload;
      try {
        payload = await this.payload(ctx, volume);
      } catch (err) {
        if (err instanceof VolumeSetupError) throw err;
        throw new VolumeSetupError(volume.name, err instanceof Error ? err.message : String(err));
      }
      const key = `${uid}/${volume.name}`;
      const hash = payloadHash(payload);
      if (this.written.get(key) !== hash) {
        await this.runtime.writeVolumeFiles(sandbox, volume.name, await atomicArchive(payload));
        this.written.set(key, hash);
      }
      for (const [tokenKey, held] of this.tokens) {
        if (tokenKey.startsWith(`${key}/`)) next = Math.min(next ?? held.refreshAt, held.refreshAt);
      }
    }
    return next;
  }

  /** Forgets a pod that is gone (its volumes go with its containers). */
  forget(uid: string): void {
    for (const map of [this.written, this.tokens]) {
      for (const key of map.keys()) if (key.startsWith(`${uid}/`)) map.delete(key);
    }
  }

  private async payload(ctx: VolumeContext, volume: Volume): Promise<VolumePayload> {
    const out: VolumePayload = new Map();
    const namespace = ctx.pod.metadata.namespace ?? 'default';
    if (volume.configMap) {
      const { name = '', items, optional, defaultMode } = volume.configMap;
      await this.keyed(out, namespace, { kind: 'configmap', name, items, optional }, defaultMode ?? DEFAULT_MODE);
    } else if (volume.secret) {
      const { secretName = '', items, optional, defaultMode } = volume.secret;
      await this.keyed(out, namespace, { kind: 'secret', name: secretName, items, optional }, defaultMode ?? DEFAULT_MODE);
    } else if (volume.downwardAPI) {
      this.downward(out, ctx, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode ?? DEFAULT_MODE);
    } else if (volume.projected) {
      const mode = volume.projected.defaultMode ?? DEFAULT_MODE;
      for (const source of volume.projected.sources ?? []) await this.projection(out, ctx, volume.name, source, mode);
    }
    return out;
  }

  private async projection(out: VolumePayload, ctx: VolumeContext, volume: string, source: VolumeProjection, mode: number): Promise<void> {
    const namespace = ctx.pod.metadata.namespace ?? 'default';
    if (source.configMap) {
      const { name = '', items, optional } = source.configMap;
      await this.keyed(out, namespace, { kind: 'configmap', name, items, optional }, mode);
    } else if (source.secret) {
      const { name = '', items, optional } = source.secret;
      await this.keyed(out, namespace, { kind: 'secret', name, items, optional }, mode);
    } else if (source.downwardAPI) {
      this.downward(out, ctx, source.downwardAPI.items ?? [], mode);
    } else if (source.serviceAccountToken) {
      const token = await this.token(ctx.pod, volume, source.serviceAccountToken);
      out.set(source.serviceAccountToken.path, { data: Buffer.from(token, 'utf8'), mode });
    }
  }

  private async keyed(out: VolumePayload, namespace: string, source: KeyedSource, mode: number): Promise<void> {
    const obj = source.kind === 'configmap' ? await this.objects.configMap(namespace, source.name) : await this.objects.secret(namespace, source.name);
    if (!obj) {
      if (source.optional) return;
      throw new Error(`${source.kind} "${source.name}" not found`);
    }
    const data = keyedData(obj, source.kind);
    if (!source.items?.length) {
      for (const [key, value] of data) out.set(key, { data: value, mode });
      return;
    }
    for (const item of source.items) {
      const value = data.get(item.key);
      if (value === undefined) {
        if (source.optional) continue;
        throw new Error(source.kind === 'configmap' ? `configmap references non-existent config key: ${item.key}` : `references non-existent secret key: ${item.key}`);
      }
      out.set(posix.normalize(item.path), { data: value, mode: item.mode ?? mode });
    }
  }

  private downward(out: VolumePayload, ctx: VolumeContext, items: NonNullable<Volume['downwardAPI']>['items'] & object, mode: number): void {
    for (const item of items) {
      const value = item.fieldRef
        ? podFieldValue(ctx.pod, item.fieldRef.fieldPath, ctx.podIP, ctx.hostIP)
        : item.resourceFieldRef
          ? resourceFieldValue(ctx.pod, item.resourceFieldRef, undefined, ctx.allocatable)
          : '';
      out.set(posix.normalize(item.path), { data: Buffer.from(value, 'utf8'), mode: item.mode ?? mode });
    }
  }

  /** The bound token of a projection, requested again once 80% of its life has gone. */
  private async token(pod: Pod, volume: string, source: NonNullable<VolumeProjection['serviceAccountToken']>): Promise<string> {
    const key = `${pod.metadata.uid ?? ''}/${volume}/${source.path}`;
    const held = this.tokens.get(key);
    if (held && Date.now() < held.refreshAt) return held.token;
    const request: TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: {
        ...(source.audience ? { audiences: [source.audience] } : {}),
        expirationSeconds: source.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    };
    const issuedAt = Date.now();
    const answer = await this.client.createToken(pod.metadata.namespace ?? 'default', pod.spec.serviceAccountName ?? 'default', request);
    const token = answer.status?.token ?? '';
    const expires = Date.parse(answer.status?.expirationTimestamp ?? '');
    // An extended token (kube-api-access) lives far longer than asked: renew on the asked life.
    const asked = (source.expirationSeconds ?? DEFAULT_TOKEN_SECONDS) * 1000;
    const lifetime = Number.isNaN(expires) ? asked : Math.min(asked, expires - issuedAt);
    this.tokens.set(key, { token, refreshAt: issuedAt + lifetime * 0.8 });
    return token;
  }
}
