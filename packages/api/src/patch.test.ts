import fc from 'fast-check';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from './patch';
import type { Pod } from './types';

function pod(): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', labels: { app: 'web', tier: 'fe' }, finalizers: ['a'] },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'app:1',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
          ports: [{ containerPort: 80 }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
        { name: 'side', image: 'side:1' },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
      tolerations: [{ key: 'a', operator: 'Exists' }],
    },
  };
}

describe('applyMergePatch', () => {
  it.each<[unknown, unknown, unknown]>([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('RFC 7386 example %#', (target, patch, want) => {
    expect(applyMergePatch(target, patch)).toEqual(want);
  });

  it('never mutates its inputs', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (target, patch) => {
        const t = structuredClone(target);
        const p = structuredClone(patch);
        const out = applyMergePatch(target, patch);
        expect(target).toEqual(t);
        expect(patch).toEqual(p);
        if (typeof out === 'object' && out !== null) {
          (out as Record<string, unknown>).__touched = 1;
          expect(target).toEqual(t);
        }
      }),
    );
  });
});

describe('applyJsonPatch', () => {
  it('applies operations without touching the target', () => {
    const p = pod();
    const out = applyJsonPatch(p, [
      { op: 'replace', path: '/spec/containers/0/image', value: 'app:2' },
      { op: 'add', path: '/metadata/labels/new', value: 'x' },
      { op: 'remove', path: '/spec/tolerations' },
      { op: 'test', path: '/metadata/name', value: 'p' },
    ]);
    expect(out.spec.containers[0].image).toBe('app:2');
    expect(out.metadata.labels!.new).toBe('x');
    expect(out.spec.tolerations).toBeUndefined();
    expect(p).toEqual(pod());
  });

  it('explains a failed test', () => {
    expect(() => applyJsonPatch(pod(), [{ op: 'test', path: '/metadata/name', value: 'q' }])).toThrow(
      new PatchError('json patch operation 0 (test /metadata/name) failed: test operation failed'),
    );
  });

  it('explains a missing path', () => {
    expect(() => applyJsonPatch(pod(), [{ op: 'add', path: '/metadata/labels/x', value: 'y' }, { op: 'remove', path: '/spec/nope' }])).toThrow(
      'json patch operation 1 (remove /spec/nope) failed: path does not exist',
    );
    expect(() => applyJsonPatch(pod(), [{ op: 'add', path: '/a/b/c', value: 1 }])).toThrow(PatchError);
  });

  it('rejects a non-list and a bad operation', () => {
    expect(() => applyJsonPatch(pod(), { op: 'add' })).toThrow('json patch must be a list of operations');
    expect(() => applyJsonPatch(pod(), [{ op: 'frobnicate', path: '/a' }])).toThrow(PatchError);
  });

  it('refuses to touch __proto__', () => {
    expect(() => applyJsonPatch({}, [{ op: 'add', path: '/__proto__/polluted', value: true }])).toThrow(PatchError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('applyStrategicMergePatch', () => {
  it('merges containers by name and env by name', () => {
    const p = pod();
    const out = applyStrategicMergePatch('Pod', p, {
      spec: { containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] },
    });
    expect(out.spec.containers.map((c) => c.name)).toEqual(['app', 'side']);
    expect(out.spec.containers[0].image).toBe('app:2');
    expect(out.spec.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
      { name: 'C', value: '4' },
    ]);
    expect(out.spec.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(p).toEqual(pod());
  });

  it('appends new items and merges ports by containerPort and mounts by mountPath', () => {
    const out = applyStrategicMergePatch('Pod', pod(), {
      spec: {
        containers: [
          { name: 'app', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }], volumeMounts: [{ mountPath: '/data', readOnly: true, name: 'data' }] },
          { name: 'new', image: 'n' },
        ],
      },
    });
    expect(out.spec.containers.map((c) => c.name)).toEqual(['app', 'side', 'new']);
    expect(out.spec.containers[0].ports).toEqual([{ containerPort: 80, name: 'http' }, { containerPort: 443 }]);
    expect(out.spec.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/data', readOnly: true }]);
  });

  it('replaces lists without a merge key (tolerations)', () => {
    const out = applyStrategicMergePatch('Pod', pod(), { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } });
    expect(out.spec.tolerations).toEqual([{ key: 'b', operator: 'Exists' }]);
  });

  it('deletes list items and maps with $patch: delete', () => {
    const out = applyStrategicMergePatch('Pod', pod(), {
      spec: { containers: [{ name: 'side', $patch: 'delete' }, { name: 'app', env: [{ name: 'A', $patch: 'delete' }] }], affinity: { $patch: 'delete' } },
    });
    expect(out.spec.containers.map((c) => c.name)).toEqual(['app']);
    expect(out.spec.containers[0].env).toEqual([{ name: 'B', value: '2' }]);
    expect(out.spec).not.toHaveProperty('affinity');
    const cleared = applyStrategicMergePatch('Pod', pod(), { metadata: { labels: { $patch: 'delete' } } });
    expect(cleared.metadata).not.toHaveProperty('labels');
  });

  it('replaces lists and maps with $patch: replace', () => {
    const out = applyStrategicMergePatch('Pod', pod(), {
      metadata: { labels: { $patch: 'replace', only: 'this' } },
      spec: { containers: [{ $patch: 'replace' }, { name: 'solo', image: 's' }] },
    });
    expect(out.metadata.labels).toEqual({ only: 'this' });
    expect(out.spec.containers).toEqual([{ name: 'solo', image: 's' }]);
  });

  it('deletes map keys with null', () => {
    const out = applyStrategicMergePatch('Pod', pod(), { metadata: { labels: { tier: null } } });
    expect(out.metadata.labels).toEqual({ app: 'web' });
  });

  it('merges primitive lists with a merge strategy and deletes from them', () => {
    const added = applyStrategicMergePatch('Pod', pod(), { metadata: { finalizers: ['b', 'a'] } });
    expect(added.metadata.finalizers).toEqual(['a', 'b']);
    const removed = applyStrategicMergePatch('Pod', added, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } });
    expect(removed.metadata.finalizers).toEqual(['b']);
  });

  it('ignores $setElementOrder and honours $retainKeys', () => {
    const out = applyStrategicMergePatch('Pod', pod(), {
      spec: {
        '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }],
        volumes: [{ name: 'data', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }],
      },
    });
    expect(out.spec.containers.map((c) => c.name)).toEqual(['app', 'side']);
    expect(out.spec.volumes).toEqual([{ name: 'data', hostPath: { path: '/x' } }]);
    expect(JSON.stringify(out)).not.toContain('$');
  });

  it('merges conditions by type in status, and node taints and addresses', () => {
    const p = pod();
    p.status = { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] };
    const out = applyStrategicMergePatch('Pod', p, { status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(out.status!.conditions).toEqual([{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }]);
    const node = {
      metadata: { name: 'n' },
      spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
    };
    const n2 = applyStrategicMergePatch('Node', node, {
      spec: { taints: [{ key: 'b', effect: 'NoExecute' }] },
      status: { addresses: [{ type: 'Hostname', address: 'n' }] },
    });
    expect(n2.spec.taints.map((t) => t.key)).toEqual(['a', 'b']);
    expect(n2.status.addresses).toHaveLength(2);
  });

  it('merges ownerReferences by uid', () => {
    const p = pod();
    p.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'rc', uid: 'u1' }];
    const out = applyStrategicMergePatch('Pod', p, { metadata: { ownerReferences: [{ uid: 'u1', controller: true }] } });
    expect(out.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'ReplicationController', name: 'rc', uid: 'u1', controller: true }]);
  });

  it('behaves as a merge patch for unknown kinds', () => {
    expect(applyStrategicMergePatch('Widget', { a: [1, 2], b: { c: 1 } }, { a: [3], b: { d: 2 } })).toEqual({ a: [3], b: { c: 1, d: 2 } });
  });

  it('rejects bad patches', () => {
    expect(() => applyStrategicMergePatch('Pod', pod(), [1])).toThrow(PatchError);
    expect(() => applyStrategicMergePatch('Pod', pod(), { spec: { containers: [{ image: 'x' }] } })).toThrow(
      'list item does not contain declared merge key: name',
    );
    expect(() => applyStrategicMergePatch('Pod', pod(), { spec: { $patch: 'explode' } })).toThrow(/unknown patch type/);
  });

  it('agrees with a merge patch when no lists are involved', () => {
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean());
    const labels = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.option(scalar, { nil: null }));
    fc.assert(
      fc.property(labels, (patchLabels) => {
        const patch = { metadata: { annotations: patchLabels } };
        const target = { metadata: { name: 'x', annotations: { a: '1', z: '2' } } };
        expect(applyStrategicMergePatch('Pod', target, patch)).toEqual(applyMergePatch(target, patch));
      }),
    );
  });
});
