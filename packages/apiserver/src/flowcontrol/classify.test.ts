import type { UserInfo } from '../auth/tokens';
import { flowSchemas, nominalSeats, priorityLevels } from './bootstrap';
import { classify, type RequestDigest } from './classify';

const authed = (name: string, ...groups: string[]): UserInfo => ({ name, uid: name, groups: [...groups, 'system:authenticated'] });
const node = authed('system:node:n1', 'system:nodes');
const controllerManager = authed('system:kube-controller-manager');
const scheduler = authed('system:kube-scheduler');
const admin = authed('admin', 'system:masters');
const alice = authed('alice');
const serviceAccount = (ns: string, name: string) => authed(`system:serviceaccount:${ns}:${name}`, 'system:serviceaccounts', `system:serviceaccounts:${ns}`);

const req = (verb: string, resource: string, init: Partial<RequestDigest> = {}): RequestDigest => ({ verb, apiGroup: '', resource, ...init });
const lease = (verb: string, namespace: string) => req(verb, 'leases', { apiGroup: 'coordination.k8s.io', namespace });

function where(user: UserInfo | undefined, r: RequestDigest): [string, string, string] {
  const { schema, flow } = classify(user, r);
  return [schema.name, schema.priorityLevel, flow];
}

describe('classify', () => {
  it("puts a node's heartbeat on node-high and the rest of its work on system", () => {
    expect(where(node, lease('update', 'kube-node-lease'))).toEqual(['system-node-high', 'node-high', 'system:node:n1']);
    expect(where(node, req('patch', 'nodes', { subresource: 'status' }))).toEqual(['system-node-high', 'node-high', 'system:node:n1']);
    expect(where(node, req('patch', 'pods', { subresource: 'status', namespace: 'default' }))).toEqual(['system-nodes', 'system', 'system:node:n1']);
  });

  it('puts the controller manager and scheduler on workload-high, one flow per namespace, and their leader election apart', () => {
    expect(where(controllerManager, req('create', 'pods', { namespace: 'team-a' }))).toEqual(['kube-controller-manager', 'workload-high', 'team-a']);
    expect(where(controllerManager, req('list', 'nodes'))).toEqual(['kube-controller-manager', 'workload-high', '']);
    expect(where(scheduler, req('create', 'pods', { subresource: 'binding', namespace: 'default' }))).toEqual(['kube-scheduler', 'workload-high', 'default']);
    expect(where(scheduler, lease('update', 'kube-system'))).toEqual(['system-leader-election', 'leader-election', 'system:kube-scheduler']);
    expect(where(controllerManager, req('update', 'endpoints', { namespace: 'default' }))).toEqual(['endpoint-controller', 'workload-high', 'system:kube-controller-manager']);
  });

  it('puts service accounts on workload-low, those of kube-system on workload-high', () => {
    expect(where(serviceAccount('default', 'bot'), req('get', 'configmaps', { namespace: 'default' }))).toEqual(['service-accounts', 'workload-low', 'system:serviceaccount:default:bot']);
    expect(where(serviceAccount('kube-system', 'dns'), req('list', 'services'))).toEqual(['kube-system-service-accounts', 'workload-high', '']);
    expect(where(serviceAccount('kube-system', 'dns'), lease('update', 'kube-system'))).toEqual(['system-leader-election', 'leader-election', 'system:serviceaccount:kube-system:dns']);
  });

  it('exempts system:masters, puts other users on global-default by user, and anyone else there as anonymous', () => {
    expect(where(admin, req('delete', 'pods', { namespace: 'default' }))[1]).toBe('exempt');
    expect(where(alice, req('create', 'pods', { namespace: 'default' }))).toEqual(['global-default', 'global-default', 'alice']);
    expect(where(undefined, req('get', 'pods', { namespace: 'default' }))).toEqual(['global-default', 'global-default', 'system:anonymous']);
    expect(where({ name: 'odd', uid: '', groups: [] }, req('get', 'pods', { namespace: 'default' }))).toEqual(['catch-all', 'catch-all', 'odd']);
  });

  it("gives every limited level a share of the server's seats, as Kubernetes' defaults do", () => {
    const seats = nominalSeats(600);
    expect(Object.fromEntries(seats)).toEqual({ system: 74, 'node-high': 98, 'leader-election': 25, 'workload-high': 98, 'workload-low': 245, 'global-default': 49, 'catch-all': 13 });
    expect(nominalSeats(2).get('catch-all')).toBe(1);
    // Every schema names a level that exists.
    const levels = new Set(priorityLevels.map((l) => l.name));
    for (const s of flowSchemas) expect(levels.has(s.priorityLevel)).toBe(true);
  });
});
