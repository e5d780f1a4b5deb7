import { fieldMap, fieldsV1Of, toFieldsV1 } from '@peapod/api';
import { SharedTrees } from './shared-trees';

const volume = (name: string) => ({ [`k:{"name":"${name}"}`]: { '.': {}, 'f:name': {}, 'f:projected': { 'f:sources': {} } } });
const pod = (volumeName: string) => ({
  'f:spec': {
    'f:volumes': volume(volumeName),
    'f:containers': { 'k:{"name":"app"}': { 'f:name': {}, 'f:image': {}, '.': {} } },
  },
  'f:metadata': { 'f:labels': { 'f:app': {} } },
});

describe('SharedTrees', () => {
  it('gives an equal tree, its elements in order, frozen', () => {
    const trees = new SharedTrees();
    const shared = trees.share(pod('a'));
    expect(shared).toEqual(pod('a'));
    expect(JSON.stringify(shared)).toBe(
      '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"app\\"}":{".":{},"f:image":{},"f:name":{}}},' +
        '"f:volumes":{"k:{\\"name\\":\\"a\\"}":{".":{},"f:name":{},"f:projected":{"f:sources":{}}}}}}',
    );
    expect(Object.isFrozen(shared)).toBe(true);
    expect(() => {
      'use strict';
      (shared['f:metadata'] as Record<string, unknown>)['f:name'] = {};
    }).toThrow(TypeError);
  });

  it('finds a tree read back from JSON, and sorts a node of many elements given out of order', () => {
    const trees = new SharedTrees();
    const a = trees.share(pod('a'));
    expect(trees.share(JSON.parse(JSON.stringify(a)))).toBe(a);
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f:k${String(39 - i).padStart(2, '0')}`, i % 2 ? {} : { 'f:x': {} }]));
    const sorted = trees.share(many);
    expect(Object.keys(sorted)).toEqual(Object.keys(many).sort());
    expect(sorted).toEqual(many);
    expect(trees.share(JSON.parse(JSON.stringify(sorted)))).toBe(sorted);
  });

  it('shares equal trees and the equal branches of different ones', () => {
    const trees = new SharedTrees();
    const a = trees.share(pod('a')) as Record<string, Record<string, Record<string, unknown>>>;
    const again = trees.share(pod('a'));
    const b = trees.share(pod('b')) as typeof a;
    expect(again).toBe(a);
    expect(b).not.toBe(a);
    expect(b['f:metadata']).toBe(a['f:metadata']);
    expect(b['f:spec']['f:containers']).toBe(a['f:spec']['f:containers']);
    expect(b['f:spec']['f:volumes']).not.toBe(a['f:spec']['f:volumes']);
    expect(Object.values(b['f:spec']['f:volumes'])[0]).toBe(Object.values(a['f:spec']['f:volumes'])[0]);
    // A shared tree given back is itself.
    expect(trees.share(a)).toBe(a);
  });

  it('never mistakes element names that run together for one another', () => {
    const trees = new SharedTrees();
    const one = trees.share({ 'f:a': { 'f:b': {} } });
    const other = trees.share({ 'f:a2:f:b': {} });
    const third = trees.share({ 'f:a': {}, 'f:b': {} });
    expect(JSON.stringify(one)).toBe('{"f:a":{"f:b":{}}}');
    expect(JSON.stringify(other)).toBe('{"f:a2:f:b":{}}');
    expect(JSON.stringify(third)).toBe('{"f:a":{},"f:b":{}}');
  });

  it('tells apart nodes whose hashes are equal', () => {
    // These two elements, each the only one of its node, hash alike: the table finds the
    // first node at the second's place and must not take it for the second.
    const trees = new SharedTrees();
    const first = trees.share({ 'f:field484411': {} });
    const second = trees.share({ 'f:field1069200': {} });
    expect(JSON.stringify(second)).toBe('{"f:field1069200":{}}');
    expect(JSON.stringify(trees.share({ 'f:field484411': {} }))).toBe('{"f:field484411":{}}');
    expect(JSON.stringify(first)).toBe('{"f:field484411":{}}');
    expect(trees.share({ 'f:field1069200': {} })).toEqual(second);
  });

  it('holds at most two generations of nodes; what it dropped is made afresh, equal', () => {
    const trees = new SharedTrees(4);
    const first = trees.share({ 'f:x': { 'f:y': {} } });
    for (let i = 0; i < 20; i++) trees.share({ [`f:n${i}`]: {} });
    expect(trees.size).toBeLessThanOrEqual(8);
    const later = trees.share({ 'f:x': { 'f:y': {} } });
    expect(later).toEqual(first);
    // Nodes in use stay.
    const kept = new SharedTrees(4);
    const hot = kept.share({ 'f:hot': {} });
    for (let i = 0; i < 20; i++) expect(kept.share({ [`f:n${i}`]: {}, 'f:hot': {} })[`f:hot`]).toBe(hot['f:hot']);
  });
});

describe('SharedTrees.fromPaths', () => {
  it('makes the tree toFieldsV1 makes, of the nodes share() gives', () => {
    const paths = [...fieldMap('Pod', {
      metadata: { labels: { app: 'a' } },
      spec: { containers: [{ name: 'app', image: 'x', ports: [{ containerPort: 80, protocol: 'TCP' }] }], volumes: [{ name: 'v', emptyDir: {} }] },
    }).keys()];
    const trees = new SharedTrees();
    const made = trees.fromPaths(paths);
    expect(JSON.stringify(made)).toBe(JSON.stringify(toFieldsV1(paths)));
    expect(Object.isFrozen(made)).toBe(true);
    expect(trees.share(toFieldsV1(paths))).toBe(made);
    expect(trees.fromPaths([...paths].reverse())).toBe(made);
  });

  it('makes it of any set: members with members below, elements that start another, one path given twice, none', () => {
    const trees = new SharedTrees();
    const sets = [
      ['f:spec\nf:a', 'f:spec\nf:ab', 'f:spec\nf:a\nf:x', 'f:spec', 'f:spec\nf:a!', 'f:status\nk:{"type":"Ready"}\nf:status'],
      ['f:metadata\nf:labels\nf:app', 'f:metadata\nf:labels\nf:app', 'f:metadata\nf:labels\nf:app.kubernetes.io/name', 'f:metadata\nf:labels'],
      ['f:a', 'f:a\nf:b\nf:c'],
      [],
    ];
    for (const paths of sets) {
      const made = trees.fromPaths(paths);
      expect(JSON.stringify(made)).toBe(JSON.stringify(toFieldsV1(paths)));
      expect(trees.fromPaths([...paths].reverse())).toBe(made);
    }
  });
});

describe('SharedTrees.fieldsOf', () => {
  const pod = (volume: string) => ({
    metadata: { labels: { app: 'a', tier: 'web' } },
    spec: {
      containers: [{ name: 'app', image: 'x', ports: [{ containerPort: 80, protocol: 'TCP' }], volumeMounts: [{ name: volume, mountPath: '/v' }] }],
      volumes: [{ name: volume, emptyDir: {} }],
      // a set list, items repeated, and a keyed list whose items cannot be told apart (owned whole)
      readinessGates: [{ conditionType: 'x' }, { conditionType: 'x' }],
      tolerations: [{ key: 'k', operator: 'Exists' }],
    },
    status: { conditions: [] },
  });

  it('makes the tree fieldsV1Of makes, in order, of the nodes share() gives', () => {
    const trees = new SharedTrees();
    const made = trees.fieldsOf('Pod', pod('a'))!;
    expect(JSON.stringify(made)).toBe(JSON.stringify(trees.share(fieldsV1Of('Pod', pod('a')))));
    expect(made).toEqual(fieldsV1Of('Pod', pod('a')));
    expect(Object.isFrozen(made)).toBe(true);
    expect(trees.share(made)).toBe(made);
    expect(trees.fieldsOf('Pod', pod('a'))).toBe(made);
    const other = trees.fieldsOf('Pod', pod('b')) as Record<string, Record<string, unknown>>;
    expect(other['f:metadata']).toBe((made as typeof other)['f:metadata']);
  });

  it('has nothing for an object without members', () => {
    expect(new SharedTrees().fieldsOf('Pod', {})).toBeUndefined();
    expect(fieldsV1Of('Pod', {})).toEqual({});
  });
});
