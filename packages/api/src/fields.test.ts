import fc from 'fast-check';
import { fieldSelectorFromSet, objectFields, parseFieldSelector, podSelectorView, supportedFields } from './fields';
import { SelectorParseError } from './labels';
import type { Event, Namespace, Node, Pod, ReplicationController } from './types';

describe('parseFieldSelector', () => {
  it('parses =, == and !=', () => {
    const sel = parseFieldSelector('metadata.name=a,status.phase==Running,spec.nodeName!=n1');
    expect(sel.requirements).toEqual([
      { field: 'metadata.name', op: '=', value: 'a' },
      { field: 'status.phase', op: '=', value: 'Running' },
      { field: 'spec.nodeName', op: '!=', value: 'n1' },
    ]);
    expect(sel.matches({ 'metadata.name': 'a', 'status.phase': 'Running', 'spec.nodeName': 'n2' })).toBe(true);
    expect(sel.matches({ 'metadata.name': 'a', 'status.phase': 'Running', 'spec.nodeName': 'n1' })).toBe(false);
    expect(sel.toString()).toBe('metadata.name=a,status.phase=Running,spec.nodeName!=n1');
  });

  it('treats an empty string as match-everything', () => {
    const sel = parseFieldSelector('');
    expect(sel.empty).toBe(true);
    expect(sel.matches({})).toBe(true);
  });

  it('matches an empty value against a missing field', () => {
    const sel = parseFieldSelector('spec.nodeName=');
    expect(sel.matches({})).toBe(true);
    expect(sel.matches({ 'spec.nodeName': '' })).toBe(true);
    expect(sel.matches({ 'spec.nodeName': 'n1' })).toBe(false);
  });

  it('unescapes values', () => {
    const sel = parseFieldSelector('a=x\\,y\\=z\\\\,b!=\\,');
    expect(sel.requirements).toEqual([
      { field: 'a', op: '=', value: 'x,y=z\\' },
      { field: 'b', op: '!=', value: ',' },
    ]);
    expect(parseFieldSelector(sel.toString()).requirements).toEqual(sel.requirements);
  });

  it.each([['a'], ['a=b,c'], ['=b'], ['a=\\x'], ['a=b\\']])('rejects %j', (s) => {
    expect(() => parseFieldSelector(s)).toThrow(SelectorParseError);
  });

  it('round-trips any value', () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), (value, eq) => {
        const sel = fieldSelectorFromSet({ f: value });
        const parsed = parseFieldSelector(eq ? sel.toString() : sel.toString().replace('=', '!='));
        expect(parsed.requirements).toEqual([{ field: 'f', op: eq ? '=' : '!=', value }]);
      }),
    );
  });
});

describe('objectFields', () => {
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns' },
    spec: { containers: [{ name: 'c' }], restartPolicy: 'Never', schedulerName: 'default-scheduler' },
    status: { phase: 'Pending' },
  };

  it('gives pods their fields with "" for missing values', () => {
    expect(objectFields('pods', pod)).toEqual({
      'metadata.name': 'p',
      'metadata.namespace': 'ns',
      'spec.nodeName': '',
      'spec.schedulerName': 'default-scheduler',
      'spec.restartPolicy': 'Never',
      'spec.serviceAccountName': '',
      'status.phase': 'Pending',
      'status.podIP': '',
      'status.nominatedNodeName': '',
    });
    expect(parseFieldSelector('spec.nodeName=').matches(objectFields('pods', pod))).toBe(true);
    expect(objectFields('Pod', pod)['metadata.name']).toBe('p');
  });

  it('keeps in a pod selector view every field and label a selector reads, and no more', () => {
    const bound: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'b', namespace: 'ns', labels: { app: 'web' }, uid: 'u1', annotations: { a: 'b' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: 'n1', serviceAccountName: 'sa', restartPolicy: 'Always' },
      status: { phase: 'Running', podIP: '10.0.0.5', nominatedNodeName: 'n2' } as Pod['status'],
    };
    for (const p of [pod, bound]) {
      const view = podSelectorView(p);
      expect(objectFields('pods', view)).toEqual(objectFields('pods', p));
      expect(view.metadata.labels).toEqual(p.metadata.labels);
      expect([view.apiVersion, view.kind]).toEqual([p.apiVersion, p.kind]);
      // One object for the collector to mark: every path a selector reads leads back to it.
      for (const part of [view.metadata, view.spec, view.status]) expect(part).toBe(view);
    }
    expect(Object.keys(podSelectorView(bound).spec as object)).not.toContain('containers');
    expect(podSelectorView(bound).metadata).not.toHaveProperty('uid');
  });

  it('keeps the labels of pods that carry the same ones once, frozen, apart from the pods', () => {
    const replica = (name: string): Pod => JSON.parse(JSON.stringify({ ...pod, metadata: { name, namespace: 'ns', labels: { app: 'web', tier: 'front' } } })) as Pod;
    const [a, b] = [replica('a'), replica('b')];
    const [va, vb] = [podSelectorView(a), podSelectorView(b)];
    expect(va.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(vb.metadata.labels).toBe(va.metadata.labels);
    expect(Object.isFrozen(va.metadata.labels)).toBe(true);
    // A pod's own labels stay its own: changing them changes neither view.
    a.metadata.labels!.app = 'db';
    expect(va.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(podSelectorView(a).metadata.labels).toEqual({ app: 'db', tier: 'front' });
    expect(podSelectorView(replica('c')).spec).toHaveProperty('schedulerName', 'default-scheduler');
  });

  it('gives events their involvedObject fields', () => {
    const ev: Event = {
      metadata: { name: 'e', namespace: 'ns' },
      involvedObject: { kind: 'Pod', name: 'p', namespace: 'ns', uid: 'u1' },
      reason: 'Scheduled',
      source: { component: 'default-scheduler' },
      type: 'Normal',
    };
    const f = objectFields('events', ev);
    expect(f['involvedObject.kind']).toBe('Pod');
    expect(f['involvedObject.uid']).toBe('u1');
    expect(f['involvedObject.fieldPath']).toBe('');
    expect(f.source).toBe('default-scheduler');
    expect(f.type).toBe('Normal');
    expect(f.reason).toBe('Scheduled');
    expect(f.reportingComponent).toBe('');
  });

  it('gives nodes, namespaces and replication controllers their fields', () => {
    const node: Node = { metadata: { name: 'n' }, spec: {} };
    expect(objectFields('nodes', node)).toEqual({ 'metadata.name': 'n', 'metadata.namespace': '', 'spec.unschedulable': 'false' });
    const cordoned: Node = { ...node, spec: { unschedulable: true } };
    expect(objectFields('nodes', cordoned)['spec.unschedulable']).toBe('true');
    const ns: Namespace = { metadata: { name: 'x' }, status: { phase: 'Active' } };
    expect(objectFields('namespaces', ns)['status.phase']).toBe('Active');
    const rc: ReplicationController = { metadata: { name: 'r' }, status: { replicas: 3 } };
    expect(objectFields('replicationcontrollers', rc)['status.replicas']).toBe('3');
  });

  it('lists supported fields, with metadata for every resource', () => {
    expect(supportedFields('pods')).toContain('spec.nodeName');
    expect(supportedFields('events')).toContain('involvedObject.name');
    expect(supportedFields('bindings')).toEqual(['metadata.name', 'metadata.namespace']);
    expect(supportedFields('nodes')).not.toContain('status.phase');
  });
});
