// qps and burst (a component's --kube-api-qps and --kube-api-burst): the first `burst`
// requests go at once, the rest wait their turn at `qps` a second, and every one is answered.
import { Client } from './rest';
import { apiRateOptions, componentCommand } from './flags';
import { serveHttp } from './testing/http-server';
import type { TestServer } from './testing/http-server';

describe('Client with qps and burst', () => {
  let server: TestServer;
  const arrivals: number[] = [];

  beforeAll(async () => {
    server = await serveHttp((_req, res) => {
      arrivals.push(performance.now());
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 }));
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    arrivals.length = 0;
  });

  async function sendAll(client: Client, n: number): Promise<number[]> {
    const start = performance.now();
    try {
      const answers = await Promise.all(Array.from({ length: n }, (_, i) => client.request('GET', `/r/${i}`)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
    } finally {
      client.close();
    }
    return arrivals.map((t) => t - start).sort((a, b) => a - b);
  }

  it('sends past the burst at qps a second, and the burst at once', async () => {
    // Ten past a burst of five at 10 a second: the last cannot leave before 1 s.
    const paced = await sendAll(new Client({ server: server.url, qps: 10, burst: 5 }), 15);
    expect(paced).toHaveLength(15);
    expect(paced[14]).toBeGreaterThanOrEqual(950);
    // The same fifteen within a burst of fifteen wait for nothing, however low the rate.
    const burst = await sendAll(new Client({ server: server.url, qps: 1, burst: 15 }), 15);
    expect(burst[14]).toBeLessThan(900);
  });

  it('takes the flags with the component defaults, 0 as no limit, and refuses bad values', () => {
    const cmd = () => apiRateOptions(componentCommand('c', 'test').exitOverride().configureOutput({ writeErr: () => undefined }), { qps: 20, burst: 30 });
    expect(cmd().parse([], { from: 'user' }).opts()).toMatchObject({ kubeApiQps: 20, kubeApiBurst: 30 });
    expect(cmd().parse(['--kube-api-qps', '0', '--kube-api-burst', '7'], { from: 'user' }).opts()).toMatchObject({ kubeApiQps: 0, kubeApiBurst: 7 });
    expect(() => cmd().parse(['--kube-api-qps', '-1'], { from: 'user' })).toThrow(/must be a number, 0 or more/);
    expect(() => cmd().parse(['--kube-api-burst', '0'], { from: 'user' })).toThrow(/positive integer/);
  });
});
