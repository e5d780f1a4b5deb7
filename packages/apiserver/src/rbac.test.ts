// RBAC with the real kubectl against a server with --token-auth-file and TLS: the four kinds
// created, listed (kubectl's columns) and described; `kubectl auth can-i --as` for a service
// account, a user and a node, each answer checked against the same request made with that
// identity's own token; impersonation for admins only; privilege escalation refused; the
// default policy and its reconciliation on restart.

import fs from 'fs';
import os from 'os';
import path from 'path';
import { hasKubectl } from './testing/kubectl';
import { secureServerPerFile } from './testing/secure-server';
import { createApiServer } from './server';

jest.setTimeout(120_000);

const admin = 'admin';
const alice = 'alice';
const node = 'system:node:n1';
const { req, kubectl, tokens } = secureServerPerFile({ nodes: ['n1', 'n2'], users: [{ name: alice, groups: ['devs'] }] });
const withKubectl = hasKubectl() ? describe : describe.skip;
const rbac = '/apis/rbac.authorization.k8s.io/v1';

let botToken = '';

beforeAll(async () => {
  await req(admin, 'POST', '/api/v1/namespaces', { metadata: { name: 'team' } });
  await req(admin, 'POST', '/api/v1/namespaces/team/serviceaccounts', { metadata: { name: 'bot' } });
  for (const n of ['n1', 'n2']) await req(admin, 'POST', '/api/v1/nodes', { metadata: { name: n } });
  await req(admin, 'POST', '/api/v1/namespaces/team/pods', { metadata: { name: 'web' }, spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'x:1' }] } });
  const token = await req(admin, 'POST', '/api/v1/namespaces/team/serviceaccounts/bot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
  botToken = token.body.status.token;
});

withKubectl('kubectl create, get and describe the four kinds', () => {
  test('roles and cluster roles', async () => {
    expect(await kubectl(admin, ['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods,pods/log', '-n', 'team'])).toMatchObject({ code: 0, stdout: 'role.rbac.authorization.k8s.io/pod-reader created\n' });
    expect((await kubectl(admin, ['create', 'clusterrole', 'log-reader', '--verb=get', '--non-resource-url=/logs/*'])).code).toBe(0);
    expect((await kubectl(admin, ['create', 'clusterrole', 'one-pod', '--verb=get', '--resource=pods', '--resource-name=web'])).code).toBe(0);
    const roles = await kubectl(admin, ['get', 'roles', '-n', 'team']);
    expect(roles.stdout).toMatch(/^NAME +CREATED AT\npod-reader +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    const cluster = await kubectl(admin, ['get', 'clusterroles', 'one-pod', 'log-reader']);
    expect(cluster.stdout).toMatch(/^NAME +CREATED AT\none-pod +\S+Z\nlog-reader +\S+Z\n$/);
    const described = await kubectl(admin, ['describe', 'role', 'pod-reader', '-n', 'team']);
    expect(described.stdout).toMatch(/PolicyRule:\n +Resources +Non-Resource URLs +Resource Names +Verbs\n.*\n +pods\/log +\[\] +\[\] +\[get list watch\]\n +pods +\[\] +\[\] +\[get list watch\]\n/);
    expect((await kubectl(admin, ['describe', 'clusterrole', 'log-reader'])).stdout).toMatch(/ +\[\/logs\/\*\] +\[\] +\[get\]\n/);
  });

  test('role bindings and cluster role bindings, with -o wide', async () => {
    const created = await kubectl(admin, ['create', 'rolebinding', 'readers', '--role=pod-reader', '--serviceaccount=team:bot', '--user=alice', '--group=devs', '-n', 'team']);
    expect(created).toMatchObject({ code: 0, stdout: 'rolebinding.rbac.authorization.k8s.io/readers created\n' });
    expect((await kubectl(admin, ['create', 'clusterrolebinding', 'log-readers', '--clusterrole=log-reader', '--user=alice'])).code).toBe(0);
    const wide = await kubectl(admin, ['get', 'rolebindings', '-n', 'team', '-o', 'wide']);
    expect(wide.stdout).toMatch(/^NAME +ROLE +AGE +USERS +GROUPS +SERVICEACCOUNTS\nreaders +Role\/pod-reader +\d+s +alice +devs +team\/bot\n$/);
    const cluster = await kubectl(admin, ['get', 'clusterrolebinding', 'log-readers']);
    expect(cluster.stdout).toMatch(/^NAME +ROLE +AGE\nlog-readers +ClusterRole\/log-reader +\d+s\n$/);
    const described = await kubectl(admin, ['describe', 'rolebinding', 'readers', '-n', 'team']);
    expect(described.stdout).toMatch(/Role:\n +Kind: +Role\n +Name: +pod-reader\nSubjects:\n +Kind +Name +Namespace\n.*\n +User +alice *\n +Group +devs *\n +ServiceAccount +bot +team\n/);
    // The subjects' API groups were defaulted.
    const stored = await req(admin, 'GET', `${rbac}/namespaces/team/rolebindings/readers`);
    const groups = Object.fromEntries(stored.body.subjects.map((s: { kind: string; apiGroup?: string }) => [s.kind, s.apiGroup ?? '']));
    expect(groups).toEqual({ ServiceAccount: '', User: 'rbac.authorization.k8s.io', Group: 'rbac.authorization.k8s.io' });
  });

  test('server-side apply, explain and watch', async () => {
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'applied', namespace: 'team' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] };
    expect(await kubectl(admin, ['apply', '--server-side', '-f', '-'], JSON.stringify(role))).toMatchObject({ code: 0, stdout: 'role.rbac.authorization.k8s.io/applied serverside-applied\n' });
    const explained = await kubectl(admin, ['explain', 'clusterrole.aggregationRule']);
    expect(explained.stdout).toContain('clusterRoleSelectors');
    const watched = await req(admin, 'GET', `${rbac}/namespaces/team/roles?watch=1&timeoutSeconds=1`);
    const events = watched.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e: { type: string; object: { metadata: { name: string } } }) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED applied', 'ADDED pod-reader']);
  });

  test('a roleRef cannot change; bad rules and subjects are 422', async () => {
    const patched = await req(admin, 'PATCH', `${rbac}/namespaces/team/rolebindings/readers`, { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' } });
    expect(patched.status).toBe(422);
    expect(patched.body.details.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'roleRef', message: expect.stringContaining('cannot change roleRef') }]);
    const noVerbs = await req(admin, 'POST', `${rbac}/namespaces/team/roles`, { metadata: { name: 'bad' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] });
    expect(noVerbs.status).toBe(422);
    expect(noVerbs.body.details.causes[0]).toMatchObject({ field: 'rules[0].verbs' });
    const urlsInRole = await req(admin, 'POST', `${rbac}/namespaces/team/roles`, { metadata: { name: 'bad' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }] });
    expect(urlsInRole.status).toBe(422);
    const badSubject = await req(admin, 'POST', `${rbac}/clusterrolebindings`, { metadata: { name: 'bad' }, roleRef: { kind: 'Role', name: 'x' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] });
    expect(badSubject.status).toBe(422);
    expect(badSubject.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['roleRef.kind', 'subjects[0].namespace']);
    const dry = await req(admin, 'POST', `${rbac}/namespaces/team/roles?dryRun=All`, { metadata: { name: 'dry' }, rules: [] });
    expect(dry.status).toBe(201);
    expect((await req(admin, 'GET', `${rbac}/namespaces/team/roles/dry`)).status).toBe(404);
  });
});

/** The request a can-i question is about, for a caller. */
const questions: { args: string[]; method: string; path: string }[] = [
  { args: ['list', 'pods', '-n', 'team'], method: 'GET', path: '/api/v1/namespaces/team/pods' },
  { args: ['get', 'pods/web', '-n', 'team', '--subresource=log'], method: 'GET', path: '/api/v1/namespaces/team/pods/web/log' },
  { args: ['list', 'pods', '-n', 'default'], method: 'GET', path: '/api/v1/namespaces/default/pods' },
  { args: ['delete', 'pods/web', '-n', 'team'], method: 'DELETE', path: '/api/v1/namespaces/team/pods/web?dryRun=All' },
  { args: ['get', 'nodes/n1'], method: 'GET', path: '/api/v1/nodes/n1' },
  { args: ['get', '/logs/app'], method: 'GET', path: '/logs/app' },
];

withKubectl('kubectl auth can-i --as agrees with the real request', () => {
  const identities: [string, string[], () => { token: string }][] = [
    ['service account', ['--as=system:serviceaccount:team:bot'], () => ({ token: botToken })],
    ['user', ['--as=alice', '--as-group=devs'], () => ({ token: tokens[alice] })],
    ['node', ['--as=system:node:n1', '--as-group=system:nodes'], () => ({ token: tokens[node] })],
  ];
  const cases = identities.flatMap(([who, as, token]) => questions.map((q) => [who, q.args.join(' '), as, token, q] as const));
  test.each(cases)('%s: can-i %s', async (_who, _text, as, token, q) => {
    const answer = await kubectl(admin, ['auth', 'can-i', ...q.args, ...as]);
    const real = await req(token(), q.method, q.path);
    expect(real.status).not.toBe(401);
    const allowed = real.status !== 403;
    expect({ answer: answer.stdout.trim(), code: answer.code }).toEqual(allowed ? { answer: 'yes', code: 0 } : { answer: expect.stringMatching(/^no\b/), code: 1 });
  });

  test('the answers', async () => {
    const answers = async (as: string[]) => Promise.all(questions.map((q) => kubectl(admin, ['auth', 'can-i', ...q.args, ...as]).then((r) => r.stdout.trim().split(' ')[0])));
    expect(await answers(identities[0][1])).toEqual(['yes', 'yes', 'no', 'no', 'no', 'no']);
    expect(await answers(identities[1][1])).toEqual(['yes', 'yes', 'no', 'no', 'no', 'yes']);
    expect(await answers(identities[2][1])).toEqual(['no', 'no', 'no', 'no', 'yes', 'no']);
  });

  test('a grant takes effect at once, and its removal too', async () => {
    const list = () => req({ token: botToken }, 'GET', '/api/v1/namespaces/default/pods');
    expect((await list()).status).toBe(403);
    expect((await kubectl(admin, ['create', 'rolebinding', 'bot-edit', '--clusterrole=one-pod', '--serviceaccount=team:bot', '-n', 'default'])).code).toBe(0);
    const role = await req(admin, 'POST', `${rbac}/namespaces/default/roles`, { metadata: { name: 'lister' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] });
    expect(role.status).toBe(201);
    await req(admin, 'POST', `${rbac}/namespaces/default/rolebindings`, { metadata: { name: 'bot-list' }, roleRef: { kind: 'Role', name: 'lister' }, subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'team' }] });
    expect((await list()).status).toBe(200);
    await req(admin, 'DELETE', `${rbac}/namespaces/default/roles/lister`);
    expect((await list()).status).toBe(403);
  });
});

describe('impersonation', () => {
  test('admins act as anyone; the request is authorized as that user', async () => {
    const asBot = await req(admin, 'GET', '/api/v1/namespaces/team/pods', undefined, { 'Impersonate-User': 'system:serviceaccount:team:bot' });
    expect(asBot.status).toBe(200);
    const asBotElsewhere = await req(admin, 'GET', '/api/v1/namespaces/kube-system/pods', undefined, { 'Impersonate-User': 'system:serviceaccount:team:bot' });
    expect(asBotElsewhere.status).toBe(403);
    expect(asBotElsewhere.body.message).toContain('User "system:serviceaccount:team:bot" cannot list resource "pods"');
    const who = await req(admin, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, { 'Impersonate-User': 'carol', 'Impersonate-Group': 'devs', 'Impersonate-Uid': '42' });
    expect(who.body.status.userInfo).toEqual({ username: 'carol', uid: '42', groups: ['devs', 'system:authenticated'] });
  });

  test('others may not impersonate: 403, and headers naming no user are 400', async () => {
    const r = await req(alice, 'GET', '/api/v1/namespaces/team/pods', undefined, { 'Impersonate-User': 'bob' });
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope');
    expect((await req(admin, 'GET', '/api/v1/namespaces/team/pods', undefined, { 'Impersonate-Group': 'devs' })).status).toBe(400);
    if (hasKubectl()) {
      const k = await kubectl(alice, ['get', 'pods', '-n', 'team', '--as=bob']);
      expect(k.code).toBe(1);
      expect(k.stderr).toContain('Error from server (Forbidden)');
    }
  });
});

describe('privilege escalation', () => {
  beforeAll(async () => {
    // alice may manage roles and bindings in team, and read pods there (pod-reader, bound above or here).
    await req(admin, 'POST', `${rbac}/namespaces/team/roles`, { metadata: { name: 'rbac-manager' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create', 'update', 'patch', 'get'] }] });
    await req(admin, 'POST', `${rbac}/namespaces/team/rolebindings`, { metadata: { name: 'alice-rbac' }, roleRef: { kind: 'Role', name: 'rbac-manager' }, subjects: [{ kind: 'User', name: alice }] });
    await req(admin, 'POST', `${rbac}/namespaces/team/rolebindings`, { metadata: { name: 'alice-reads' }, roleRef: { kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'User', name: alice }] });
  });

  test('a role may grant only what its writer holds', async () => {
    const ok = await req(alice, 'POST', `${rbac}/namespaces/team/roles`, { metadata: { name: 'pod-getter' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] });
    expect(ok.status).toBe(201);
    const more = await req(alice, 'POST', `${rbac}/namespaces/team/roles`, { metadata: { name: 'pod-deleter' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete'] }] });
    expect(more.status).toBe(403);
    expect(more.body.message).toBe(
      'roles.rbac.authorization.k8s.io "pod-deleter" is forbidden: user "alice" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["get", "delete"]}',
    );
    const widened = await req(alice, 'PATCH', `${rbac}/namespaces/team/roles/pod-getter`, { rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] });
    expect(widened.status).toBe(403);
  });

  test('updates and server-side applies are checked as creates are', async () => {
    const current = await req(alice, 'GET', `${rbac}/namespaces/team/roles/pod-getter`);
    expect(current.status).toBe(200);
    const deletes = [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete'] }];
    const put = await req(alice, 'PUT', `${rbac}/namespaces/team/roles/pod-getter`, { ...current.body, rules: deletes });
    expect(put.status).toBe(403);
    expect(put.body.message).toContain('is attempting to grant RBAC permissions not currently held');
    const apply = (rules: unknown[]) =>
      req(alice, 'PATCH', `${rbac}/namespaces/team/roles/alice-applied?fieldManager=alice`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'alice-applied' }, rules }, { 'Content-Type': 'application/apply-patch+yaml' });
    expect((await apply([{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }])).status).toBe(201);
    expect((await apply(deletes)).status).toBe(403);
    const admins = await req(alice, 'PATCH', `${rbac}/namespaces/team/rolebindings/admins?fieldManager=alice`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'admins' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: alice }] }, { 'Content-Type': 'application/apply-patch+yaml' });
    expect(admins.status).toBe(403);
  });

  test('a binding needs the role\'s permissions or the bind verb', async () => {
    const own = await req(alice, 'POST', `${rbac}/namespaces/team/rolebindings`, { metadata: { name: 'bot-gets' }, roleRef: { kind: 'Role', name: 'pod-getter' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] });
    expect(own.status).toBe(201);
    const admins = await req(alice, 'POST', `${rbac}/namespaces/team/rolebindings`, { metadata: { name: 'bot-admin' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] });
    expect(admins.status).toBe(403);
    expect(admins.body.message).toContain('is attempting to grant RBAC permissions not currently held');
    await req(admin, 'POST', `${rbac}/namespaces/team/roles`, { metadata: { name: 'binder' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['cluster-admin'] }] });
    await req(admin, 'POST', `${rbac}/namespaces/team/rolebindings`, { metadata: { name: 'alice-binds' }, roleRef: { kind: 'Role', name: 'binder' }, subjects: [{ kind: 'User', name: alice }] });
    const allowed = await req(alice, 'POST', `${rbac}/namespaces/team/rolebindings?dryRun=All`, { metadata: { name: 'bot-admin' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] });
    expect(allowed.status).toBe(201);
  });
});

describe('the default policy', () => {
  test('cluster roles and bindings are there, labelled and marked for autoupdate', async () => {
    const roles = await req(admin, 'GET', `${rbac}/clusterroles?labelSelector=kubernetes.io%2Fbootstrapping%3Drbac-defaults`);
    const names = roles.body.items.map((r: { metadata: { name: string } }) => r.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:kube-scheduler', 'system:kube-controller-manager', 'system:node-proxier', 'system:kube-dns']));
    const admins = await req(admin, 'GET', `${rbac}/clusterrolebindings/cluster-admin`);
    expect(admins.body).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'Group', name: 'system:masters' }], metadata: { annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } } });
  });

  test('a restart adds what is missing and keeps what was added; autoupdate=false is left alone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-rbac-'));
    const quiet = { info() {}, warn() {}, error() {}, debug() {} };
    try {
      const first = createApiServer({ dataDir: dir, allowPrivileged: true, logger: quiet });
      await first.listen(0, '127.0.0.1');
      const scheduler = (await first.registry.get('clusterroles', undefined, 'system:kube-scheduler')).object as { rules: unknown[] };
      await first.registry.update('clusterroles', undefined, 'system:kube-scheduler', { ...scheduler, rules: [...scheduler.rules.slice(1), { apiGroups: ['x'], resources: ['y'], verbs: ['get'] }] }, 'Strict');
      const dns = (await first.registry.get('clusterroles', undefined, 'system:kube-dns')).object;
      await first.registry.update('clusterroles', undefined, 'system:kube-dns', { ...dns, metadata: { ...dns.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } }, rules: [] }, 'Strict');
      await first.registry.delete('clusterrolebindings', undefined, 'system:basic-user', {});
      await first.close();
      const second = createApiServer({ dataDir: dir, allowPrivileged: true, logger: quiet });
      await second.listen(0, '127.0.0.1');
      try {
        const rules = ((await second.registry.get('clusterroles', undefined, 'system:kube-scheduler')).object as { rules: unknown[] }).rules;
        expect(rules).toEqual(expect.arrayContaining([...scheduler.rules, { apiGroups: ['x'], resources: ['y'], verbs: ['get'] }]));
        expect(((await second.registry.get('clusterroles', undefined, 'system:kube-dns')).object as { rules: unknown[] }).rules).toEqual([]);
        expect((await second.registry.get('clusterrolebindings', undefined, 'system:basic-user')).object.metadata.name).toBe('system:basic-user');
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
