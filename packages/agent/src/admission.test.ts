import type { Pod } from '@peapod/api';
import { admitPod } from './admission';

const pod: Pod = {
  metadata: { name: 'priv', namespace: 'team' },
  spec: { containers: [{ name: 'a', image: 'i' }, { name: 'b', image: 'i', securityContext: { privileged: true } }] },
};

describe('admitPod', () => {
  it('admits everything when privileged pods are allowed', () => {
    expect(admitPod(pod, { allowPrivileged: true, nodeName: 'n1' })).toEqual({ admit: true });
  });

  it('refuses a privileged pod, naming the pod and the field', () => {
    const result = admitPod(pod, { allowPrivileged: false, nodeName: 'n1' });
    expect(result.admit).toBe(false);
    if (result.admit) return;
    expect(result.reason).toBe('FailedValidation');
    expect(result.message).toMatch(/^Error validating pod "priv"\."team" from api, ignoring: spec\.containers\[1\]\.securityContext\.privileged: Forbidden/);
  });

  it('admits unprivileged pods on a node that refuses privileged ones', () => {
    const plain: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'i', securityContext: { privileged: false } }] } };
    expect(admitPod(plain, { allowPrivileged: false, nodeName: 'n1' })).toEqual({ admit: true });
  });
});
