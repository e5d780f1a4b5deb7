import { refusal } from './proxy-policy';

const get = (path: string, watch = false) => refusal({ method: 'GET', path, watch });

describe('the proxy policy', () => {
  it('lets the page read what it shows, discovery, and follow logs', () => {
    for (const p of [
      '/api',
      '/api/v1',
      '/apis',
      '/apis/discovery.k8s.io/v1',
      '/version',
      '/api/v1/pods',
      '/api/v1/namespaces/default/pods/web',
      '/api/v1/namespaces/default/pods/web/log',
      '/api/v1/nodes',
      '/api/v1/events',
      '/api/v1/replicationcontrollers',
      '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases',
      '/api/v1/services',
      '/api/v1/endpoints',
      '/apis/discovery.k8s.io/v1/endpointslices',
      '/api/v1/namespaces/kube-system',
    ]) {
      expect([p, get(p)]).toEqual([p, undefined]);
    }
    expect(get('/api/v1/pods', true)).toBeUndefined();
  });

  it('refuses secrets and tokens in every form, with a message', () => {
    for (const p of ['/api/v1/secrets', '/api/v1/namespaces/default/secrets', '/api/v1/namespaces/default/secrets/db', '/api/v1/namespaces/default/serviceaccounts/default/token', '/apis/authentication.k8s.io/v1/tokenreviews']) {
      const s = get(p);
      expect([p, s?.code]).toEqual([p, 403]);
    }
    expect(get('/api/v1/namespaces/default/secrets/db')?.message).toMatch(/never shows a Secret's data/);
    expect(get('/api/v1/namespaces/default/%73ecrets/db')?.code).toBe(403);
    expect(refusal({ method: 'GET', path: '/api/v1/secrets', watch: true })?.code).toBe(403);
  });

  it('allows only the writes behind the page actions, on named objects', () => {
    const w = (method: string, path: string) => refusal({ method, path, watch: false });
    expect(w('DELETE', '/api/v1/namespaces/default/pods/web')).toBeUndefined();
    expect(w('POST', '/api/v1/namespaces/default/pods/web/eviction')).toBeUndefined();
    expect(w('PATCH', '/api/v1/nodes/n1')).toBeUndefined();
    expect(w('PATCH', '/api/v1/namespaces/default/replicationcontrollers/web/scale')).toBeUndefined();
    expect(w('DELETE', '/api/v1/namespaces/default/pods')?.code).toBe(403);
    expect(w('POST', '/api/v1/namespaces/default/pods')?.code).toBe(403);
    expect(w('DELETE', '/api/v1/nodes/n1')?.code).toBe(403);
    expect(w('PUT', '/api/v1/namespaces/default/replicationcontrollers/web')?.code).toBe(403);
    expect(w('POST', '/api/v1')?.code).toBe(403);
  });

  it('refuses paths outside the API, and odd ones', () => {
    expect(get('/metrics')?.code).toBe(404);
    expect(get('/api/v1/namespaces/default/pods/web/exec')?.code).toBe(403);
    expect(get('/api/v1/namespaces/default/pods/%2e%2e')?.code).toBe(404);
    expect(get('/api/v1/namespaces/default/pods/a%2Fb')?.code).toBe(404);
    expect(get('/api/v1/namespaces/default/pods/web/log', true)?.code).toBe(403);
  });
});
