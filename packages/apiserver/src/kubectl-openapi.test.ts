import fs from 'fs';
import path from 'path';
import { coreDescriptions, openapiV2Protobuf } from '@peapod/api';
import { serverWithKubectl } from './testing/kubectl';

jest.setTimeout(120_000);

const env = serverWithKubectl();

function write(name: string, lines: string[]): string {
  const file = path.join(env.kubectl.home, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const podLines = (name: string, extra: string[] = []) => [
  '- apiVersion: v1',
  '  kind: Pod',
  '  metadata:',
  `    name: ${name}`,
  '    namespace: listed',
  '  spec:',
  '    containers:',
  '    - name: c',
  '      image: peapod/busybox:latest',
  ...extra,
];

test('/openapi/v2 answers protobuf (kube-openapi\'s Content-Type) to what kubectl asks, JSON otherwise', async () => {
  const pb = await fetch(`${env.server.url}/openapi/v2`, { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
  expect(pb.status).toBe(200);
  expect(pb.headers.get('content-type')).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  expect(Buffer.from(await pb.arrayBuffer()).equals(openapiV2Protobuf())).toBe(true);
  const json = await fetch(`${env.server.url}/openapi/v2`, { headers: { Accept: 'application/json' } });
  expect((await json.json()).swagger).toBe('2.0');
  expect((await fetch(`${env.server.url}/openapi/v2`, { headers: { Accept: 'text/html' } })).status).toBe(406);
});

test('apply -f of a kind: List, validated by kubectl against /openapi/v2', () => {
  const list = write('list.yaml', ['apiVersion: v1', 'kind: List', 'items:', '- apiVersion: v1', '  kind: Namespace', '  metadata:', '    name: listed', ...podLines('lp')]);
  const r = env.kubectl.run(['apply', '-f', list]);
  expect(r.stderr).toBe('');
  expect(r.stdout.trim().split('\n')).toEqual(['namespace/listed created', 'pod/lp created']);
  expect(env.kubectl.run(['get', 'pods', '-n', 'listed', '-o', 'name']).stdout.trim()).toBe('pod/lp');
  const again = env.kubectl.run(['apply', '-f', list]);
  expect(again.stdout.trim().split('\n')).toEqual(['namespace/listed unchanged', 'pod/lp unchanged']);
});

test('create --validate=strict: an unknown field is refused, by kubectl for a List and by the server for one object', () => {
  const list = write('bad-list.yaml', ['apiVersion: v1', 'kind: List', 'items:', ...podLines('bad', ['      imagePullPolice: Always'])]);
  const refused = env.kubectl.run(['create', '--validate=strict', '-f', list]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('unknown field "imagePullPolice" in io.k8s.api.core.v1.Container');
  const single = write('bad.yaml', podLines('bad', ['      imagePullPolice: Always']).map((l) => l.slice(2)));
  const strict = env.kubectl.run(['create', '--validate=strict', '-f', single]);
  expect(strict.code).not.toBe(0);
  expect(strict.stderr).toContain('unknown field "spec.containers[0].imagePullPolice"');
  const good = write('good.yaml', podLines('good').map((l) => l.slice(2)));
  expect(env.kubectl.run(['create', '--validate=strict', '-f', good]).stdout.trim()).toBe('pod/good created');
  expect(env.kubectl.run(['get', 'pod', 'bad', '-n', 'listed']).stderr).toContain('NotFound');
});

test('explain reads our descriptions, from /openapi/v3 and from the protobuf /openapi/v2', () => {
  const words = (s: string) => s.replace(/\s+/g, ' ');
  for (const args of [[], ['--output=plaintext-openapiv2']]) {
    const r = env.kubectl.run(['explain', 'pods.spec.containers.lifecycle', ...args]);
    expect(r.stderr).toBe('');
    expect(words(r.stdout)).toContain(coreDescriptions.Container.lifecycle);
    expect(words(r.stdout)).toContain(coreDescriptions.Lifecycle.preStop);
  }
  const pod = env.kubectl.run(['explain', 'pods']);
  expect(words(pod.stdout)).toContain(coreDescriptions.Pod['']);
  expect(words(env.kubectl.run(['explain', 'pods.spec.terminationGracePeriodSeconds']).stdout)).toContain(coreDescriptions.PodSpec.terminationGracePeriodSeconds);
});
