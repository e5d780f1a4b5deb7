// The filter Kubernetes had before API Priority and Fairness (--enable-priority-and-fairness=false):
// reads and writes each capped (here at one in flight), the excess turned away with 429 at once,
// system:masters served past a full cap, and a seat given back when its response is over.

import fs from 'fs';
import https from 'https';
import { secureServerPerFile } from './testing/secure-server';

const t = secureServerPerFile({
  users: [{ name: 'alice', groups: [] }],
  server: { flowControl: { priorityAndFairness: false, maxRequestsInflight: 1, maxMutatingRequestsInflight: 1 } },
});
let agent: https.Agent;
beforeAll(async () => {
  agent = new https.Agent({ keepAlive: true, ca: fs.readFileSync(t.caFile) });
  const binding = { metadata: { name: 'alice' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] };
  expect((await t.req('admin', 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding)).status).toBe(201);
});
afterAll(() => agent.destroy());

const podsPath = '/api/v1/namespaces/default/pods';
const pod = (name: string) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

/** A create as alice whose body never comes: it holds the one mutating seat until destroyed. */
function holdWriteSeat(): https.ClientRequest {
  const r = https.request(`${t.base}${podsPath}`, { method: 'POST', agent, headers: { Authorization: `Bearer ${t.tokens.alice}`, 'Content-Type': 'application/json', 'Content-Length': '100' } });
  r.on('error', () => {});
  r.write('{');
  return r;
}

async function until(cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('turns away writes past the cap with 429, serves reads and system:masters, and frees the seat when the response is over', async () => {
  const held = holdWriteSeat();
  try {
    // Once the held create has its seat, alice's next one is turned away, creating nothing.
    await until(async () => (await t.req('alice', 'POST', `${podsPath}?dryRun=All`, pod('probe'))).status === 429);
    const answer = await t.req('alice', 'POST', podsPath, pod('turned-away'));
    expect(answer.status).toBe(429);
    expect(answer.body).toMatchObject({ kind: 'Status', code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
    expect((await t.req('admin', 'GET', `${podsPath}/turned-away`)).status).toBe(404);
    // Reads have a cap of their own.
    expect((await t.req('alice', 'GET', podsPath)).status).toBe(200);
    expect((await t.req('admin', 'POST', podsPath, pod('by-admin'))).status).toBe(201);
  } finally {
    held.destroy();
  }
  await until(async () => (await t.req('alice', 'POST', podsPath, pod('let-in'))).status === 201);
  // Served past the cap, the admin's create held no seat: alice's writes go one after another.
  for (const name of ['next-1', 'next-2']) expect((await t.req('alice', 'POST', podsPath, pod(name))).status).toBe(201);
});
