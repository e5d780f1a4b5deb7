import { compareFields, fieldMap, fieldsV1Of, formatFieldPath, fromFieldsV1, mergeApplied, removeMembers, sortTree, toFieldsV1, type FieldMap } from './field-sets';

/** The comparison by definition: members in one map only, and leaves whose values differ (whatever the key order). */
function compareMaps(before: FieldMap, after: FieldMap) {
  const same = (a: unknown, b: unknown) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
  const changed = (m: { value: unknown; leaf: boolean }, old: { value: unknown; leaf: boolean }) => (m.leaf || old.leaf) && !same(m.value, old.value);
  return {
    added: [...after.keys()].filter((p) => !before.has(p)).sort(),
    modified: [...after].filter(([p, m]) => before.has(p) && changed(m, before.get(p)!)).map(([p]) => p).sort(),
    removed: [...before.keys()].filter((p) => !after.has(p)).sort(),
  };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
}

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['peapod.io/hold'] },
  spec: {
    containers: [{ name: 'app', image: 'busybox', command: ['sleep', '1'], resources: {}, ports: [{ containerPort: 80 }] }],
    tolerations: [{ key: 'dedicated', operator: 'Exists' }],
  },
};

const printed = (obj: unknown, kind = 'Pod') => [...fieldMap(kind, obj).keys()].map(formatFieldPath);

test('members: leaves of structs, map entries, list items by key or value; atomic lists and empty objects whole', () => {
  expect(printed(pod)).toEqual([
    '.apiVersion',
    '.kind',
    '.metadata.name',
    '.metadata.labels.app',
    '.metadata.finalizers[="peapod.io/hold"]',
    '.spec.containers[name="app"]',
    '.spec.containers[name="app"].name',
    '.spec.containers[name="app"].image',
    '.spec.containers[name="app"].command',
    '.spec.containers[name="app"].resources',
    '.spec.containers[name="app"].ports[containerPort=80]',
    '.spec.containers[name="app"].ports[containerPort=80].containerPort',
    '.spec.tolerations',
  ]);
});

test('a keyed list with an item lacking its key is owned whole', () => {
  expect(printed({ spec: { containers: [{ image: 'x' }] } })).toEqual(['.spec.containers']);
});

test('FieldsV1: a tree, "." on members with members below, read back to the same set', () => {
  const set = fieldMap('Pod', pod);
  const tree = toFieldsV1(set.keys());
  expect(tree['f:spec']).toEqual({
    'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:command': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80}': { '.': {}, 'f:containerPort': {} } }, 'f:resources': {} } },
    'f:tolerations': {},
  });
  expect(fromFieldsV1(tree)).toEqual(new Set(set.keys()));
  expect(() => fromFieldsV1({ 'x:y': {} })).toThrow(/FieldsV1 element/);
  expect(() => fromFieldsV1({ 'f:a': 'b' })).toThrow(/FieldsV1 tree/);
});

test('the FieldsV1 tree of a whole object, built in one walk, is the tree of its members', () => {
  const objects: [string, unknown][] = [
    ['Pod', pod],
    ['Pod', { spec: { containers: [{ image: 'x' }], volumes: [{ name: 'a' }, { name: 'a' }], initContainers: [], nodeSelector: {} } }],
    ['Pod', { metadata: { annotations: { a: 'b' }, ownerReferences: [{ uid: 'u', apiVersion: 'v1', kind: 'X', name: 'n' }] }, spec: { containers: [{ name: 'a', env: [{ name: 'x', valueFrom: { fieldRef: { fieldPath: 'a' } } }], ports: [] }], unknown: { a: 1 } } }],
    ['Pod', { metadata: { finalizers: ['a', 'b', 'a'] }, spec: { readinessGates: [{ conditionType: 'x' }, { conditionType: 'x' }] } }],
    ['ConfigMap', { data: { a: 'b', c: '' }, binaryData: {} }],
    ['Service', { spec: { ports: [{ port: 80, protocol: 'TCP' }, { port: 80, protocol: 'UDP' }], selector: { a: 'b' }, clusterIPs: ['10.0.0.1'] } }],
    ['ReplicationController', { spec: { replicas: 1, selector: { a: 'b' }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }],
  ];
  for (const [kind, obj] of objects) {
    expect(JSON.stringify(sortTree(fieldsV1Of(kind, obj)))).toBe(JSON.stringify(toFieldsV1(fieldMap(kind, obj).keys())));
  }
});

test('comparison: added, modified leaves, removed members', () => {
  const next = JSON.parse(JSON.stringify(pod));
  next.metadata.labels.tier = 'front';
  next.spec.containers[0].image = 'busybox:2';
  next.spec.containers[0].command = ['sleep', '2'];
  delete next.spec.tolerations;
  const c = compareFields('Pod', pod, next);
  expect([...c.added].map(formatFieldPath)).toEqual(['.metadata.labels.tier']);
  expect([...c.modified].map(formatFieldPath)).toEqual(['.spec.containers[name="app"].image', '.spec.containers[name="app"].command']);
  expect([...c.removed].map(formatFieldPath)).toEqual(['.spec.tolerations']);
});

test('the comparison in one walk of both objects finds what comparing their member maps finds', () => {
  const running = {
    ...pod,
    metadata: { ...pod.metadata, annotations: { a: 'b' }, ownerReferences: [{ uid: 'u', apiVersion: 'v1', kind: 'X', name: 'n' }] },
    spec: { ...pod.spec, nodeName: 'n1', nodeSelector: {} },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }],
      podIPs: [{ ip: '10.0.0.1' }],
      containerStatuses: [{ name: 'app', ready: true, state: { running: { startedAt: 't' } } }],
    },
  };
  // Each change is made to a copy of the running pod; each pair is compared both ways.
  const changes: ((p: any) => void)[] = [
    () => undefined,
    (p) => (p.status.phase = 'Succeeded'),
    (p) => (p.status.conditions[0].status = 'False'),
    (p) => p.status.conditions.push({ type: 'PodScheduled', status: 'True' }),
    (p) => p.status.conditions.push({ type: 'Ready', status: 'False' }),
    (p) => (p.status.conditions = [{ status: 'True' }]),
    (p) => (p.status.conditions = []),
    (p) => delete p.status.conditions,
    (p) => (p.status.containerStatuses[0].state = { terminated: { exitCode: 0 } }),
    (p) => (p.status.containerStatuses[0].state = {}),
    (p) => (p.status.podIPs = 'not a list'),
    (p) => (p.metadata.labels = { app: 'web', tier: 'a' }),
    (p) => (p.metadata.labels = {}),
    (p) => (p.metadata.labels.app = { nested: 1 }),
    (p) => (p.metadata.finalizers = ['b', 'peapod.io/hold', 'b']),
    (p) => delete p.metadata.finalizers,
    (p) => (p.metadata.annotations = null),
    (p) => (p.metadata.annotations.a = undefined),
    (p) => (p.spec.containers = [{ name: 'app', image: 'busybox' }, { image: 'x' }]),
    (p) => (p.spec.containers = [...p.spec.containers, { name: 'side', image: 'y', env: [{ name: 'a', value: 'b' }] }]),
    (p) => (p.spec.containers[0].ports = [{ containerPort: 80 }, { containerPort: 80 }]),
    (p) => (p.spec.containers[0].resources = { limits: { cpu: '1' } }),
    (p) => (p.spec.tolerations = []),
    (p) => (p.spec.nodeSelector = { a: 'b' }),
    (p) => (p.spec.unknownField = { a: 1 }),
    (p) => (p.spec = 'scalar'),
    (p) => delete p.spec,
    (p) => delete p.status,
  ];
  const variants = changes.map((change) => {
    const copy = JSON.parse(JSON.stringify(running));
    if (copy.metadata.annotations) copy.metadata.annotations.undef = undefined;
    change(copy);
    return copy;
  });
  const found = (kind: string, before: unknown, after: unknown) => {
    const c = compareFields(kind, before, after);
    return { added: [...c.added].sort(), modified: [...c.modified].sort(), removed: [...c.removed].sort() };
  };
  for (const before of [undefined, ...variants]) {
    for (const after of [undefined, ...variants]) expect(found('Pod', before, after)).toEqual(compareMaps(fieldMap('Pod', before), fieldMap('Pod', after)));
  }
  const node = (beat: string, addresses: unknown[]) => ({ status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: beat }], addresses, capacity: { cpu: '4' } } });
  const nodes = [node('a', [{ type: 'InternalIP', address: '1' }]), node('b', [{ type: 'InternalIP', address: '2' }]), node('b', [{ address: '2' }])];
  for (const before of nodes) {
    for (const after of nodes) expect(found('Node', before, after)).toEqual(compareMaps(fieldMap('Node', before), fieldMap('Node', after)));
  }
});

test('merging a configuration: struct fields one by one, keyed items matched, sets unioned, atomic lists replaced, null removes', () => {
  const merged = mergeApplied('Pod', pod, {
    metadata: { labels: { tier: 'front', app: null }, finalizers: ['other'] },
    spec: { containers: [{ name: 'app', image: 'busybox:2' }, { name: 'side', image: 'x' }], tolerations: [{ key: 'k' }] },
  }) as typeof pod;
  expect(merged.metadata).toEqual({ name: 'web', labels: { tier: 'front' }, finalizers: ['peapod.io/hold', 'other'] });
  expect(merged.spec.containers.map((c) => [c.name, c.image, c.command])).toEqual([
    ['app', 'busybox:2', ['sleep', '1']],
    ['side', 'x', undefined],
  ]);
  expect(merged.spec.tolerations).toEqual([{ key: 'k' }]);
  expect(pod.spec.containers[0].image).toBe('busybox');
});

test('removing members: keyed items, set values, map entries and fields; what they emptied goes too', () => {
  const obj = mergeApplied('Pod', pod, { spec: { containers: [{ name: 'side', image: 'x' }] } }) as Record<string, any>;
  const paths = ['f:spec\nf:containers\nk:{"name":"side"}', 'f:metadata\nf:finalizers\nv:"peapod.io/hold"', 'f:metadata\nf:labels\nf:app', 'f:spec\nf:containers\nk:{"name":"app"}\nf:command', 'f:spec\nf:nope\nf:deeper'];
  removeMembers('Pod', obj, paths);
  expect(obj.metadata).toEqual({ name: 'web' });
  expect(obj.spec.containers).toEqual([{ name: 'app', image: 'busybox', resources: {}, ports: [{ containerPort: 80 }] }]);
});
