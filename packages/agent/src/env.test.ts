import type { ConfigMap, Container, Pod, Secret, Service } from '@peapod/api';
import { containerEnvironment, type PodObjectSource } from './env';
import { ContainerConfigError, expandVars } from './runtime';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const configMaps: Record<string, ConfigMap> = {
  settings: { metadata: { name: 'settings', namespace: 'shop' }, data: { mode: 'fast', '1bad': 'x', level: '3' } },
};
const secrets: Record<string, Secret> = {
  creds: { metadata: { name: 'creds', namespace: 'shop' }, data: { password: b64('hunter2'), user: b64('ann') } },
};
const objects: PodObjectSource = {
  configMap: async (_ns, name) => configMaps[name],
  secret: async (_ns, name) => secrets[name],
};
const services: Service[] = [
  { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } },
  { metadata: { name: 'redis-main', namespace: 'shop' }, spec: { clusterIP: '10.96.0.9', ports: [{ port: 6379 }] } },
  { metadata: { name: 'elsewhere', namespace: 'other' }, spec: { clusterIP: '10.96.0.7', ports: [{ port: 80 }] } },
];

function pod(container: Container, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'hi' } },
    spec: { containers: [container], nodeName: 'n1', serviceAccountName: 'default', ...extra },
  };
}

function envOf(container: Container, extra: Partial<Pod['spec']> = {}) {
  return containerEnvironment({ pod: pod(container, extra), container, podIP: '10.1.2.3', hostIP: '192.168.0.5', allocatable: { cpu: '4', memory: '8Gi' }, services, objects });
}

test('$(VAR) expansion as Kubernetes does it', () => {
  const vars: Record<string, string> = { A: '1' };
  const lookup = (n: string) => vars[n];
  expect(expandVars('$(A)-$(B)-$$(A)-$$-$x-$(A', lookup)).toBe('1-$(B)-$(A)-$-$x-$(A');
});

test('envFrom, valueFrom of every kind, expansion and service variables', async () => {
  const env = await envOf({
    name: 'c',
    image: 'i',
    resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m' } },
    envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'DB_', secretRef: { name: 'creds' } }],
    env: [
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
      { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      { name: 'MISSING', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
      { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
      { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'URL', value: 'redis://$(REDIS_MAIN_SERVICE_HOST):$(REDIS_MAIN_SERVICE_PORT)/$(MODE)' },
    ],
  });
  expect(Object.fromEntries(env)).toMatchObject({
    mode: 'fast',
    level: '3',
    DB_password: 'hunter2',
    DB_user: 'ann',
    MODE: 'fast',
    PASS: 'hunter2',
    POD: 'web',
    APP: 'web',
    NOTE: 'hi',
    IP: '10.1.2.3',
    HOST: '192.168.0.5',
    SA: 'default',
    MEM_MI: '64',
    CPU_REQ_M: '250',
    CPU_LIMIT: '4',
    URL: 'redis://10.96.0.9:6379/fast',
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    REDIS_MAIN_PORT_6379_TCP: 'tcp://10.96.0.9:6379',
  });
  expect(env.has('1bad')).toBe(false);
  expect(env.has('MISSING')).toBe(false);
  expect(env.has('ELSEWHERE_SERVICE_HOST')).toBe(false);
});

test('enableServiceLinks: false keeps only the kubernetes service', async () => {
  const env = await envOf({ name: 'c', image: 'i' }, { enableServiceLinks: false });
  expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
  expect(env.has('REDIS_MAIN_SERVICE_HOST')).toBe(false);
});

test("missing references give the kubelet's messages", async () => {
  const fails = async (container: Container) => {
    const err = await envOf(container).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerConfigError);
    return (err as Error).message;
  };
  expect(await fails({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'x', key: 'k' } } }] })).toBe('configmap "x" not found');
  expect(await fails({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }] })).toBe("couldn't find key k in ConfigMap shop/settings");
  expect(await fails({ name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] })).toBe("couldn't find key k in Secret shop/creds");
  expect(await fails({ name: 'c', envFrom: [{ secretRef: { name: 'gone' } }] })).toBe('secret "gone" not found');
  await expect(envOf({ name: 'c', envFrom: [{ secretRef: { name: 'gone', optional: true } }] })).resolves.toBeDefined();
});
