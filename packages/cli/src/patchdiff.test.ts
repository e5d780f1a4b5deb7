import { applyStrategicMergePatch } from '@peapod/api';
import { threeWayPatch } from './patchdiff';

const live = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', labels: { a: '1', b: '2' }, uid: 'u1' },
  spec: {
    containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'Always', env: [{ name: 'X', value: '1' }] }],
    restartPolicy: 'Always',
  },
};

describe('threeWayPatch', () => {
  it('is empty when the configuration matches the live object', () => {
    const config = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'X', value: '1' }] }] } };
    expect(threeWayPatch('Pod', config, config, live)).toEqual({});
  });

  it('changes items of merge-keyed lists by key, keeping server-set fields, and removes what was dropped', () => {
    const last = { metadata: { name: 'web', labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'X', value: '1' }] }] } };
    const config = { metadata: { name: 'web', labels: { a: '1', c: '3' } }, spec: { containers: [{ name: 'c', image: 'busybox:2' }] } };
    const patch = threeWayPatch('Pod', last, config, live);
    expect(patch).toEqual({ metadata: { labels: { c: '3', b: null } }, spec: { containers: [{ name: 'c', image: 'busybox:2', env: null }] } });
    const result = applyStrategicMergePatch('Pod', live, patch);
    expect(result.metadata.labels).toEqual({ a: '1', c: '3' });
    expect(result.spec.containers[0]).toEqual({ name: 'c', image: 'busybox:2', imagePullPolicy: 'Always' });
  });

  it('deletes list items the last configuration had and the new one dropped', () => {
    const twoContainers = { ...live, spec: { containers: [{ name: 'c', image: 'a' }, { name: 'd', image: 'b' }] } };
    const last = { spec: { containers: [{ name: 'c', image: 'a' }, { name: 'd', image: 'b' }] } };
    const config = { spec: { containers: [{ name: 'c', image: 'a' }] } };
    expect(threeWayPatch('Pod', last, config, twoContainers)).toEqual({ spec: { containers: [{ name: 'd', $patch: 'delete' }] } });
  });
});
