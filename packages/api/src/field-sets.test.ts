import { compareFieldMaps, fieldMap, fieldsV1Of, formatFieldPath, fromFieldsV1, mergeApplied, removeMembers, sortTree, toFieldsV1 } from './field-sets';

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
  const c = compareFieldMaps(fieldMap('Pod', pod), fieldMap('Pod', next));
  expect([...c.added].map(formatFieldPath)).toEqual(['.metadata.labels.tier']);
  expect([...c.modified].map(formatFieldPath)).toEqual(['.spec.containers[name="app"].image', '.spec.containers[name="app"].command']);
  expect([...c.removed].map(formatFieldPath)).toEqual(['.spec.tolerations']);
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
