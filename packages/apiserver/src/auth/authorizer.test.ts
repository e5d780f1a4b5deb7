import type { Pod } from '@peapod/api';
import { Authorizer, type NonResourceAttributes, type RequestAttributes } from './authorizer';
import { bootstrapPolicy } from './rbac-bootstrap';
import { RbacPolicy } from './rbac-policy';
import { parseTokenFile, authenticate, type UserInfo } from './tokens';

const pods: Record<string, Pod> = {
  'default/mine': {
    metadata: { name: 'mine', namespace: 'default' },
    spec: {
      nodeName: 'n1',
      serviceAccountName: 'builder',
      containers: [{ name: 'c', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'settings' } }] }],
      volumes: [{ name: 'v', projected: { sources: [{ configMap: { name: 'kube-root-ca.crt' } }, { secret: { name: 'certs' } }] } }],
    },
  },
  'default/theirs': {
    metadata: { name: 'theirs', namespace: 'default' },
    spec: { nodeName: 'n2', serviceAccountName: 'deployer', containers: [], volumes: [{ name: 'v', secret: { secretName: 'other' } }] },
  },
};
const lookup = {
  nodeOf: (ns: string, name: string) => (pods[`${ns}/${name}`] ? (pods[`${ns}/${name}`].spec.nodeName ?? '') : undefined),
  podsOnNode: (ns: string, node: string) => Object.values(pods).filter((p) => p.metadata.namespace === ns && p.spec.nodeName === node),
};

// The chain with the default policy, as a server starts with it.
const policy = new RbacPolicy();
for (const { resource, object } of bootstrapPolicy()) policy.set(resource, object);
const authorizer = new Authorizer(policy, lookup);
const authorize = (user: UserInfo, a: RequestAttributes) => authorizer.authorize(user, a);
const authorizeNonResource = (user: UserInfo, a: NonResourceAttributes) => authorizer.authorizeNonResource(user, a);

const node = { name: 'system:node:n1', uid: '1', groups: ['system:nodes', 'system:authenticated'] };
const scheduler = { name: 'system:kube-scheduler', uid: '2', groups: ['system:authenticated'] };
const admin = { name: 'admin', uid: '3', groups: ['system:masters', 'system:authenticated'] };

test('token file: quoted groups, comments, errors', () => {
  const users = parseTokenFile('# comment\nabc,admin,1,"system:masters,devs"\ndef,system:node:n1,2,system:nodes\n');
  expect(users.get('abc')).toEqual({ name: 'admin', uid: '1', groups: ['system:masters', 'devs', 'system:authenticated'] });
  expect(users.get('def')!.groups).toEqual(['system:nodes', 'system:authenticated']);
  expect(authenticate('Bearer abc', users)!.name).toBe('admin');
  expect(authenticate('Bearer nope', users)).toBeUndefined();
  expect(authenticate('Basic abc', users)).toBeUndefined();
  expect(() => parseTokenFile('onlytoken\n')).toThrow(/expected token,user,uid/);
  expect(() => parseTokenFile('a,u,1\na,v,2\n')).toThrow(/duplicate token/);
});

test('masters may do anything', () => {
  expect(authorize(admin, { verb: 'delete', resource: 'nodes', name: 'n1' }).allowed).toBe(true);
});

test('a node acts only on itself and its own pods', () => {
  const allow = (a: Parameters<typeof authorize>[1]) => authorize(node, a).allowed;
  expect(allow({ verb: 'update', resource: 'nodes', subresource: 'status', name: 'n1' })).toBe(true);
  expect(allow({ verb: 'update', resource: 'nodes', subresource: 'status', name: 'n2' })).toBe(false);
  expect(allow({ verb: 'patch', resource: 'nodes', name: 'n2' })).toBe(false);
  expect(allow({ verb: 'get', resource: 'pods', namespace: 'default', name: 'mine' })).toBe(true);
  expect(allow({ verb: 'get', resource: 'pods', namespace: 'default', name: 'theirs' })).toBe(false);
  expect(allow({ verb: 'delete', resource: 'pods', namespace: 'default', name: 'theirs' })).toBe(false);
  expect(allow({ verb: 'update', resource: 'pods', subresource: 'status', namespace: 'default', name: 'mine' })).toBe(true);
  expect(allow({ verb: 'watch', resource: 'pods', fieldSelector: 'spec.nodeName=n1' })).toBe(true);
  expect(allow({ verb: 'list', resource: 'pods' })).toBe(false);
  expect(allow({ verb: 'create', resource: 'pods', namespace: 'default' })).toBe(false);
  expect(allow({ verb: 'create', resource: 'pods', subresource: 'binding', namespace: 'default', name: 'mine' })).toBe(false);
  expect(allow({ verb: 'create', resource: 'events', namespace: 'default' })).toBe(true);
  expect(allow({ verb: 'patch', resource: 'pods', subresource: 'status', namespace: 'default', name: 'gone' })).toBe(true);
});

test("a node reads only the ConfigMaps and Secrets of its pods, and requests tokens only for their service accounts", () => {
  const allow = (a: Parameters<typeof authorize>[1]) => authorize(node, a).allowed;
  expect(allow({ verb: 'get', resource: 'secrets', namespace: 'default', name: 'env-secret' })).toBe(true);
  expect(allow({ verb: 'get', resource: 'secrets', namespace: 'default', name: 'certs' })).toBe(true);
  expect(allow({ verb: 'get', resource: 'configmaps', namespace: 'default', name: 'settings' })).toBe(true);
  expect(allow({ verb: 'get', resource: 'configmaps', namespace: 'default', name: 'kube-root-ca.crt' })).toBe(true);
  expect(allow({ verb: 'get', resource: 'secrets', namespace: 'default', name: 'other' })).toBe(false);
  expect(allow({ verb: 'get', resource: 'secrets', namespace: 'other', name: 'certs' })).toBe(false);
  expect(allow({ verb: 'list', resource: 'secrets', namespace: 'default' })).toBe(false);
  expect(allow({ verb: 'update', resource: 'configmaps', namespace: 'default', name: 'settings' })).toBe(false);
  expect(allow({ verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'default', name: 'builder' })).toBe(true);
  expect(allow({ verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'default', name: 'deployer' })).toBe(false);
  expect(allow({ verb: 'get', resource: 'serviceaccounts', namespace: 'default', name: 'builder' })).toBe(false);
  expect(allow({ verb: 'list', resource: 'services', namespace: 'default' })).toBe(true);
});

test('the scheduler binds but may not delete nodes; the message reads as Kubernetes words it', () => {
  expect(authorize(scheduler, { verb: 'create', resource: 'pods', subresource: 'binding', namespace: 'default', name: 'x' }).allowed).toBe(true);
  const d = authorize(scheduler, { verb: 'delete', resource: 'nodes', name: 'n1' });
  expect(d.allowed).toBe(false);
  expect(d.message).toBe('nodes "n1" is forbidden: User "system:kube-scheduler" cannot delete resource "nodes" in API group "" at the cluster scope');
});

test('the scheduler and the controller manager keep their leader election leases in kube-system, nowhere else', () => {
  const cm = { name: 'system:kube-controller-manager', uid: '4', groups: ['system:authenticated'] };
  const lease = (verb: string, namespace = 'kube-system') => ({ verb, group: 'coordination.k8s.io', resource: 'leases', namespace, name: 'kube-scheduler' });
  for (const user of [scheduler, cm]) {
    for (const verb of ['get', 'create', 'update']) expect(authorize(user, lease(verb)).allowed).toBe(true);
    expect(authorize(user, lease('create', 'default')).allowed).toBe(false);
  }
  expect(authorize(scheduler, lease('delete')).allowed).toBe(false);
});

test("the controller manager's garbage collector may read, patch and delete any resource, but not create one", () => {
  const cm = { name: 'system:kube-controller-manager', uid: '4', groups: ['system:authenticated'] };
  const allow = (a: Parameters<typeof authorize>[1]) => authorize(cm, a).allowed;
  expect(allow({ verb: 'delete', resource: 'replicationcontrollers', namespace: 'default', name: 'web' })).toBe(true);
  expect(allow({ verb: 'patch', resource: 'namespaces', name: 'ns' })).toBe(true);
  expect(allow({ verb: 'watch', resource: 'namespaces' })).toBe(true);
  expect(allow({ verb: 'create', resource: 'nodes' })).toBe(false);
  expect(allow({ verb: 'create', resource: 'pods', namespace: 'default' })).toBe(true);
});

test('a node gets, creates, updates and patches only its own Lease in kube-node-lease', () => {
  const lease = (verb: string, name?: string, namespace = 'kube-node-lease') => authorize(node, { verb, group: 'coordination.k8s.io', resource: 'leases', namespace, name });
  for (const verb of ['get', 'update', 'patch']) expect(lease(verb, 'n1').allowed).toBe(true);
  expect(lease('create').allowed).toBe(true);
  expect(lease('create', 'n1').allowed).toBe(true);
  expect(lease('create', 'n2').allowed).toBe(false);
  expect(lease('update', 'n2').allowed).toBe(false);
  expect(lease('delete', 'n1').allowed).toBe(false);
  expect(lease('list').allowed).toBe(false);
  expect(lease('get', 'n1', 'default').allowed).toBe(false);
  // The group counts: a core resource of that name is another thing.
  expect(authorize(node, { verb: 'get', resource: 'leases', namespace: 'kube-node-lease', name: 'n1' }).allowed).toBe(false);
  const denied = lease('update', 'n2');
  expect(denied.message).toBe(
    'leases.coordination.k8s.io "n2" is forbidden: User "system:node:n1" cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": a node may only act on itself, its lease and the pods bound to it',
  );
});

test('everyone may ask about itself; paths: discovery and health for all, the rest for masters', () => {
  for (const [group, resource] of [['authentication.k8s.io', 'selfsubjectreviews'], ['authorization.k8s.io', 'selfsubjectaccessreviews'], ['authorization.k8s.io', 'selfsubjectrulesreviews']]) {
    expect(authorize(scheduler, { verb: 'create', group, resource }).allowed).toBe(true);
  }
  expect(authorize(scheduler, { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' }).allowed).toBe(false);
  expect(authorize(node, { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' }).allowed).toBe(true);
  for (const path of ['/api', '/api/v1', '/apis/coordination.k8s.io/v1', '/openapi/v3', '/version', '/healthz']) {
    expect(authorizeNonResource(scheduler, { verb: 'get', path }).allowed).toBe(true);
  }
  expect(authorizeNonResource(scheduler, { verb: 'get', path: '/metrics' })).toEqual({ allowed: false, message: 'forbidden: User "system:kube-scheduler" cannot get path "/metrics"' });
  expect(authorizeNonResource(scheduler, { verb: 'post', path: '/api' }).allowed).toBe(false);
  expect(authorizeNonResource(admin, { verb: 'get', path: '/metrics' }).allowed).toBe(true);
});

test('the service proxy reads services and their endpoints; the cluster DNS writes only in kube-system', () => {
  const proxy = { name: 'system:kube-proxy', uid: '4', groups: ['system:authenticated'] };
  const dns = { name: 'system:kube-dns', uid: '5', groups: ['system:authenticated'] };
  const can = (user: typeof proxy, a: Parameters<typeof authorize>[1]) => authorize(user, a).allowed;
  expect(can(proxy, { verb: 'watch', group: 'discovery.k8s.io', resource: 'endpointslices' })).toBe(true);
  expect(can(proxy, { verb: 'watch', resource: 'endpointslices' })).toBe(false);
  expect(can(proxy, { verb: 'get', resource: 'nodes', name: 'n1' })).toBe(true);
  expect(can(proxy, { verb: 'update', resource: 'services', namespace: 'default', name: 'web' })).toBe(false);
  expect(can(dns, { verb: 'list', resource: 'services' })).toBe(true);
  expect(can(dns, { verb: 'create', resource: 'services', namespace: 'kube-system' })).toBe(true);
  expect(can(dns, { verb: 'update', group: 'discovery.k8s.io', resource: 'endpointslices', namespace: 'kube-system', name: 'kube-dns-a' })).toBe(true);
  expect(can(dns, { verb: 'update', group: 'discovery.k8s.io', resource: 'endpointslices', namespace: 'default', name: 'web-a' })).toBe(false);
  expect(can(dns, { verb: 'delete', resource: 'services', namespace: 'default', name: 'web' })).toBe(false);
  expect(can(dns, { verb: 'list', resource: 'pods' })).toBe(false);
});
