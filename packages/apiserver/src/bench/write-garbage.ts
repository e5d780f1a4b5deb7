// What the writes of a busy cluster cost the API server in garbage: pod creates, binds, pod
// status patches and PUTs, lease renewals, node status patches and pod deletes (the scale
// envelope's churn), each sent to a server that preloads gc-meter, and read back as bytes
// allocated, collection time and CPU per request. With a second server build (`baseMain`,
// another checkout's dist/main.js) both take the same rounds in turn, so that they see the
// same machine.

import fs from 'fs';
import os from 'os';
import path from 'path';
import { cpuSecondsOf, mainJs, spawnNode, type RunningProcess } from '@peapod/client/testing';
import type { BenchFigure } from '@peapod/api/bench';
import type { GcMeterReading } from './gc-meter';
import { runConcurrent, send } from './load';

const meterJs = path.join(__dirname, 'gc-meter.js');
const addressLine = /"address":"https?:\/\/\d+\.\d+\.\d+\.\d+:(\d+)"/;
const nodeCount = 100;
const concurrency = 16;

interface Server {
  name: string;
  proc: RunningProcess;
  port: number;
  readings: number;
  leaseVersions: Map<string, string>;
}

async function startServer(name: string, main: string, dir: string): Promise<Server> {
  const proc = spawnNode(main, ['--port', '0', '--bind', '127.0.0.1', '--data-dir', dir], { nodeArgs: ['-r', meterJs] });
  const port = Number((await proc.ready(addressLine))[1]);
  return { name, proc, port, readings: 0, leaseVersions: new Map() };
}

async function reading(s: Server): Promise<GcMeterReading & { cpuSeconds: number }> {
  const n = ++s.readings;
  s.proc.proc.kill('SIGUSR2');
  const line = await s.proc.waitForLine(new RegExp(`gc-meter ${n} (\\{[^\\n]*\\})`));
  return { ...(JSON.parse(line[1]) as GcMeterReading), cpuSeconds: cpuSecondsOf(s.proc.pid) };
}

function podBody(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: 'churn', group: 'scale' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'churn', uid: '0b5e1b4e-7d43-4c2e-9a59-7f0c3a9b2d11', controller: true, blockOwnerDeletion: true }],
    },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'peapod/busybox:1' }] },
  });
}

const nodeName = (i: number) => `hollow-${i}`;
const at = '2026-11-30T18:00:00Z';

function podStatus(i: number, started: string): Record<string, unknown> {
  return {
    phase: 'Running',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: started })),
    hostIP: '10.0.0.1',
    hostIPs: [{ ip: '10.0.0.1' }],
    podIP: `10.244.${i % 250}.${(i >> 8) % 250}`,
    podIPs: [{ ip: `10.244.${i % 250}.${(i >> 8) % 250}` }],
    startTime: started,
    qosClass: 'BestEffort',
    containerStatuses: [
      {
        name: 'app',
        state: { running: { startedAt: started } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: 'peapod/busybox:1',
        imageID: 'fake://peapod/busybox:1',
        containerID: `fake://${i.toString(16).padStart(12, '0')}`,
        started: true,
      },
    ],
  };
}

function nodeStatus(i: number, beat: string): Record<string, unknown> {
  const condition = (type: string, status: string, reason: string) => ({ type, status, reason, message: `${reason} condition`, lastHeartbeatTime: beat, lastTransitionTime: at });
  return {
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
      condition('Ready', 'True', 'KubeletReady'),
    ],
    addresses: [
      { type: 'InternalIP', address: '10.0.0.1' },
      { type: 'Hostname', address: nodeName(i) },
    ],
    capacity: { cpu: '4', memory: '16Gi', pods: '110' },
    allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: { machineID: '', systemUUID: '', bootID: '', kernelVersion: '6.1', osImage: 'hollow', containerRuntimeVersion: 'fake://1', kubeletVersion: 'v1.32.0', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' },
  };
}

async function call(s: Server, method: string, p: string, body: string | undefined, codes: number[], headers: Record<string, string> = {}): Promise<string> {
  const r = await send(s.port, method, p, body, headers);
  if (!codes.includes(r.status)) throw new Error(`${s.name}: ${method} ${p} answered ${r.status}: ${r.body.slice(0, 300)}`);
  return r.body;
}

const pods = '/api/v1/namespaces/default/pods';
const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const merge = { 'Content-Type': 'application/merge-patch+json' };

async function setUp(s: Server): Promise<void> {
  await call(s, 'POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: 'kube-node-lease' } }), [201, 409]);
  await runConcurrent(nodeCount, concurrency, async (i) => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(i), labels: { 'kubernetes.io/hostname': nodeName(i) } }, spec: { podCIDR: `10.244.${i}.0/24` } };
    await call(s, 'POST', '/api/v1/nodes', JSON.stringify(node), [201]);
    await call(s, 'PATCH', `/api/v1/nodes/${nodeName(i)}/status`, JSON.stringify({ status: nodeStatus(i, at) }), [200], merge);
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: nodeName(i) }, spec: { holderIdentity: nodeName(i), leaseDurationSeconds: 40, renewTime: '2026-11-30T18:00:00.000000Z' } };
    const created = JSON.parse(await call(s, 'POST', leases, JSON.stringify(lease), [201])) as { metadata: { resourceVersion: string } };
    s.leaseVersions.set(nodeName(i), created.metadata.resourceVersion);
  });
}

/** One kind of write: `count` requests, request i made by `run`. */
interface Step {
  name: string;
  count: number;
  run(s: Server, round: number, i: number): Promise<void>;
}

function steps(perRound: number): Step[] {
  const podName = (round: number, i: number) => `churn-${round}-${i}`;
  return [
    { name: 'pod create', count: perRound, run: async (s, round, i) => void (await call(s, 'POST', pods, podBody(podName(round, i)), [201])) },
    {
      name: 'pod bind',
      count: perRound,
      run: async (s, round, i) => {
        const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: podName(round, i) }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName(i % nodeCount) } };
        await call(s, 'POST', `${pods}/${podName(round, i)}/binding`, JSON.stringify(binding), [201]);
      },
    },
    {
      name: 'pod status PATCH (merge)',
      count: perRound,
      run: async (s, round, i) => void (await call(s, 'PATCH', `${pods}/${podName(round, i)}/status`, JSON.stringify({ status: podStatus(i, at) }), [200], merge)),
    },
    {
      name: 'pod status PUT',
      count: perRound,
      run: async (s, round, i) => {
        const pod = JSON.parse(await call(s, 'GET', `${pods}/${podName(round, i)}`, undefined, [200])) as { status: { containerStatuses: { restartCount: number }[] } };
        pod.status.containerStatuses[0].restartCount = 1;
        await call(s, 'PUT', `${pods}/${podName(round, i)}/status`, JSON.stringify(pod), [200]);
      },
    },
    {
      name: 'lease renewal (PUT)',
      count: perRound,
      run: async (s, round, i) => {
        const name = nodeName(i % nodeCount);
        const renewTime = new Date(Date.parse(at) + (round * perRound + i) * 1000).toISOString().replace('Z', '000Z');
        const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, resourceVersion: s.leaseVersions.get(name) }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime } };
        const body = await call(s, 'PUT', `${leases}/${name}`, JSON.stringify(lease), [200, 409]);
        const answer = JSON.parse(body) as { metadata?: { resourceVersion?: string } };
        if (answer.metadata?.resourceVersion) s.leaseVersions.set(name, answer.metadata.resourceVersion);
      },
    },
    {
      name: 'node status PATCH (merge)',
      count: perRound / 2,
      run: async (s, round, i) => {
        const beat = new Date(Date.parse(at) + (round * perRound + i) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        await call(s, 'PATCH', `/api/v1/nodes/${nodeName(i % nodeCount)}/status`, JSON.stringify({ status: nodeStatus(i % nodeCount, beat) }), [200], merge);
      },
    },
    { name: 'pod delete', count: perRound, run: async (s, round, i) => void (await call(s, 'DELETE', `${pods}/${podName(round, i)}?gracePeriodSeconds=0`, undefined, [200])) },
  ];
}

interface Totals {
  requests: number;
  allocatedBytes: number;
  scavengeMs: number;
  majorMs: number;
  cpuMs: number;
}

export interface WriteGarbageOptions {
  /** another build's main.js to compare with (its dist/main.js) */
  baseMain?: string;
  rounds?: number;
  /** pods each round creates, binds, updates and deletes */
  perRound?: number;
  log?: (line: string) => void;
}

/** Per step and side, what the requests of every round cost together. */
export async function runWriteGarbage(opts: WriteGarbageOptions = {}): Promise<Map<string, Map<string, Totals>>> {
  const rounds = opts.rounds ?? 3;
  const perRound = opts.perRound ?? 1000;
  const log = opts.log ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-write-garbage-'));
  const servers: Server[] = [];
  try {
    servers.push(await startServer('ours', mainJs('apiserver'), path.join(dir, 'ours')));
    if (opts.baseMain) servers.push(await startServer('base', opts.baseMain, path.join(dir, 'base')));
    for (const s of servers) await setUp(s);
    const plan = steps(perRound);
    const out = new Map<string, Map<string, Totals>>();
    // A warm-up round each (V8 compiles the write paths), not counted.
    for (let round = -1; round < rounds; round++) {
      // Alternating which side goes first.
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const step of plan) {
        for (const s of order) {
          const before = await reading(s);
          await runConcurrent(step.count, concurrency, (i) => step.run(s, round + 1, i));
          const after = await reading(s);
          if (round < 0) continue;
          let bySide = out.get(step.name);
          if (!bySide) out.set(step.name, (bySide = new Map()));
          const t = bySide.get(s.name) ?? { requests: 0, allocatedBytes: 0, scavengeMs: 0, majorMs: 0, cpuMs: 0 };
          t.requests += step.count;
          t.allocatedBytes += after.allocatedBytes - before.allocatedBytes;
          t.scavengeMs += after.scavengeMs - before.scavengeMs;
          t.majorMs += after.majorMs - before.majorMs;
          t.cpuMs += (after.cpuSeconds - before.cpuSeconds) * 1000;
          bySide.set(s.name, t);
        }
      }
      log(`round ${round} done`);
    }
    return out;
  } finally {
    await Promise.all(servers.map((s) => s.proc.kill('SIGKILL')));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench -- garbage --base OTHER/packages/apiserver/dist/main.js`: per step, bytes
 * allocated, collection time and CPU per request, beside the other build's.
 */
export async function runGarbageBench(baseMain: string | undefined, log: (line: string) => void): Promise<BenchFigure[]> {
  if (!baseMain) throw new Error('the garbage bench compares with another build: --base OTHER/packages/apiserver/dist/main.js (or PEAPOD_BENCH_BASE_APISERVER)');
  const out = await runWriteGarbage({ baseMain, log });
  const figures: BenchFigure[] = [];
  const baselineName = `${baseMain}, in the same rounds`;
  for (const [step, bySide] of out) {
    const ours = bySide.get('ours')!;
    const base = bySide.get('base')!;
    const figure = (what: string, unit: string, of: (t: Totals) => number) => {
      const value = of(ours) / ours.requests;
      const baseline = of(base) / base.requests;
      figures.push({ name: `${step}: ${what}`, value, unit, baseline, baselineName, ratio: value / baseline });
    };
    figure('allocated per request', 'KiB', (t) => t.allocatedBytes / 1024);
    figure('collection time per request (scavenges and full collections)', 'ms', (t) => t.scavengeMs + t.majorMs);
    figure('server CPU per request', 'ms', (t) => t.cpuMs);
  }
  return figures;
}
