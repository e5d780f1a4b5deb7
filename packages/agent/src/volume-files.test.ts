import { extract } from 'tar-stream';
import type { ConfigMap, Pod, Secret } from '@peapod/api';
import type { Client } from '@peapod/client';
import type { PodObjectSource } from './env';
import type { ContainerRuntime, PodVolumes, SandboxInfo } from './runtime';
import { VolumeFileWriter, VolumeSetupError, atomicArchive } from './volume-files';

interface Entry {
  name: string;
  type: string;
  mode?: number;
  linkname?: string;
  body: string;
}

function entries(archive: Buffer): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const out: Entry[] = [];
    const x = extract();
    x.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        out.push({ name: header.name, type: header.type ?? 'file', mode: header.mode, linkname: header.linkname ?? undefined, body: Buffer.concat(chunks).toString() });
        next();
      });
      stream.resume();
    });
    x.on('finish', () => resolve(out));
    x.on('error', reject);
    x.end(archive);
  });
}

test('the atomic writer layout: a timestamped directory, ..data, a link per top-level entry', async () => {
  const archive = await atomicArchive(new Map([['a', { data: Buffer.from('1'), mode: 0o400 }], ['d/b', { data: Buffer.from('2'), mode: 0o644 }]]));
  const list = await entries(archive);
  const stamp = list[0].name.replace(/\/$/, '');
  expect(stamp).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}/);
  expect(list.find((e) => e.name === `${stamp}/a`)).toMatchObject({ body: '1', mode: 0o400 });
  expect(list.find((e) => e.name === `${stamp}/d/b`)).toMatchObject({ body: '2' });
  expect(list.find((e) => e.name === '..data')).toMatchObject({ type: 'symlink', linkname: stamp });
  expect(list.find((e) => e.name === 'a')).toMatchObject({ type: 'symlink', linkname: '..data/a' });
  expect(list.find((e) => e.name === 'd')).toMatchObject({ type: 'symlink', linkname: '..data/d' });
});

describe('the writer', () => {
  const objects: PodObjectSource = {
    configMap: async (_ns, name) => (name === 'cm' ? ({ metadata: { name }, data: { k: 'v', other: 'o' }, binaryData: { bin: Buffer.from([1, 2]).toString('base64') } } as ConfigMap) : undefined),
    secret: async (_ns, name) => (name === 's' ? ({ metadata: { name }, data: { pw: Buffer.from('hunter2').toString('base64') } } as Secret) : undefined),
  };
  const written: { volume: string; archive: Buffer }[] = [];
  const runtime = { writeVolumeFiles: async (_s: SandboxInfo, volume: string, archive: Buffer) => void written.push({ volume, archive }) } as unknown as ContainerRuntime;
  let issued = 0;
  const client = {
    createToken: async () => ({ metadata: {}, spec: {}, status: { token: `tok-${++issued}`, expirationTimestamp: new Date(Date.now() + 3600_000).toISOString() } }),
  } as unknown as Client;
  const sandbox = { id: 'x', ip: '10.0.0.2', network: 'n', cgroup: {} } as SandboxInfo;

  function pod(volumes: NonNullable<Pod['spec']['volumes']>): Pod {
    return { metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'x' } }, spec: { containers: [{ name: 'c' }], volumes } };
  }
  const files = (p: Pod): PodVolumes => Object.fromEntries((p.spec.volumes ?? []).map((v) => [v.name, { kind: 'files' as const, dockerVolume: v.name }]));
  const ctx = (p: Pod) => ({ pod: p, podIP: '10.0.0.2', hostIP: '1.2.3.4', allocatable: {} });

  beforeEach(() => {
    written.length = 0;
  });

  test('writes each volume once per content, with items, modes, projections and a bound token', async () => {
    const writer = new VolumeFileWriter(client, runtime, objects);
    const p = pod([
      { name: 'cfg', configMap: { name: 'cm', items: [{ key: 'k', path: 'sub/k', mode: 0o600 }] } },
      {
        name: 'all',
        projected: {
          defaultMode: 0o440,
          sources: [
            { secret: { name: 's' } },
            { configMap: { name: 'missing', optional: true } },
            { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
            { serviceAccountToken: { path: 'token', expirationSeconds: 600 } },
          ],
        },
      },
    ]);
    const due = await writer.sync(ctx(p), sandbox, files(p));
    expect(due).toBeGreaterThan(Date.now() + 400_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 480_000);
    expect(written.map((w) => w.volume)).toEqual(['cfg', 'all']);
    const cfg = await entries(written[0].archive);
    expect(cfg.find((e) => e.name.endsWith('/sub/k'))).toMatchObject({ body: 'v', mode: 0o600 });
    expect(cfg.some((e) => e.name.endsWith('/other'))).toBe(false);
    const all = await entries(written[1].archive);
    expect(all.find((e) => e.name.endsWith('/pw'))).toMatchObject({ body: 'hunter2', mode: 0o440 });
    expect(all.find((e) => e.name.endsWith('/labels'))?.body).toBe('app="x"');
    expect(all.find((e) => e.name.endsWith('/token'))?.body).toBe('tok-1');
    await writer.sync(ctx(p), sandbox, files(p));
    expect(written).toHaveLength(2);
  });

  test("a missing object or key is a VolumeSetupError with the kubelet's message", async () => {
    const writer = new VolumeFileWriter(client, runtime, objects);
    const fails = async (volumes: NonNullable<Pod['spec']['volumes']>) => {
      const p = pod(volumes);
      const err = await writer.sync(ctx(p), sandbox, files(p)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VolumeSetupError);
      return (err as Error).message;
    };
    expect(await fails([{ name: 'v', configMap: { name: 'gone' } }])).toBe('MountVolume.SetUp failed for volume "v" : configmap "gone" not found');
    expect(await fails([{ name: 'v', secret: { secretName: 's', items: [{ key: 'nope', path: 'x' }] } }])).toBe(
      'MountVolume.SetUp failed for volume "v" : references non-existent secret key: nope',
    );
    expect(await fails([{ name: 'v', configMap: { name: 'cm', items: [{ key: 'nope', path: 'x' }] } }])).toBe(
      'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: nope',
    );
    expect(written).toHaveLength(0);
  });
});
