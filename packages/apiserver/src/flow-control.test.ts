// API Priority and Fairness on a server with two seats (one per level): a flooding user's
// requests wait in their own queues and are turned away with 429 and Retry-After when those are
// full, while another user's, and an exempt admin's, go through; kubectl and client-node read
// the 429.

import fs from 'fs';
import https from 'https';
import type http from 'http';
import path from 'path';
import { execFile, spawn } from 'child_process';
import { promisify } from 'util';
import { secureServerPerFile } from './testing/secure-server';
import { hasKubectl, kubectlPath } from './testing/kubectl';

jest.setTimeout(60_000);

const t = secureServerPerFile({
  users: [
    { name: 'alice', groups: [] },
    { name: 'bob', groups: [] },
  ],
  server: { flowControl: { priorityAndFairness: true, maxRequestsInflight: 1, maxMutatingRequestsInflight: 1 } },
});
let agent: https.Agent;
beforeAll(async () => {
  agent = new https.Agent({ keepAlive: true, maxSockets: Infinity, ca: fs.readFileSync(t.caFile) });
  const binding = { metadata: { name: 'alice-and-bob' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: ['alice', 'bob'].map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })) };
  expect((await t.req('admin', 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding)).status).toBe(201);
});
afterAll(() => agent.destroy());

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(user: string, method: string, p: string, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { Authorization: `Bearer ${t.tokens[user]}` };
  if (payload) headers['Content-Type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const r = https.request(`${t.base}${p}`, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    r.on('error', reject);
    r.end(payload);
  });
}

let made = 0;
const createPod = (user: string) => {
  const name = `p-${made++}`;
  return send(user, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
};

/** Sends n creates as user at once; calls onAnswer as each is answered. */
function flood(user: string, n: number, onAnswer: (a: Answer) => void = () => {}): Promise<Answer[]> {
  return Promise.all(Array.from({ length: n }, () => createPod(user).then((a) => (onAnswer(a), a))));
}

describe('API Priority and Fairness', () => {
  it("serves a quiet user's request before a flooding user's backlog", async () => {
    let aliceDone = 0;
    let aliceDoneBeforeBob = -1;
    // Connections made first, so that the flood reaches the server at once.
    await Promise.all(Array.from({ length: 120 }, () => send('alice', 'GET', '/version')));
    const alice = flood('alice', 120, () => aliceDone++);
    // Bob asks once alice's flood is in.
    await waitFor(() => aliceDone > 0);
    const bob = await createPod('bob');
    aliceDoneBeforeBob = aliceDone;
    expect(bob.status).toBe(201);
    const answers = await alice;
    expect(answers.every((a) => a.status === 201)).toBe(true);
    // Alice's requests spread over her hand of 6 queues; bob's queue is served among them.
    expect(aliceDoneBeforeBob).toBeLessThan(30);
  });

  it('turns away what does not fit in the queues with 429 and Retry-After, creating nothing for it', async () => {
    const pods = async () => JSON.parse((await send('admin', 'GET', '/api/v1/namespaces/default/pods')).body).items.length as number;
    const before = await pods();
    const held = await fillQueues('alice');
    const answers = await flood('alice', 20);
    release(held);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(429));
    expect(answers[0].headers['retry-after']).toBe('1');
    const status = JSON.parse(answers[0].body);
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
    expect(status.message).toBe('Too many requests, please try again later (its queue is full).');
    expect(await pods()).toBe(before);
    const metrics = (await send('admin', 'GET', '/metrics')).body;
    expect(metrics).toMatch(/apiserver_flowcontrol_rejected_requests_total\{priority_level="global-default",flow_schema="global-default",reason="queue-full"\} 20/);
    expect(metrics).toMatch(/apiserver_flowcontrol_nominal_limit_seats\{priority_level="global-default"\} 1/);
    // Another user's flow has queues of its own.
    expect((await createPod('bob')).status).toBe(201);
  });

  it("counts each request let in, and its wait, in its schema's series", async () => {
    const series = async () => {
      const text = (await send('admin', 'GET', '/metrics')).body;
      const value = (name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
      const level = 'priority_level="global-default",flow_schema="global-default"';
      return {
        dispatched: value('apiserver_flowcontrol_dispatched_requests_total', level),
        waits: value('apiserver_flowcontrol_request_wait_duration_seconds_count', level),
        quickWaits: value('apiserver_flowcontrol_request_wait_duration_seconds_bucket', `le="0.001",${level}`),
        exempt: value('apiserver_flowcontrol_dispatched_requests_total', 'priority_level="exempt",flow_schema="exempt"'),
      };
    };
    const before = await series();
    for (let i = 0; i < 5; i++) expect((await createPod('bob')).status).toBe(201);
    expect((await send('admin', 'GET', '/api/v1/namespaces/default/pods?limit=1')).status).toBe(200);
    const after = await series();
    expect(after.dispatched - before.dispatched).toBe(5);
    expect(after.waits - before.waits).toBe(5);
    // Nothing else was in: each started at once.
    expect(after.quickWaits - before.quickWaits).toBe(5);
    expect(after.exempt - before.exempt).toBe(1);
  });

  it("lets system:masters' requests past the queues", async () => {
    let aliceDone = 0;
    const alice = flood('alice', 300, () => aliceDone++);
    await waitFor(() => aliceDone > 0);
    const admin = await send('admin', 'GET', '/api/v1/namespaces/default/pods?limit=1');
    const doneBeforeAdmin = aliceDone;
    expect(admin.status).toBe(200);
    await alice;
    expect(doneBeforeAdmin).toBeLessThan(100);
  });

  (hasKubectl() ? it : it.skip)('kubectl waits as Retry-After asks and gets its answer', async () => {
    const home = fs.mkdtempSync(path.join(path.dirname(t.caFile), 'kubectl-'));
    const held = await fillQueues('alice');
    const kubectl = spawn(kubectlPath, ['--server', t.base, '--certificate-authority', t.caFile, '--token', t.tokens.alice, '--cache-dir', path.join(home, 'cache'), '-v=4', 'get', 'pods', '-o', 'name'], {
      env: { ...process.env, HOME: home, KUBECONFIG: path.join(home, 'none') },
    });
    let stdout = '';
    let stderr = '';
    kubectl.stdout.on('data', (d) => (stdout += d));
    kubectl.stderr.on('data', (d) => {
      stderr += d;
      // Told to wait: the held requests go, so its next attempt finds a seat.
      if (/Retry-After/.test(stderr)) release(held);
    });
    const code = await new Promise<number | null>((resolve) => kubectl.on('exit', resolve));
    release(held);
    expect(stderr).toMatch(/Got a Retry-After 1s response for attempt 1/);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^pod\/p-\d+$/m);
  });

  it("gives @kubernetes/client-node a 429 Status it reads: its reason, retryAfterSeconds and the Retry-After header", async () => {
    const script = path.join(__dirname, 'testing', 'client-node-retry-after.mjs');
    const create = async (name: string) => JSON.parse((await promisify(execFile)(process.execPath, [script, t.base, t.tokens.alice, name], { timeout: 30_000 })).stdout) as unknown;
    const held = await fillQueues('alice');
    try {
      expect(await create('cn-turned-away')).toEqual({ code: 429, kind: 'Status', reason: 'TooManyRequests', retryAfterSeconds: 1, retryAfter: '1' });
    } finally {
      release(held);
    }
    expect((await send('admin', 'GET', '/api/v1/namespaces/default/pods/cn-turned-away')).status).toBe(404);
    await waitFor(async () => /^apiserver_flowcontrol_current_inqueue_requests\{priority_level="global-default"\} 0$/m.test((await send('admin', 'GET', '/metrics')).body));
    expect(await create('cn-let-in')).toEqual({ created: 'cn-let-in' });
  });
});

/**
 * Creates as user whose bodies never come: the first holds global-default's one seat and 300
 * fill the user's hand of 6 queues of 50. Answers when the server has them all.
 */
async function fillQueues(user: string): Promise<http.ClientRequest[]> {
  const held = Array.from({ length: 301 }, () => {
    const r = https.request(`${t.base}/api/v1/namespaces/default/pods`, { method: 'POST', agent, headers: { Authorization: `Bearer ${t.tokens[user]}`, 'Content-Type': 'application/json', 'Content-Length': '100' } });
    r.on('error', () => {});
    r.write('{');
    return r;
  });
  const queued = async () => /^apiserver_flowcontrol_current_inqueue_requests\{priority_level="global-default"\} 300$/m.test((await send('admin', 'GET', '/metrics')).body);
  await waitFor(queued);
  return held;
}

function release(held: http.ClientRequest[]): void {
  for (const r of held) r.destroy();
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
