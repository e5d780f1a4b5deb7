// peactl against a real node agent running the pods on Docker: logs through the
// apiserver's log proxy, and a pod's termination as delete (live) and describe show it.

import type { Lifecycle } from '@peapod/api';
import { Client } from '@peapod/client';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer } from '@peapod/client/testing';
import { DockerNode, busybox, createNamespaceDefaults, hasDocker } from '@peapod/client/testing';
import { peactlFor, startPeactl } from './testing/process';
import type { Running } from './testing/process';

let server: RunningApiServer | undefined;
const node = new DockerNode('peactl-agent');
let run: ReturnType<typeof peactlFor>;
const running: Running[] = [];

const counter = 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done';
// Each instance prints its own number (kept in the pod's emptyDir, which outlives restarts), then fails.
const crasher = 'n=$(cat /state/n 2>/dev/null || echo 0); echo run $n; echo $((n+1)) > /state/n; sleep 0.3; exit 1';

// Ignores TERM, so it takes the whole grace period and a KILL.
const stubborn = "trap '' TERM; while :; do sleep 1 & wait $!; done";

function podManifest(name: string, containers: { name: string; script: string; lifecycle?: Lifecycle }[], graceSeconds = 1): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      nodeName: node.nodeName,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: graceSeconds,
      volumes: [{ name: 'state', emptyDir: {} }],
      containers: containers.map((c) => ({
        name: c.name,
        image: busybox,
        imagePullPolicy: 'Never',
        command: ['sh', '-c', c.script],
        volumeMounts: [{ name: 'state', mountPath: '/state' }],
        ...(c.lifecycle ? { lifecycle: c.lifecycle } : {}),
      })),
    },
  });
}

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent: ${node.logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function lineNumbers(text: string): number[] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => Number(/line (\d+)$/.exec(l)?.[1]));
}

const withDocker = hasDocker() ? describe : describe.skip;
withDocker('peactl with a real agent', () => {
  beforeAll(async () => {
    server = await startApiServer();
    run = peactlFor(server.url);
    await node.start(server.url, { backoffBase: 0.5 });
    const admin = new Client({ server: server.url });
    await createNamespaceDefaults(admin);
    admin.close();
    const pods = [
      podManifest('counter', [{ name: 'loop', script: counter }]),
      podManifest('duo', [
        { name: 'a', script: 'echo from a; sleep 1000' },
        { name: 'b', script: 'echo from b; sleep 1000' },
      ]),
      podManifest('crasher', [{ name: 'c', script: crasher }]),
    ];
    for (const p of pods) expect(run(['create', '-f', '-'], { input: p }).code).toBe(0);
    await until('five lines from counter', () => (lineNumbers(run(['logs', 'counter']).stdout).length >= 5 ? true : undefined));
  }, 60_000);

  afterEach(() => {
    for (const r of running.splice(0)) r.kill();
  });

  afterAll(async () => {
    await node.cleanup();
    await server?.stop();
  }, 60_000);

  it('prints the whole log, and --tail the last lines', () => {
    const all = run(['logs', 'counter']);
    expect(all.code).toBe(0);
    const numbers = lineNumbers(all.stdout);
    expect(numbers.slice(0, 3)).toEqual([0, 1, 2]);
    expect(numbers).toEqual(numbers.map((_, i) => i));
    const tail = run(['logs', 'counter', '--tail=2']);
    expect(tail.stdout).toMatch(/^line \d+\nline \d+\n$/);
    const [a, b] = lineNumbers(tail.stdout);
    expect(b).toBe(a + 1);
    expect(a).toBeGreaterThanOrEqual(numbers[numbers.length - 2]);
  });

  it('prefixes --timestamps', () => {
    const r = run(['logs', 'pod/counter', '--timestamps', '--tail=3']);
    expect(r.stdout).toMatch(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z line \d+\n){3}$/);
  });

  it('chooses the container with -c or a second argument', () => {
    expect(run(['logs', 'duo', '-c', 'b'])).toEqual({ code: 0, stdout: 'from b\n', stderr: '' });
    expect(run(['logs', 'duo', 'a']).stdout).toBe('from a\n');
    const r = run(['logs', 'duo', '-c', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error from server \(BadRequest\): .*nope.*\n$/);
  });

  it('follows with -f: new lines keep arriving until peactl is killed', async () => {
    const before = lineNumbers(run(['logs', 'counter', '--tail=1']).stdout)[0];
    const following = startPeactl(server?.url ?? '', ['logs', '-f', 'counter', '--tail=1']);
    running.push(following);
    // Five lines in a row, whichever the first: on a loaded machine peactl may start lines after `before`.
    await following.waitForOutput(/(?:line \d+\n){5}/, 10_000);
    following.kill();
    const seen = lineNumbers(following.stdout());
    expect(seen[0]).toBeGreaterThanOrEqual(before);
    expect(seen).toEqual(seen.map((_, i) => seen[0] + i));
    expect(await following.exited).not.toBe(0);
  }, 20_000);

  it("prints the previous instance's log with --previous after a restart", async () => {
    const restarts = (): number => Number(run(['get', 'pod', 'crasher', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}']).stdout || '0');
    // Instance k prints "run k"; after R restarts the previous instance is R-1. A restart in
    // between the two reads makes the pair inconsistent, so it is read again.
    const { count, log } = await until('a consistent --previous read', () => {
      const before = restarts();
      if (before < 1) return undefined;
      const r = run(['logs', 'crasher', '--previous']);
      return restarts() === before && r.code === 0 ? { count: before, log: r.stdout } : undefined;
    });
    expect(log).toBe(`run ${count - 1}\n`);
  }, 30_000);

  it('delete waits and prints each step of the termination as it happens; describe lists them in order meanwhile', async () => {
    // Every step: a 1 s preStop hook, then TERM, ignored until KILL at the end of the 3 s grace.
    const preStop = { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } } };
    expect(run(['create', '-f', '-'], { input: podManifest('leaving', [{ name: 'app', script: stubborn, lifecycle: preStop }], 3) }).code).toBe(0);
    await until('leaving Running', () => (run(['get', 'pod', 'leaving', '-o', 'jsonpath={.status.containerStatuses[0].ready}']).stdout === 'true' ? true : undefined));
    const deleting = startPeactl(server?.url ?? '', ['delete', 'pod', 'leaving']);
    running.push(deleting);
    await deleting.waitForOutput(/PreStopHookStarted  Running the preStop hook \(exec\) of container app\n/, 20_000);
    // Mid-termination: describe shows the steps so far, in order.
    const described = run(['describe', 'pod', 'leaving']).stdout;
    const events = described.slice(described.indexOf('\nEvents:'));
    expect(events.indexOf('Killing')).toBeGreaterThan(0);
    expect(events.indexOf('Killing')).toBeLessThan(events.indexOf('PreStopHookStarted'));
    expect(await deleting.exited).toBe(0);
    const lines = deleting.stdout().split('\n').filter(Boolean);
    expect(lines[0]).toBe('pod "leaving" deleted');
    const steps = lines.slice(1).map((l) => /^pod\/leaving {2}\d\d:\d\d:\d\d\.\d{3} {2}(\S+) {2}/.exec(l)?.[1]);
    expect(steps).toEqual(['Killing', 'PreStopHookStarted', 'PreStopHookFinished', 'SentStopSignal', 'SentKillSignal', 'ContainerStopped', 'ContainersGone']);
  }, 60_000);
});
