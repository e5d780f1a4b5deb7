import type { EndpointSlice, Node, Pod, Service } from '@peapod/api';
import { reconcileSlices, zoneLabel } from './reconciler';
import { desiredSubsets, truncateSubsets } from '../endpoints/subsets';

function svc(extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels: { team: 'a' } },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...extra },
  };
}

function pod(i: number, opts: { ready?: boolean; terminating?: boolean; phase?: 'Running' | 'Succeeded'; ip?: string | null; port?: number } = {}): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `web-${i}`, namespace: 'default', uid: `uid-${i}`, labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x', ports: opts.port ? [{ name: 'http', containerPort: opts.port }] : [] }] },
    status: {
      phase: opts.phase ?? 'Running',
      // As the agent leaves them: a terminating pod is not Ready, its containers still are.
      conditions: [
        { type: 'ContainersReady', status: opts.ready === false ? 'False' : 'True' },
        { type: 'Ready', status: opts.ready === false || opts.terminating ? 'False' : 'True' },
      ],
    },
  };
  if (opts.ip !== null) p.status!.podIPs = [{ ip: opts.ip ?? `10.1.${i >> 8}.${i & 255}` }];
  if (opts.terminating) p.metadata.deletionTimestamp = '2030-01-01T00:00:00Z';
  return p;
}

const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { [zoneLabel]: 'z1' } } };
const nodeOf = (name: string): Node | undefined => (name === 'n1' ? node : undefined);

/** Applies the changes as the API would, naming created slices. */
function apply(existing: EndpointSlice[], changes: ReturnType<typeof reconcileSlices>, counter = { n: 0 }): EndpointSlice[] {
  const out = new Map(existing.map((s) => [s.metadata.name!, s]));
  for (const s of changes.delete) out.delete(s.metadata.name!);
  for (const s of changes.update) out.set(s.metadata.name!, s);
  for (const s of changes.create) {
    const name = `web-${++counter.n}`;
    out.set(name, { ...s, metadata: { ...s.metadata, name } });
  }
  return [...out.values()];
}

describe('reconcileSlices', () => {
  it('puts every live pod in a slice with its conditions, terminating ones included', () => {
    const pods = [pod(1), pod(2, { ready: false }), pod(3, { terminating: true }), pod(4, { phase: 'Succeeded' }), pod(5, { ip: null })];
    const r = reconcileSlices(svc(), pods, [], nodeOf, 100);
    expect(r.update).toEqual([]);
    expect(r.create).toHaveLength(1);
    const slice = r.create[0];
    expect(slice.metadata).toMatchObject({
      generateName: 'web-',
      labels: { team: 'a', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const conditions = Object.fromEntries(slice.endpoints.map((e) => [e.targetRef!.name, e.conditions]));
    expect(conditions).toEqual({
      'web-1': { ready: true, serving: true, terminating: false },
      'web-2': { ready: false, serving: false, terminating: false },
      'web-3': { ready: false, serving: true, terminating: true },
    });
    expect(slice.endpoints[0]).toMatchObject({ nodeName: 'n1', zone: 'z1' });
  });

  it('fills slices up to the maximum and changes nothing when nothing changed', () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod(i));
    const first = reconcileSlices(svc(), pods, [], nodeOf, 100);
    expect(first.create.map((s) => s.endpoints.length).sort()).toEqual([100, 100, 50]);
    const slices = apply([], first);
    const again = reconcileSlices(svc(), pods, slices, nodeOf, 100);
    expect([again.create, again.update, again.delete]).toEqual([[], [], []]);
    // One pod leaves and one comes: a single slice is updated in place.
    const next = reconcileSlices(svc(), [...pods.slice(1), pod(999)], slices, nodeOf, 100);
    expect(next.create).toEqual([]);
    expect(next.delete).toEqual([]);
    expect(next.update.length).toBeLessThanOrEqual(2);
    const after = apply(slices, next);
    expect(after.flatMap((s) => s.endpoints).length).toBe(250);
  });

  it('keeps one empty placeholder slice for a service without endpoints, and reuses a slice it would delete', () => {
    const empty = reconcileSlices(svc(), [], [], nodeOf, 100);
    expect(empty.create).toHaveLength(1);
    expect(empty.create[0]).toMatchObject({ ports: [], endpoints: [] });
    const placeholder = apply([], empty);
    expect(reconcileSlices(svc(), [], placeholder, nodeOf, 100)).toMatchObject({ create: [], update: [], delete: [] });
    // The first pod: the placeholder is turned into its slice rather than deleted and replaced.
    const one = reconcileSlices(svc(), [pod(1)], placeholder, nodeOf, 100);
    expect(one.create).toEqual([]);
    expect(one.delete).toEqual([]);
    expect(one.update.map((s) => s.metadata.name)).toEqual([placeholder[0].metadata.name]);
  });

  it('groups endpoints by their resolved named ports, and leaves out pods on unknown nodes', () => {
    const named = svc({ ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
    const elsewhere = { ...pod(3, { port: 8080 }), spec: { ...pod(3, { port: 8080 }).spec, nodeName: 'gone' } };
    const r = reconcileSlices(named, [pod(1, { port: 8080 }), pod(2, { port: 9090 }), elsewhere], [], nodeOf, 100);
    expect(r.create.map((s) => [s.ports?.[0].port, s.endpoints.map((e) => e.targetRef?.name)]).sort()).toEqual([
      [8080, ['web-1']],
      [9090, ['web-2']],
    ]);
    expect(r.podsWithoutNode).toEqual(['default/web-3']);
  });

  it('deletes slices owned by another service of the same name', () => {
    const stale: EndpointSlice = { ...reconcileSlices(svc(), [pod(1)], [], nodeOf, 100).create[0], metadata: { name: 'web-old', ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'old' }] } };
    const r = reconcileSlices(svc(), [pod(1)], [stale], nodeOf, 100);
    expect(r.delete.map((s) => s.metadata.name)).toEqual(['web-old']);
    expect(r.create).toHaveLength(1);
  });
});

describe('desiredSubsets', () => {
  it('drops terminating pods unless not-ready addresses are published, and packs addresses by port', () => {
    const pods = [pod(2, { port: 8080 }), pod(1, { port: 8080 }), pod(3, { ready: false, port: 8080 }), pod(4, { terminating: true, port: 8080 })];
    const subsets = desiredSubsets(svc(), pods);
    expect(subsets).toHaveLength(1);
    expect(subsets[0].addresses!.map((a) => a.ip)).toEqual(['10.1.0.1', '10.1.0.2']);
    expect(subsets[0].notReadyAddresses!.map((a) => a.ip)).toEqual(['10.1.0.3']);
    expect(subsets[0].addresses![0]).toEqual({ ip: '10.1.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'uid-1' } });
    const all = desiredSubsets(svc({ publishNotReadyAddresses: true }), pods);
    expect(all[0].addresses!.map((a) => a.ip)).toEqual(['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4']);
    expect(all[0].notReadyAddresses).toBeUndefined();
  });

  it('lists a headless service without ports by address alone', () => {
    const subsets = desiredSubsets(svc({ clusterIP: 'None', ports: [] }), [pod(1)]);
    expect(subsets).toEqual([{ addresses: [{ ip: '10.1.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'uid-1' } }] }]);
  });

  it('truncates to 1,000 addresses, ready ones first', () => {
    const subsets = desiredSubsets(svc(), [...Array.from({ length: 990 }, (_, i) => pod(i)), ...Array.from({ length: 30 }, (_, i) => pod(1000 + i, { ready: false }))]);
    expect(truncateSubsets(subsets)).toBe(true);
    expect(subsets[0].addresses).toHaveLength(990);
    expect(subsets[0].notReadyAddresses).toHaveLength(10);
    expect(truncateSubsets(desiredSubsets(svc(), [pod(1)]))).toBe(false);
  });
});
