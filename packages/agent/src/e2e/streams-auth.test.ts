// exec and port-forward with authentication and TLS on, as npm start and docker-compose run
// a cluster: the API server presents its own token to the agent, and nobody else may open
// streams there; a user without pods/exec is refused before any upgrade.
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import type { Pod } from '@peapod/api';
import type { Client } from '@peapod/client';
import { getBody, freePort } from '@peapod/client/testing';
import { TestCluster, bootstrapPki, cooperative, makePod, shContainer, waitFor } from '../testing/cluster';
import { kubectlFor } from '../testing/kubectl';
import type { Kubectl } from '../testing/kubectl';

jest.setTimeout(120_000);

const cluster = new TestCluster('streams-auth');
const node = cluster.node('n1');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-streams-auth-'));
const pki = path.join(dir, 'pki');
let admin: Client;
let kubectl: Kubectl;
let agentPort: number;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const credentials = bootstrapPki(pki, [node]);
  Object.assign(tokens, credentials.tokens);
  const file = credentials.file;
  admin = await cluster.startSecure(credentials);
  const url = cluster.server!.url;
  agentPort = (await cluster.startAgent(node, { args: ['--kubeconfig', file(`node-${node}.kubeconfig`)] })).port;
  kubectl = kubectlFor(url, ['--kubeconfig', file('admin.kubeconfig')]);
  const web = `mkdir -p /www && echo hello > /www/index.html && httpd -p 127.0.0.1:8080 -h /www && exec sh -c "${cooperative()}"`;
  await admin.create('pods', makePod('web', node, [shContainer('c', web)]));
  await waitFor('pod web Running', async () => (await admin.get<Pod>('pods', 'web')).status?.phase === 'Running', 60_000);
});

afterAll(async () => {
  kubectl?.cleanup();
  await cluster.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('kubectl exec and port-forward work over TLS with tokens', async () => {
  const r = await kubectl.run(['exec', 'web', '--', 'sh', '-c', 'echo ok; exit 2']);
  expect(r).toMatchObject({ code: 2, stdout: 'ok\n' });
  const port = await freePort();
  const forward = kubectl.start(['port-forward', 'web', `${port}:8080`]);
  let out = '';
  forward.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitFor('port-forward listening', async () => out.includes(`127.0.0.1:${port}`), 30_000);
    expect((await getBody(port, '/index.html')).toString()).toBe('hello\n');
  } finally {
    forward.kill('SIGKILL');
  }
});

test('a user without create on pods/exec is refused before any upgrade', async () => {
  const scheduler = kubectlFor(cluster.server!.url, ['--kubeconfig', path.join(pki, 'scheduler.kubeconfig')]);
  try {
    const r = await scheduler.run(['exec', 'web', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error from server (Forbidden): pods "web" is forbidden: User "system:kube-scheduler" cannot create resource "pods" subresource "exec"');
  } finally {
    scheduler.cleanup();
  }
});

/** An exec upgrade straight to the agent, as only the API server should send it; resolves with the status code. */
function agentUpgrade(uid: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: agentPort,
      method: 'POST',
      path: `/exec/default/web/${uid}/c?command=true&stdout=1`,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'SPDY/3.1',
        'X-Stream-Protocol-Version': 'v4.channel.k8s.io',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test("only the API server may open streams on an agent: no token, or a node's, is refused", async () => {
  const uid = (await admin.get<Pod>('pods', 'web')).metadata.uid!;
  expect(await agentUpgrade(uid)).toBe(401);
  expect(await agentUpgrade(uid, tokens[`system:node:${node}`])).toBe(401);
  expect(await agentUpgrade(uid, tokens['system:apiserver'])).toBe(101);
  // Bad input from the one caller allowed is a 4xx too, not a 500.
  expect(await agentUpgrade('%zz', tokens['system:apiserver'])).toBe(400);
});
