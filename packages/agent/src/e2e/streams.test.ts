// Getting inside a pod with the real kubectl and client-node: exec (WebSocket and the SPDY
// fallback, with and without a terminal), attach, port-forward (tunnelled and plain SPDY),
// cp both ways. Real API server, real agent, real Docker.
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Pod } from '@peapod/api';
import { getBody, freePort } from '@peapod/client/testing';
import { TestCluster, cooperative, makePod, shContainer, waitFor } from '../testing/cluster';
import { kubectlFor } from '../testing/kubectl';
import { onTerminal } from '../testing/terminal';
import type { Kubectl } from '../testing/kubectl';

jest.setTimeout(120_000);

const cluster = new TestCluster('streams');
const node = cluster.node('n1');
let kubectl: Kubectl;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-streams-'));

const BIG_BYTES = 10 * 1024 * 1024;
// One server on every address, one on loopback only (reachable from inside the pod alone).
const webScript = [
  'mkdir -p /www && echo hello > /www/index.html',
  `head -c ${BIG_BYTES} /dev/urandom > /www/big`,
  'httpd -p 8080 -h /www && httpd -p 127.0.0.1:8081 -h /www',
  `exec sh -c "${cooperative()}"`,
].join(' && ');

async function runningPod(name: string): Promise<Pod> {
  return waitFor(`pod ${name} Running`, async () => {
    const pod = await cluster.api.get<Pod>('pods', name);
    return pod.status?.phase === 'Running' && pod.status.containerStatuses?.every((c) => c.ready) ? pod : undefined;
  }, 60_000);
}

beforeAll(async () => {
  await cluster.start();
  await cluster.startAgent(node);
  kubectl = kubectlFor(cluster.server!.url);
  await cluster.api.create('pods', makePod('web', node, [shContainer('c', webScript)]));
  await cluster.api.create('pods', makePod('duo', node, [shContainer('a', cooperative()), shContainer('b', cooperative())]));
  await cluster.api.create('pods', makePod('reader', node, [shContainer('c', 'while read l; do echo got:$l; done', { stdin: true })]));
  await cluster.api.create('pods', makePod('done', node, [shContainer('c', 'true')], { restartPolicy: 'Never' }));
  await Promise.all(['web', 'duo', 'reader'].map(runningPod));
  // The big file is written before the servers start; wait until it is served whole.
  await waitFor('the web pod serving', async () => (await kubectl.run(['exec', 'web', '--', 'wget', '-qO-', 'http://127.0.0.1:8081/index.html'])).stdout === 'hello\n');
});

afterAll(async () => {
  kubectl?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
  await cluster.cleanup();
});

const spdyExec = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };

describe('kubectl exec', () => {
  it.each([
    ['WebSocket (v5.channel.k8s.io)', {}],
    ['SPDY/3.1 fallback', spdyExec],
  ])('over %s: output, exit codes 0 and 3, stdin piped', async (_name, env) => {
    const ok = await kubectl.run(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2'], { env });
    expect(ok).toEqual({ code: 0, stdout: 'out\n', stderr: 'err\n' });
    const failed = await kubectl.run(['exec', 'web', '--', 'sh', '-c', 'exit 3'], { env });
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain('command terminated with exit code 3');
    const piped = await kubectl.run(['exec', '-i', 'web', '--', 'cat'], { env, input: 'hi\n' });
    expect(piped).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
  });

  it('passes 10 MiB of stdin through intact', async () => {
    const data = Buffer.alloc(BIG_BYTES, 'x');
    const r = await kubectl.run(['exec', '-i', 'web', '--', 'sha256sum'], { input: data });
    expect(r.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('picks a container with -c and refuses a container, or a pod, it cannot run in', async () => {
    expect((await kubectl.run(['exec', 'duo', '-c', 'b', '--', 'hostname'])).stdout).toBe('duo\n');
    const noSuch = await kubectl.run(['exec', 'duo', '-c', 'nope', '--', 'true']);
    expect(noSuch.code).toBe(1);
    expect(noSuch.stderr).toContain('container nope is not valid for pod duo');
    await waitFor('pod done Succeeded', async () => (await cluster.api.get<Pod>('pods', 'done')).status?.phase === 'Succeeded', 60_000);
    const completed = await kubectl.run(['exec', 'done', '--', 'true']);
    expect(completed.code).toBe(1);
    expect(completed.stderr).toContain('cannot exec into a container in a completed pod; current phase is Succeeded');
    const missing = await kubectl.run(['exec', 'ghost', '--', 'true']);
    expect(missing.stderr).toContain('pods "ghost" not found');
  });

  it('-it through a pseudo-terminal: a TTY of the terminal size, followed when it changes', async () => {
    // script(1) gives kubectl a terminal; the shell in it resizes that terminal mid-session,
    // which kubectl sees (SIGWINCH) and sends on the resize channel.
    const kubectlCmd = ['/usr/bin/kubectl', ...kubectl.baseArgs, 'exec', '-it', 'web', '--', 'sh', '-c', "'tty; stty size; while read x; do stty size; done'"].join(' ');
    const inner = `stty rows 33 cols 77; ${kubectlCmd} </dev/tty & sleep 2; stty rows 40 cols 100; echo RESIZED; wait`;
    const term = onTerminal(inner, kubectl.env);
    try {
      // Each line typed asks for the size again (an old Docker sizes the terminal just after the start).
      await term.typeUntil('\n', '33 77');
      expect(term.output()).toMatch(/\/dev\/pts\/\d+/);
      await waitFor('the resize', async () => term.output().includes('RESIZED'), 30_000);
      await term.typeUntil('\n', '40 100');
      term.type('\x04');
      expect(await term.exited).toBe(0);
    } finally {
      term.kill();
    }
  });
});

describe('kubectl attach', () => {
  it('joins stdin and stdout of the running container', async () => {
    const proc = kubectl.start(['attach', '-i', 'reader']);
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
    await waitFor('the echo', async () => {
      proc.stdin.write('hello\n');
      return out.includes('got:hello');
    }, 30_000, 500);
    proc.stdin.end();
    expect(await exited).toBe(0);
  });

  it('run -i: output after the client\'s stdin has ended still arrives (stdinOnce)', async () => {
    // kubectl run -i makes a stdin, stdinOnce container and attaches; with nothing to send,
    // its stdin ends at once. The container's stdin closes, the session goes on.
    const r = await kubectl.run(
      ['run', 'once', '-i', '--quiet', '--restart=Never', '--image=peapod/busybox:latest', `--overrides={"spec":{"nodeName":"${node}"}}`, '--', 'sh', '-c', 'sleep 2; echo late; read x || echo stdin-closed'],
      { input: '' },
    );
    expect(r.stdout).toBe('late\nstdin-closed\n');
    expect(r.code).toBe(0);
    expect((await cluster.api.get<Pod>('pods', 'once')).spec.containers[0]).toMatchObject({ stdin: true, stdinOnce: true });
  });
});

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('kubectl port-forward', () => {
  it.each([
    ['SPDY tunnelled in a WebSocket', {}],
    ['plain SPDY/3.1', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
  ])('over %s: two ports (one bound to 127.0.0.1 in the pod), concurrent connections, 10 MiB intact', async (_name, env) => {
    const [p1, p2] = [await freePort(), await freePort()];
    const proc = kubectl.start(['port-forward', 'pod/web', `${p1}:8080`, `${p2}:8081`], env);
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('port-forward listening', async () => out.includes(`127.0.0.1:${p2} -> 8081`), 30_000);
      const expected = (await kubectl.run(['exec', 'web', '--', 'sha256sum', '/www/big'])).stdout.split(' ')[0];
      const results = await Promise.all([getBody(p1, '/big'), getBody(p2, '/big'), getBody(p1, '/index.html'), getBody(p2, '/index.html'), getBody(p1, '/index.html')]);
      expect(results[0].length).toBe(BIG_BYTES);
      expect(sha256(results[0])).toBe(expected);
      expect(sha256(results[1])).toBe(expected);
      expect(results.slice(2).map(String)).toEqual(['hello\n', 'hello\n', 'hello\n']);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

test('kubectl port-forward to a port where nothing listens: the error reaches kubectl', async () => {
  const port = await freePort();
  const proc = kubectl.start(['port-forward', 'pod/web', `${port}:9999`]);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitFor('port-forward listening', async () => out.includes(`127.0.0.1:${port} -> 9999`), 30_000);
    await getBody(port, '/').catch(() => undefined);
    await waitFor('the error', async () => out.includes('error forwarding port 9999 to pod web'), 30_000);
    expect(out).toContain("can't connect to remote host (127.0.0.1): Connection refused");
  } finally {
    proc.kill('SIGKILL');
  }
});

describe('kubectl cp', () => {
  it('copies a directory into the pod and back, checksums equal', async () => {
    const src = path.join(tmp, 'src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a.txt'), 'one\n');
    fs.writeFileSync(path.join(src, 'sub', 'b.bin'), Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 256)));
    const sums = (dir: string) => Object.fromEntries(['a.txt', 'sub/b.bin'].map((f) => [f, sha256(fs.readFileSync(path.join(dir, f)))]));
    const up = await kubectl.run(['cp', src, 'web:/copied', '-c', 'c']);
    expect(up.code).toBe(0);
    const inPod = await kubectl.run(['exec', 'web', '--', 'sh', '-c', 'cd /copied && sha256sum a.txt sub/b.bin']);
    const podSums = Object.fromEntries(inPod.stdout.trim().split('\n').map((l) => l.split(/\s+/).reverse()));
    expect(podSums).toEqual(sums(src));
    const back = path.join(tmp, 'back');
    const down = await kubectl.run(['cp', 'web:/copied', back, '-c', 'c']);
    expect(down.code).toBe(0);
    expect(sums(back)).toEqual(sums(src));
  });
});

describe('kubectl debug', () => {
  const debugArgs = (name: string) => ['debug', 'web', '--image=peapod/busybox:latest', '--image-pull-policy=IfNotPresent', '--target=c', `--container=${name}`];

  it("adds an ephemeral container in the target's process namespace, shown in status and describe", async () => {
    const r = await kubectl.run([...debugArgs('peek'), '--', 'sh', '-c', 'ps; sleep 1']);
    expect(r.code).toBe(0);
    // httpd runs in the target container only: the debugger sees it through the shared PID namespace.
    await waitFor('the debugger to list the target\'s processes', async () => (await kubectl.run(['logs', 'web', '-c', 'peek'])).stdout.includes('httpd -p 8080'), 60_000);
    const pod = await waitFor('its status', async () => {
      const p = await cluster.api.get<Pod>('pods', 'web');
      return p.status?.ephemeralContainerStatuses?.[0]?.containerID ? p : undefined;
    });
    expect(pod.status?.ephemeralContainerStatuses?.[0]).toMatchObject({ name: 'peek', image: 'peapod/busybox:latest' });
    expect(pod.status?.containerStatuses?.map((c) => c.name)).toEqual(['c']);
    const described = await kubectl.run(['describe', 'pod', 'web']);
    expect(described.stdout).toMatch(/Ephemeral Containers:\n\s+peek:\n\s+Container ID:\s+docker:\/\//);
  });

  it('-it: a shell in the target\'s process namespace, through attach', async () => {
    const command = ['/usr/bin/kubectl', ...kubectl.baseArgs, ...debugArgs('shell'), '-it', '--', 'sh'].join(' ');
    const term = onTerminal(command, kubectl.env);
    try {
      await term.typeUntil('ps\n', 'httpd -p 8080', 60_000);
      term.type('exit 0\n');
      expect(await term.exited).toBe(0);
    } finally {
      term.kill();
    }
  });
});

test('@kubernetes/client-node: Exec and PortForward', async () => {
  const script = path.join(__dirname, '..', 'testing', 'client-node-streams.mjs');
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [script, cluster.server!.url, '-', 'web', '8081'], { timeout: 60_000 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  const result = JSON.parse(stdout);
  expect(result.ok).toMatchObject({ stdout: 'out\n', stderr: 'err\n', status: { status: 'Success' } });
  expect(result.failed.status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
  expect(result.stdin.stdout).toBe('piped through\n');
  expect(result.forwarded).toHaveLength(2);
  for (const response of result.forwarded) expect(response).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nhello\n$/);
});
