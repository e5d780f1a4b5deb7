// An agent started before its API server waits for it, as the kubelet does, instead of exiting.
import type { Node } from '@peapod/api';
import { Client } from '@peapod/client';
import { freePort, startApiServer, startComponent, waitFor } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';

jest.setTimeout(60_000);

const NODE = 'early-node';
let api: RunningApiServer | undefined;
let agent: RunningProcess | undefined;
let client: Client | undefined;

afterAll(async () => {
  await agent?.kill('SIGKILL');
  client?.close();
  await api?.stop('SIGKILL');
});

test('the agent tries again until its API server answers, then registers its node and runs', async () => {
  const port = await freePort();
  agent = startComponent('agent', [
    '--server', `http://127.0.0.1:${port}`,
    '--node-name', NODE,
    '--runtime', 'fake',
    '--port', '0',
    '--address', '127.0.0.1',
  ]);
  // Several refused tries, a line each with the cause, and the agent still there.
  const early = agent;
  await waitFor('three refused tries', () => (early.logs().match(/"msg":"node registration failed: trying again"/g) ?? []).length >= 3, 20_000);
  expect(agent.logs()).toMatch(/was refused/);
  expect(agent.hasExited()).toBe(false);

  api = await startApiServer({ port });
  await agent.waitForLine(/"msg":"listening"/, 20_000);
  client = new Client({ server: api.url });
  const node = await client.get<Node>('nodes', NODE);
  expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
});
