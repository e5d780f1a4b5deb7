// Configuration in pods: environment from ConfigMaps, Secrets and the downward API, and
// CreateContainerConfigError until a missing reference appears. Real API server, agent, Docker.
import type { ConfigMap, Event, Pod, Secret } from '@peapod/api';
import { TestCluster, cooperative, makePod, shContainer, waitFor } from '../testing/cluster';

jest.setTimeout(90_000);

const cluster = new TestCluster('config');
const n1 = cluster.node('n1');
const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  await cluster.start();
  await cluster.startAgent(n1);
});

afterAll(async () => {
  await cluster.cleanup();
});

function configMap(name: string, data: Record<string, string>): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data };
}

function secret(name: string, data: Record<string, string>): Secret {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: encoded };
}

/** The container's log through the API's pods/log. */
function podLog(name: string, container: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const stream = cluster.api.logs('default', name, { container });
    stream.on('data', (c: Buffer) => (out += c.toString()));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}

async function logContains(name: string, container: string, text: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(`"${text}" in the log of ${name}/${container}`, async () => {
    const log = await podLog(name, container);
    return log.includes(text) ? log : undefined;
  }, timeoutMs, 500);
}

describe('environment', () => {
  beforeAll(async () => {
    await cluster.api.create('configmaps', configMap('settings', { mode: 'fast', level: '3' }));
    await cluster.api.create('secrets', secret('creds', { password: 'hunter2' }));
  });

  test('env from a ConfigMap, a Secret, the downward API and the kubernetes service', async () => {
    await cluster.api.create(
      'pods',
      makePod('env', n1, [
        shContainer('c', `env | sort; echo "args: $0"; ${cooperative()}`, {
          args: ['$(MODE)-$(PASSWORD)'],
          envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
          env: [
            { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
            { name: 'GREETING', value: 'mode is $(MODE)' },
          ],
          resources: { limits: { memory: '32Mi' } },
        }),
      ]),
    );
    const log = await logContains('env', 'c', 'args:');
    expect(log).toContain('CFG_mode=fast\n');
    expect(log).toContain('CFG_level=3\n');
    expect(log).toContain('MODE=fast\n');
    expect(log).toContain('PASSWORD=hunter2\n');
    expect(log).toContain('POD_NAME=env\n');
    expect(log).toContain(`NODE=${n1}\n`);
    expect(log).toContain('MEM=32\n');
    expect(log).toContain('GREETING=mode is fast\n');
    expect(log).toContain('args: fast-hunter2\n');
    expect(log).toMatch(/KUBERNETES_SERVICE_HOST=\d+\.\d+\.\d+\.\d+\n/);
    expect(log).toMatch(/KUBERNETES_SERVICE_PORT=\d+\n/);
  });

  test('a missing ConfigMap holds the container in CreateContainerConfigError until it is created', async () => {
    await cluster.api.create(
      'pods',
      makePod('late', n1, [
        shContainer('c', `echo "value=$LATE"; ${cooperative()}`, {
          env: [{ name: 'LATE', valueFrom: { configMapKeyRef: { name: 'later', key: 'k' } } }],
        }),
      ]),
    );
    const waiting = await waitFor('CreateContainerConfigError', async () => {
      const pod = await cluster.api.get<Pod>('pods', 'late');
      const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    }, 30_000, 250);
    expect(waiting.message).toBe('configmap "later" not found');
    const failed = await waitFor('a Failed event', async () => {
      const events = await cluster.api.list<Event>('events', { namespace: 'default' });
      return events.items.find((e) => e.involvedObject.name === 'late' && e.reason === 'Failed');
    });
    expect(failed.message).toBe('Error: configmap "later" not found');
    await cluster.api.create('configmaps', configMap('later', { k: 'arrived' }));
    await logContains('late', 'c', 'value=arrived', 60_000);
  });
});
