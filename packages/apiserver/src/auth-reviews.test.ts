// Who am I, what may I do: `kubectl auth whoami` and `kubectl auth can-i` (the real kubectl,
// which sends these reviews as protobuf) for an admin, a node and a caller without a valid
// token, against a server with --token-auth-file and TLS. Every can-i answer is checked
// against the same request really made: "yes" exactly when the request is not refused.

import { hasKubectl } from './testing/kubectl';
import { secureServerPerFile } from './testing/secure-server';

jest.setTimeout(120_000);

const admin = 'admin';
const node = 'system:node:n1';
const { req, kubectl } = secureServerPerFile({ nodes: ['n1', 'n2'] });

beforeAll(async () => {
  for (const n of ['n1', 'n2']) await req(admin, 'POST', '/api/v1/nodes', { metadata: { name: n } });
  // Log requests for n1's pods go to a port where nothing listens (503), never to a real agent.
  await req(admin, 'PATCH', '/api/v1/nodes/n1/status', { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } } });
  for (const [pod, n] of [['on-n1', 'n1'], ['on-n2', 'n2']]) {
    await req(admin, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: pod }, spec: { nodeName: n, containers: [{ name: 'c', image: 'x:1' }] } });
  }
});

const pod = { metadata: { name: 'new' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } };
const lease = (name: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name } });

/** A `kubectl auth can-i` question and the request it is about (writes as dry runs, so nothing changes). */
const questions: { args: string[]; method: string; path: string; body?: unknown }[] = [
  { args: ['create', 'pods'], method: 'POST', path: '/api/v1/namespaces/default/pods?dryRun=All', body: pod },
  // kubectl reads "pods/log" as the pod named "log", not as the subresource.
  { args: ['get', 'pods/log'], method: 'GET', path: '/api/v1/namespaces/default/pods/log' },
  { args: ['get', 'pods/on-n1', '--subresource=log'], method: 'GET', path: '/api/v1/namespaces/default/pods/on-n1/log' },
  { args: ['get', 'pods/on-n1'], method: 'GET', path: '/api/v1/namespaces/default/pods/on-n1' },
  { args: ['get', 'pods/on-n2'], method: 'GET', path: '/api/v1/namespaces/default/pods/on-n2' },
  { args: ['list', 'pods', '-A'], method: 'GET', path: '/api/v1/pods' },
  { args: ['create', 'pods/on-n1', '--subresource=eviction'], method: 'POST', path: '/api/v1/namespaces/default/pods/on-n1/eviction?dryRun=All', body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'on-n1' } } },
  { args: ['patch', 'nodes/n1', '--subresource=status'], method: 'PATCH', path: '/api/v1/nodes/n1/status', body: { status: {} } },
  { args: ['delete', 'nodes/n2'], method: 'DELETE', path: '/api/v1/nodes/n2?dryRun=All' },
  { args: ['create', 'leases', '-n', 'kube-node-lease'], method: 'POST', path: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases?dryRun=All', body: lease('n1') },
  { args: ['get', 'leases/n2', '-n', 'kube-node-lease'], method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2' },
  { args: ['get', '/metrics'], method: 'GET', path: '/metrics' },
  { args: ['get', '/version'], method: 'GET', path: '/version' },
  { args: ['create', 'subjectaccessreviews'], method: 'POST', path: '/apis/authorization.k8s.io/v1/subjectaccessreviews', body: { spec: { user: 'x', nonResourceAttributes: { verb: 'get', path: '/' } } } },
];

const withKubectl = hasKubectl() ? describe : describe.skip;

withKubectl('kubectl auth whoami', () => {
  test.each([
    [admin, 'admin', '[system:masters system:authenticated]'],
    [node, 'system:node:n1', '[system:nodes system:authenticated]'],
  ])('%s', async (user, username, groups) => {
    const table = await kubectl(user, ['auth', 'whoami']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toMatch(new RegExp(`^ATTRIBUTE +VALUE\\nUsername +${username}\\nUID +\\S+\\nGroups +\\${groups.slice(0, -1)}\\]\\n$`));
    const yaml = await kubectl(user, ['auth', 'whoami', '-o', 'yaml']);
    expect(yaml.stdout).toContain('apiVersion: authentication.k8s.io/v1\nkind: SelfSubjectReview\n');
    expect(yaml.stdout).toContain(`    username: ${username}\n`);
  });

  // (Without any token kubectl would ask for a user name first: the HTTP test below covers that caller.)
  test('a token nobody has: refused, as every other request is', async () => {
    const r = await kubectl('bogus', ['auth', 'whoami']);
    expect(r).toMatchObject({ code: 1, stderr: 'error: You must be logged in to the server (Unauthorized)\n' });
    expect((await req('bogus', 'GET', '/api/v1/namespaces/default/pods')).status).toBe(401);
  });
});

withKubectl('kubectl auth can-i agrees with the request itself', () => {
  const cases = [admin, node].flatMap((user) => questions.map((q) => [user, q.args.join(' '), q] as const));
  test.each(cases)('%s: can-i %s', async (user, _text, q) => {
    const answer = await kubectl(user, ['auth', 'can-i', ...q.args]);
    const real = await req(user, q.method, q.path, q.body);
    expect(real.status).not.toBe(401);
    const allowed = real.status !== 403;
    expect({ answer: answer.stdout.trim(), code: answer.code }).toEqual(allowed ? { answer: 'yes', code: 0 } : { answer: expect.stringMatching(/^no\b/), code: 1 });
  });

  test('what a node may and may not do', async () => {
    const answers = await Promise.all(questions.map((q) => kubectl(node, ['auth', 'can-i', ...q.args]).then((r) => `${q.args.join(' ')}: ${r.stdout.trim()}`)));
    expect(answers).toEqual([
      'create pods: no - a node may only act on itself, its lease and the pods bound to it',
      'get pods/log: yes',
      'get pods/on-n1 --subresource=log: no - a node may only act on itself, its lease and the pods bound to it',
      'get pods/on-n1: yes',
      'get pods/on-n2: no - a node may only act on itself, its lease and the pods bound to it',
      'list pods -A: no - a node may only act on itself, its lease and the pods bound to it',
      'create pods/on-n1 --subresource=eviction: no - a node may only act on itself, its lease and the pods bound to it',
      'patch nodes/n1 --subresource=status: yes',
      'delete nodes/n2: no - a node may only act on itself, its lease and the pods bound to it',
      'create leases -n kube-node-lease: yes',
      'get leases/n2 -n kube-node-lease: no - a node may only act on itself, its lease and the pods bound to it',
      'get /metrics: no',
      'get /version: yes',
      'create subjectaccessreviews: no - a node may only act on itself, its lease and the pods bound to it',
    ]);
  });

  test('a token nobody has: refused', async () => {
    const r = await kubectl('bogus', ['auth', 'can-i', 'create', 'pods']);
    // kubectl's discovery fails first (and says so), then the review itself.
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\nerror: You must be logged in to the server \(Unauthorized\)\n$/);
    expect((await req('bogus', 'POST', '/api/v1/namespaces/default/pods?dryRun=All', pod)).status).toBe(401);
  });

  test('can-i --list lists what RBAC grants, and says a node\'s list is incomplete', async () => {
    const all = await kubectl(admin, ['auth', 'can-i', '--list']);
    expect(all).toMatchObject({ code: 0, stderr: '' });
    expect(all.stdout).toMatch(/^Resources +Non-Resource URLs +Resource Names +Verbs\n\*\.\* +\[\] +\[\] +\[\*\]\n +\[\*\] +\[\] +\[\*\]\n/);
    const n = await kubectl(node, ['auth', 'can-i', '--list']);
    expect(n.code).toBe(0);
    expect(n.stderr).toContain('Warning: the list may be incomplete: the node authorizer grants a node access to the objects of its pods, which are not listed');
    expect(n.stdout).toMatch(/selfsubjectaccessreviews\.authorization\.k8s\.io +\[\] +\[\] +\[create\]/);
    expect(n.stdout).toMatch(/ +\[\/api\/\*\] +\[\] +\[get\]/);
  });
});

test.each([undefined, 'bogus'])('without a valid token (%s) the reviews are refused as every request is', async (user) => {
  const self = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
  expect((await req(user, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', self)).status).toBe(401);
  const access = { spec: { resourceAttributes: { verb: 'create', resource: 'pods', namespace: 'default' } } };
  expect((await req(user, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', access)).status).toBe(401);
  expect((await req(user, 'POST', '/api/v1/namespaces/default/pods?dryRun=All', pod)).status).toBe(401);
});

describe('SubjectAccessReview', () => {
  const review = (spec: unknown) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });

  test('a master asks about someone else and gets what that user would get', async () => {
    const asNode = { user: node, groups: ['system:nodes'] };
    const own = await req(admin, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review({ ...asNode, resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'default', name: 'on-n1' } }));
    expect(own.status).toBe(201);
    expect(own.body).toMatchObject({ kind: 'SubjectAccessReview', status: { allowed: true } });
    const other = await req(admin, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review({ ...asNode, resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'default', name: 'on-n2' } }));
    expect(other.body.status).toEqual({ allowed: false, reason: 'a node may only act on itself, its lease and the pods bound to it' });
    expect((await req(node, 'GET', '/api/v1/namespaces/default/pods/on-n2')).status).toBe(403);
    // A node's own list is allowed only with its field selector, in the review as in the request.
    const list = (fieldSelector?: object) => req(admin, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review({ ...asNode, resourceAttributes: { verb: 'list', resource: 'pods', fieldSelector } }));
    expect((await list({ rawSelector: 'spec.nodeName=n1' })).body.status.allowed).toBe(true);
    expect((await list()).body.status.allowed).toBe(false);
    expect((await req(node, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')).status).toBe(200);
  });

  test('only callers allowed to create it may ask; bad reviews are 422', async () => {
    const asked = await req(node, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review({ user: admin, nonResourceAttributes: { verb: 'get', path: '/metrics' } }));
    expect(asked.status).toBe(403);
    expect(asked.body.message).toBe('subjectaccessreviews.authorization.k8s.io is forbidden: User "system:node:n1" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope: a node may only act on itself, its lease and the pods bound to it');
    const nobody = await req(admin, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review({ resourceAttributes: { verb: 'get', resource: 'pods' } }));
    expect(nobody.status).toBe(422);
    const both = await req(admin, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: { resourceAttributes: { verb: 'get', resource: 'pods' }, nonResourceAttributes: { verb: 'get', path: '/' } } });
    expect(both.status).toBe(422);
    expect(both.body.details.causes[0].field).toBe('spec.resourceAttributes');
    const wrongKind = await req(admin, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { kind: 'Pod', spec: {} });
    expect(wrongKind.status).toBe(400);
    expect((await req(admin, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews?dryRun=Maybe', { spec: {} })).status).toBe(400);
  });
});

describe('discovery', () => {
  test('lists the review resources of both groups', async () => {
    const authn = await req(node, 'GET', '/apis/authentication.k8s.io/v1');
    expect(authn.body.resources.map((r: { name: string }) => r.name)).toEqual(['selfsubjectreviews', 'tokenreviews']);
    const authz = await req(node, 'GET', '/apis/authorization.k8s.io/v1');
    expect(authz.body.resources.map((r: { name: string }) => r.name)).toEqual(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews']);
    const groups = (await req(node, 'GET', '/apis')).body.groups.map((g: { name: string }) => g.name);
    expect(groups).toEqual(expect.arrayContaining(['authentication.k8s.io', 'authorization.k8s.io']));
  });
});
