// peactl exec, attach, port-forward and cp against a real node agent on Docker, through
// the API server's pods/exec, pods/attach and pods/portforward.

import { spawn } from 'child_process';
import { createHash } from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Client } from '@peapod/client';
import { getBody, freePort, startApiServer, DockerNode, busybox, createNamespaceDefaults } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { peactlCommand, peactlFor, sendJson, startPeactl } from './testing/process';
import type { Running } from './testing/process';

jest.setTimeout(120_000);

let server: RunningApiServer | undefined;
const node = new DockerNode('peactl-streams');
let run: ReturnType<typeof peactlFor>;
const running: Running[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'peactl-streams-'));
const BIG_BYTES = 10 * 1024 * 1024;

const loop = "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done";
const web = `mkdir -p /www && echo hello > /www/index.html && head -c ${BIG_BYTES} /dev/urandom > /www/big && httpd -p 8080 -h /www && httpd -p 127.0.0.1:8081 -h /www && ${loop}`;

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent: ${node.logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

beforeAll(async () => {
  server = await startApiServer();
  run = peactlFor(server.url);
  await node.start(server.url);
  const admin = new Client({ server: server.url });
  await createNamespaceDefaults(admin);
  admin.close();
  for (const manifest of [
    node.podManifest('web', [{ name: 'c', script: web }]),
    node.podManifest('duo', [{ name: 'a', script: loop }, { name: 'b', script: loop }]),
    node.podManifest('reader', [{ name: 'c', script: 'while read l; do echo got:$l; done', stdin: true }]),
  ]) {
    expect(run(['create', '-f', '-'], { input: manifest }).code).toBe(0);
  }
  await until('pods running', () => run(['get', 'pods', '--no-headers']).stdout.split('\n').filter((l) => l.includes('Running')).length === 3);
  await until('the web pod serving', () => run(['exec', 'web', '--', 'wget', '-qO-', 'http://127.0.0.1:8081/index.html']).stdout === 'hello\n');
});

afterAll(async () => {
  for (const r of running) r.kill();
  await node.cleanup();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('peactl exec', () => {
  it('prints the output and exits with the command\'s code', () => {
    const r = run(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\ncommand terminated with exit code 3\n');
    expect(run(['exec', 'pod/web', '--', 'true']).code).toBe(0);
  });

  it('passes stdin with -i', () => {
    expect(run(['exec', '-i', 'web', '--', 'cat'], { input: 'hi\n' })).toMatchObject({ code: 0, stdout: 'hi\n' });
  });

  it('-t without a terminal says so and runs without one', () => {
    const r = run(['exec', '-it', 'web', '--', 'sh', '-c', 'tty; true'], { input: '' });
    expect(r.stderr).toContain('Unable to use a TTY - input is not a terminal or the right kind of file');
    expect(r.stdout).toBe('not a tty\n');
  });

  it('-it on a terminal: a TTY of the terminal size, the exit code kept', async () => {
    // script(1) gives peactl a terminal of 33 rows and 77 columns; its input stays open until the end.
    // Each line typed asks for the size again (an old Docker sizes the terminal just after the start).
    const command = ['stty rows 33 cols 77;', ...peactlCommand(server!.url, ['exec', '-it', 'web', '--', 'sh', '-c', 'tty; while read x; do stty size; [ "$x" = q ] && exit 4; done'])].join(' ');
    const proc = spawn('script', ['-qec', command, '/dev/null']);
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
    await until('the terminal size', () => {
      proc.stdin.write('\n');
      return out.includes('33 77');
    }, 30_000);
    proc.stdin.write('q\n');
    const code = await exited;
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    expect(out).toContain('33 77');
    expect(code).toBe(4);
  });

  it('defaults to the first of several containers, and -c picks one', () => {
    const r = run(['exec', 'duo', '--', 'true']);
    expect(r.stderr).toBe('Defaulted container "a" out of: a, b\n');
    expect(run(['exec', 'duo', '-c', 'nope', '--', 'true']).stderr).toBe('Error from server (BadRequest): container nope is not valid for pod duo\n');
  });
});

test('peactl attach -i joins the container\'s stdin and stdout', async () => {
  const r = run(['attach', '-i', 'reader'], { input: 'hello\n' });
  expect(r.code).toBe(0);
  await until('the echo in the log', () => run(['logs', 'reader']).stdout.includes('got:hello'));
});

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('peactl port-forward: several ports (one bound to 127.0.0.1 in the pod), --address, concurrent connections, 10 MiB intact', async () => {
  const local = await freePort();
  const pf = startPeactl(server!.url, ['port-forward', 'pod/web', `${local}:8080`, ':8081', '--address', '127.0.0.1']);
  running.push(pf);
  await pf.waitForOutput(/-> 8081/, 30_000);
  expect(pf.stdout()).toContain(`Forwarding from 127.0.0.1:${local} -> 8080`);
  const second = Number(/127\.0\.0\.1:(\d+) -> 8081/.exec(pf.stdout())![1]);
  const expected = run(['exec', 'web', '--', 'sha256sum', '/www/big']).stdout.split(' ')[0];
  const results = await Promise.all([getBody(local, '/big'), getBody(second, '/big'), getBody(local, '/index.html'), getBody(second, '/index.html')]);
  expect(results[0].length).toBe(BIG_BYTES);
  expect(sha256(results[0])).toBe(expected);
  expect(sha256(results[1])).toBe(expected);
  expect(results.slice(2).map(String)).toEqual(['hello\n', 'hello\n']);
  expect(pf.stdout()).toContain(`Handling connection for ${local}`);
  pf.kill();
});

test('peactl describe shows ephemeral containers with their state', async () => {
  const patch = { spec: { ephemeralContainers: [{ name: 'dbg', image: busybox, imagePullPolicy: 'Never', targetContainerName: 'c', command: ['sleep', '600'] }] } };
  expect(await sendJson(server!.url, 'PATCH', '/api/v1/namespaces/default/pods/web/ephemeralcontainers', patch, 'application/strategic-merge-patch+json')).toBe(200);
  await until('the ephemeral container running', () => /Ephemeral Containers:\n {2}dbg:\n[\s\S]*State:\s+Running/.test(run(['describe', 'pod', 'web']).stdout));
  expect(run(['exec', 'web', '-c', 'dbg', '--', 'sh', '-c', 'ps | grep -c "httpd -p 8080"']).stdout.trim()).not.toBe('0');
});

test('peactl cp: a directory into the pod and back, checksums equal', () => {
  const src = path.join(tmp, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a.txt'), 'one\n');
  fs.writeFileSync(path.join(src, 'sub', 'b.bin'), Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 256)));
  const sums = (dir: string) => Object.fromEntries(['a.txt', 'sub/b.bin'].map((f) => [f, sha256(fs.readFileSync(path.join(dir, f)))]));
  expect(run(['cp', src, 'web:/copied', '-c', 'c']).code).toBe(0);
  const inPod = run(['exec', 'web', '--', 'sh', '-c', 'cd /copied && sha256sum a.txt sub/b.bin']).stdout;
  expect(Object.fromEntries(inPod.trim().split('\n').map((l) => l.split(/\s+/).reverse()))).toEqual(sums(src));
  const back = path.join(tmp, 'back');
  const r = run(['cp', 'default/web:/copied', back]);
  expect(r.code).toBe(0);
  expect(sums(back)).toEqual(sums(src));
});
