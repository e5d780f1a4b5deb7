import type { BenchFigure } from '@peapod/api/bench';
import fs from 'fs';
import os from 'os';
import path from 'path';
import https from 'https';
import { cpuSecondsOf, etcdBinary, hasEtcd, spawnNode, startApiServer, startEtcdCluster } from '@peapod/client/testing';
import type { RunningProcess } from '@peapod/client/testing';
import { bootstrapCluster } from '../pki/bootstrap';
import http from 'http';
import { monitorEventLoopDelay } from 'perf_hooks';
import { decodeObject, encodeObject, protobufMediaType } from '@peapod/api';
import { Etcd3 } from 'etcd3';
import { cpuOf, CpuTimes, openStream, percentile, rssMiB, runConcurrent, Secure, send } from './load';
import { storeBesideRawTransactions } from './etcd-store-bench';

function podObject(name: string, nodeName?: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench', tier: 'web' } },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      containers: [
        {
          name: 'app',
          image: 'peapod/busybox:latest',
          command: ['sh', '-c', 'sleep 3600'],
          ports: [{ containerPort: 8080 }],
          resources: { requests: { cpu: '100m', memory: '64Mi' } },
        },
      ],
    },
  };
}

function podBody(name: string, nodeName?: string): string {
  return JSON.stringify(podObject(name, nodeName));
}

/** What client-go's typed clients send and ask for. */
const protobufHeaders = { 'Content-Type': protobufMediaType, Accept: `${protobufMediaType}, application/json` };

async function createMany(port: number, pathName: string, prefix: string, total: number, concurrency: number, secure?: Secure, protobuf = false) {
  return runConcurrent(total, concurrency, async (i) => {
    const name = `${prefix}-${i}`;
    const r = protobuf ? await send(port, 'POST', pathName, encodeObject(podObject(name)), protobufHeaders) : await send(port, 'POST', pathName, podBody(name), {}, secure);
    if (r.status !== 201) throw new Error(`create answered ${r.status}: ${r.body.slice(0, 200)}`);
  });
}

/** One side's share of alternating create rounds. */
interface CreateRounds {
  rate: number;
  latencies: number[];
  /** CPU per create, in ms: the server's (every thread) and the load generator's (this process) */
  serverMs: number;
  clientMs: number;
}

/**
 * `total` creates on each of two servers at concurrency 32, in four alternating rounds (so
 * that a change in what else the machine runs falls on both alike), with the CPU time each
 * side took. A side is its port, the path it creates at and its process.
 */
async function alternatingCreates(ours: [number, string, number], base: [number, string, number], prefix: string, total: number): Promise<{ ours: CreateRounds; base: CreateRounds }> {
  const rounds = 4;
  const sides = [ours, base].map(([port, pathName, pid]) => ({ port, pathName, pid, latencies: [] as number[], seconds: 0, cpu: { server: 0, etcd: 0, client: 0 } as CpuTimes }));
  for (let round = 0; round < rounds; round++) {
    for (const side of sides) {
      const r = await cpuOf(side.pid, [], side.cpu, () => createMany(side.port, side.pathName, `${prefix}${round}`, total / rounds, 32));
      side.latencies.push(...r.latencies);
      side.seconds += r.seconds;
    }
  }
  const [o, b] = sides.map((side) => ({ rate: total / side.seconds, latencies: side.latencies, serverMs: (side.cpu.server * 1000) / total, clientMs: (side.cpu.client * 1000) / total }));
  return { ours: o, base: b };
}

/**
 * `rounds` rounds of each side, each side going first in as many rounds as the other, so that
 * neither always inherits the garbage or the machine's state the other leaves: the seconds
 * each side took in all, in the sides' order.
 */
async function inTurns(rounds: number, sides: ((round: number) => Promise<{ seconds: number }>)[]): Promise<number[]> {
  const seconds = sides.map(() => 0);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < sides.length; i++) {
      const side = (i + round) % sides.length;
      seconds[side] += (await sides[side](round)).seconds;
    }
  }
  return seconds;
}

/** Both sides' CPU per create, the server's (every thread) and the load generator's, summed. */
function createCpuFigure(name: string, sides: { ours: CreateRounds; base: CreateRounds }, goal?: string): BenchFigure {
  const ms = (side: CreateRounds) => `${side.serverMs.toFixed(3)} + ${side.clientMs.toFixed(3)} ms`;
  const ours = sides.ours.serverMs + sides.ours.clientMs;
  const base = sides.base.serverMs + sides.base.clientMs;
  return { name: `${name}: API server (every thread) + load generator, ${ms(sides.ours)}`, value: ours, unit: 'ms', baseline: base, baselineName: `bare server + load generator, ${ms(sides.base)}`, ratio: ours / base, goal };
}

/** Create-if-absent transactions of pods' JSON straight into etcd from Node: what one create costs etcd and the client. */
async function rawEtcdCreates(endpoints: string[], prefix: string, total: number, concurrency: number) {
  const client = new Etcd3({ hosts: endpoints });
  try {
    return await runConcurrent(total, concurrency, async (i) => {
      const key = Buffer.from(`/raw/pods/default/${prefix}-${i}`);
      const res = await client.kv.txn({
        compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key, value: Buffer.from(podBody(`${prefix}-${i}`)) } }],
      });
      if (!res.succeeded) throw new Error(`raw create of ${key.toString()} found it there`);
    });
  } finally {
    client.close();
  }
}

async function timeList(port: number, pathName: string, runs: number): Promise<number> {
  return (await measureList(port, pathName, runs, {})).medianMs;
}

/** Lists `runs` times: the median latency, the size of the answer, and the server's median CPU time per list. */
async function measureList(port: number, pathName: string, runs: number, headers: Record<string, string>, serverPid?: number) {
  const times: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const cpuBefore = serverPid ? cpuSecondsOf(serverPid) : 0;
    const t0 = process.hrtime.bigint();
    const r = await send(port, 'GET', pathName, undefined, headers);
    if (r.status !== 200) throw new Error(`list answered ${r.status}`);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (serverPid) cpu.push((cpuSecondsOf(serverPid) - cpuBefore) * 1000);
    bytes = r.bytes;
  }
  return { medianMs: percentile(times, 50), bytes, cpuMsPerList: serverPid ? percentile(cpu, 50) : NaN };
}

/** JSON and protobuf lists one after the other, `runs` times each, so that both see the same machine. */
async function compareLists(port: number, pathName: string, runs: number, serverPid: number) {
  const json: Awaited<ReturnType<typeof measureList>>[] = [];
  const protobuf: typeof json = [];
  for (let i = 0; i < runs; i++) {
    json.push(await measureList(port, pathName, 1, {}, serverPid));
    protobuf.push(await measureList(port, pathName, 1, { Accept: protobufHeaders.Accept }, serverPid));
  }
  const summary = (ms: typeof json) => ({ medianMs: percentile(ms.map((m) => m.medianMs), 50), bytes: ms[0].bytes, cpuMsPerList: percentile(ms.map((m) => m.cpuMsPerList), 50) });
  return { json: summary(json), protobuf: summary(protobuf) };
}

function nameOf(line: string): string | undefined {
  const at = line.indexOf('"name":"');
  if (at < 0) return undefined;
  return line.slice(at + 8, line.indexOf('"', at + 8));
}

/** What the receiving side added to a fan-out's delays: the bench process's own event-loop delay. */
function ownLoopNote(fan: { ownLoopP99Ms: number }): string {
  return `the receiving bench process's own event-loop delay p99 ${fan.ownLoopP99Ms.toFixed(1)} ms`;
}

/** The p99 delay from each write's send to its events, beside the same against a bare server. */
function sentFigure(name: string, ours: number[], base: number[], baselineName: string): BenchFigure {
  const p99 = percentile(ours, 99);
  const p99Base = percentile(base, 99);
  return { name, value: p99, unit: 'ms', baseline: p99Base, baselineName, ratio: p99 / p99Base };
}

/** Who watches what in a fan-out run, and where each write goes. */
interface FanOutPlan {
  watchers: number;
  watchPath(watcher: number): string;
  writePath: string;
  /** The body of the i-th write, named name. */
  body(name: string, i: number): string;
  /** How many watchers each write reaches. */
  receivers: number;
}

/**
 * Writes at a steady rate while the plan's streams are open; returns each event's delay after
 * its write was acknowledged (none when the event came first: a server may put it on the
 * watchers' sockets before the answer on the writer's, as the SQLite store's group commit
 * does) and after the write was sent (the write's own latency included). Every event is timed
 * by this process, so its own event-loop delay (ownLoopP99Ms) is part of each.
 */
async function fanOut(port: number, plan: FanOutPlan, prefix: string, rate: number, seconds: number) {
  const sent = new Map<string, number>();
  const acked = new Map<string, number>();
  const received: { name: string; at: number }[] = [];
  const streams = [];
  for (let i = 0; i < plan.watchers; i++) {
    streams.push(
      await openStream(port, plan.watchPath(i), (line) => {
        const name = nameOf(line);
        if (name?.startsWith(prefix)) received.push({ name, at: performance.now() });
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 300));
  const total = rate * seconds;
  const expected = total * plan.receivers;
  const ownLoop = monitorEventLoopDelay({ resolution: 10 });
  ownLoop.enable();
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const name = `${prefix}-${i}`;
    sent.set(name, performance.now());
    inflight.push(
      send(port, 'POST', plan.writePath, plan.body(name, i)).then((r) => {
        if (r.status !== 201) throw new Error(`write answered ${r.status}`);
        acked.set(name, performance.now());
      }),
    );
  }
  await Promise.all(inflight);
  const deadline = performance.now() + 10_000;
  while (received.length < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  ownLoop.disable();
  for (const s of streams) s.close();
  const delays = received.map((e) => Math.max(0, e.at - (acked.get(e.name) ?? e.at)));
  const fromSend = received.map((e) => e.at - sent.get(e.name)!);
  const achievedRate = total / ((performance.now() - started) / 1000);
  return { delays, fromSend, missing: expected - received.length, achievedRate, ownLoopP99Ms: ownLoop.percentile(99) / 1e6 };
}

async function compareDecoding(port: number, pathName: string): Promise<{ jsonMs: number; protobufMs: number }> {
  const fetchBytes = (headers: Record<string, string>) =>
    new Promise<Buffer>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: pathName, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      }).on('error', reject);
    });
  const json = await fetchBytes({});
  const protobuf = await fetchBytes({ Accept: protobufHeaders.Accept });
  const time = (fn: () => unknown) => {
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      fn();
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return percentile(ms, 50);
  };
  return { jsonMs: time(() => JSON.parse(json.toString('utf8'))), protobufMs: time(() => decodeObject(protobuf)) };
}

/**
 * Lets bench-editor (group bench-team) create pods in default through a Role and a RoleBinding
 * to the group, with `others` bindings of other users beside it, so that the authorizer's
 * index holds more than the one it needs.
 */
async function grantPodCreates(port: number, admin: Secure, others: number): Promise<void> {
  const rbac = '/apis/rbac.authorization.k8s.io/v1/namespaces/default';
  const post = async (p: string, obj: unknown) => {
    const r = await send(port, 'POST', p, JSON.stringify(obj), {}, admin);
    if (r.status !== 201) throw new Error(`RBAC setup answered ${r.status}: ${r.body.slice(0, 200)}`);
  };
  await post(`${rbac}/roles`, { metadata: { name: 'pod-writer' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list'] }] });
  await runConcurrent(others, 16, (i) => post(`${rbac}/rolebindings`, { metadata: { name: `other-${i}` }, roleRef: { kind: 'Role', name: 'pod-writer' }, subjects: [{ kind: 'User', name: `someone-${i}` }] }));
  await post(`${rbac}/rolebindings`, { metadata: { name: 'bench-team' }, roleRef: { kind: 'Role', name: 'pod-writer' }, subjects: [{ kind: 'Group', name: 'bench-team' }] });
}

/** A throwaway API server process for other packages' benches. */
export async function startBenchServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const api = await startApiServer();
  return { url: api.url, stop: () => api.stop('SIGKILL') };
}

export interface ApiBenchOptions {
  creates?: number;
  listSize?: number;
  watchers?: number;
  writeRate?: number;
  /** Watchers of one node's pods each (as agents watch), and the writes per second spread over them. */
  nodeWatchers?: number;
  nodeWriteRate?: number;
  log?: (msg: string) => void;
}

/**
 * Turns of creates for the figures that compare two kinds of caller on one machine (TLS, RBAC),
 * and creates a turn. One turn's ratio ranges 0.67 to 1.28, as a collection or the machine's
 * other work falls in one side's turn: with four turns of 1,000 (a quarter second each) a
 * run's figure ranged 0.78 to 1.02; eight of 2,000 steady it.
 */
const secureTurns = 8;
const createsPerSecureTurn = 2000;
const secureCreates = secureTurns * createsPerSecureTurn;

/** The API server's part of `npm run bench`: create throughput, list, watch fan-out, each beside the bare stack. */
export async function runApiBench(opts: ApiBenchOptions = {}): Promise<BenchFigure[]> {
  const creates = opts.creates ?? 4000;
  const listSize = opts.listSize ?? 10_000;
  const watchers = opts.watchers ?? 100;
  const rate = opts.writeRate ?? 500;
  const nodeWatchers = opts.nodeWatchers ?? 1000;
  const nodeRate = opts.nodeWriteRate ?? 1000;
  const log = opts.log ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-bench-'));
  const procs: RunningProcess[] = [];
  try {
    const api = await startApiServer({ dataDir: path.join(dir, 'api'), args: ['--max-watches-per-client', String(nodeWatchers + watchers + 10)] });
    procs.push(api);
    const idleRss = rssMiB(api.pid);
    const bare = spawnNode(path.join(__dirname, 'bare-server.js'), [path.join(dir, 'bare')], { output: 'stdout' });
    procs.push(bare);
    const barePort = Number((await bare.ready(/"port":(\d+)/))[1]);
    const podsPath = '/api/v1/namespaces/default/pods';
    const figures: BenchFigure[] = [];

    log('warming up');
    await createMany(api.port, podsPath, 'warm', 300, 32);
    await createMany(barePort, '/pods', 'warm', 300, 32);

    // Two sets of alternating rounds: the first right after start, while V8 is still compiling
    // the servers' code (the API server's create path is far longer than the bare one's, and in
    // its first few thousand creates takes up to twice its later CPU per create), the second
    // once both run compiled code, which the ceiling is about. The first set's API server pods
    // go to a namespace of their own, so that the default one holds the list's pods.
    log(`creating ${creates} pods at concurrency 32 right after start, and ${creates} more once warm`);
    const ns = await send(api.port, 'POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: 'after-start' } }));
    if (ns.status !== 201) throw new Error(`namespace create answered ${ns.status}: ${ns.body.slice(0, 200)}`);
    const afterStart = await alternatingCreates([api.port, '/api/v1/namespaces/after-start/pods', api.pid], [barePort, '/pods', bare.pid], 'k', creates);
    const warm = await alternatingCreates([api.port, podsPath, api.pid], [barePort, '/pods', bare.pid], 'c', creates);
    figures.push({ name: `pod create throughput once warm (after ${300 + creates} creates each), concurrency 32`, value: warm.ours.rate, unit: 'creates/s', baseline: warm.base.rate, baselineName: 'bare express+better-sqlite3', ratio: warm.ours.rate / warm.base.rate, goal: 'ratio >= 0.8' });
    for (const p of [50, 99]) {
      const v = percentile(warm.ours.latencies, p);
      const b = percentile(warm.base.latencies, p);
      figures.push({ name: `pod create latency p${p}`, value: v, unit: 'ms', baseline: b, baselineName: 'bare express+better-sqlite3', ratio: v / b });
    }
    figures.push(createCpuFigure('CPU per pod create', warm, 'on two busy cores throughput goes as 1 / CPU per create'));
    figures.push({ name: `pod create throughput in the first ${creates} creates after start, concurrency 32`, value: afterStart.ours.rate, unit: 'creates/s', baseline: afterStart.base.rate, baselineName: 'bare express+better-sqlite3, likewise', ratio: afterStart.ours.rate / afterStart.base.rate });
    figures.push(createCpuFigure(`CPU per pod create in the first ${creates} after start`, afterStart));

    log('the same creates with authentication and TLS on');
    const pki = bootstrapCluster({ dir: path.join(dir, 'pki'), server: 'https://127.0.0.1', hosts: ['127.0.0.1'], nodes: [] });
    const rbacUserToken = 'bench-rbac-user-token';
    fs.appendFileSync(pki.tokenFile, `${rbacUserToken},bench-editor,bench-editor,"bench-team"\n`);
    const secureApi = await startApiServer({
      dataDir: path.join(dir, 'secure'),
      args: ['--token-auth-file', pki.tokenFile, '--tls-cert-file', pki.certFile, '--tls-private-key-file', pki.keyFile],
    });
    procs.push(secureApi);
    const adminToken = fs.readFileSync(pki.tokenFile, 'utf8').split('\n').find((l) => l.split(',')[1] === 'admin')!.split(',')[0];
    const secure: Secure = { agent: new https.Agent({ keepAlive: true, maxSockets: 256, ca: fs.readFileSync(pki.caFile) }), token: adminToken };
    // Warmed by as many creates as the plain server had (300, then the two sets of rounds),
    // then measured in turns, so both see the same machine.
    await createMany(secureApi.port, podsPath, 'warm', 300 + 2 * creates, 32, secure);
    const [plainSeconds, secureSeconds] = await inTurns(secureTurns, [
      (k) => createMany(api.port, podsPath, `p${k}`, createsPerSecureTurn, 32),
      (k) => createMany(secureApi.port, podsPath, `c${k}`, createsPerSecureTurn, 32, secure),
    ]);
    const plainRate = secureCreates / plainSeconds;
    const secureRate = secureCreates / secureSeconds;
    figures.push({ name: 'pod create throughput with authentication and TLS, concurrency 32', value: secureRate, unit: 'creates/s', baseline: plainRate, baselineName: 'the same without them', ratio: secureRate / plainRate, goal: 'ratio >= 0.8' });

    log('the same creates by a user RBAC authorizes (a RoleBinding among 1,000 others), beside system:masters');
    const rbacUser: Secure = { agent: new https.Agent({ keepAlive: true, maxSockets: 256, ca: fs.readFileSync(pki.caFile) }), token: rbacUserToken };
    await grantPodCreates(secureApi.port, secure, 1000);
    // The user's own path (its RBAC rules, its priority level's queues) warmed before it is
    // timed, as the masters' path is by then: unwarmed, the first round measured V8 compiling
    // it (0.67 of system:masters' rate where the next three rounds gave 0.81 to 1.02).
    await createMany(secureApi.port, podsPath, 'warm-rbac', creates / 2, 32, rbacUser);
    const [mastersSeconds, rbacSeconds] = await inTurns(secureTurns, [
      (k) => createMany(secureApi.port, podsPath, `m${k}`, createsPerSecureTurn, 32, secure),
      (k) => createMany(secureApi.port, podsPath, `r${k}`, createsPerSecureTurn, 32, rbacUser),
    ]);
    secure.agent.destroy();
    rbacUser.agent.destroy();
    figures.push({ name: 'pod create throughput authorized by RBAC, concurrency 32', value: secureCreates / rbacSeconds, unit: 'creates/s', baseline: secureCreates / mastersSeconds, baselineName: 'the same as system:masters (no RBAC lookup, past the queues)', ratio: mastersSeconds / rbacSeconds, goal: 'ratio >= 0.9' });
    secureApi.proc.kill('SIGKILL');

    log('the same creates with protobuf bodies and answers (as client-go sends them), beside JSON ones, on a fresh server');
    const pbApi = await startApiServer({ dataDir: path.join(dir, 'protobuf') });
    procs.push(pbApi);
    await createMany(pbApi.port, podsPath, 'warm', 300, 32);
    await createMany(pbApi.port, podsPath, 'warm-pb', 300, 32, undefined, true);
    // In alternating slices, so that both see the same machine (other load, a growing database).
    let jsonSeconds = 0;
    let protobufSeconds = 0;
    const slice = Math.ceil(creates / 8);
    for (let k = 0; k < 8; k++) {
      jsonSeconds += (await createMany(pbApi.port, podsPath, `j${k}`, slice, 32)).seconds;
      protobufSeconds += (await createMany(pbApi.port, podsPath, `pb${k}`, slice, 32, undefined, true)).seconds;
    }
    pbApi.proc.kill('SIGKILL');
    const jsonCreateRate = (8 * slice) / jsonSeconds;
    const protobufCreateRate = (8 * slice) / protobufSeconds;
    figures.push({ name: 'pod create throughput with protobuf bodies, concurrency 32', value: protobufCreateRate, unit: 'creates/s', baseline: jsonCreateRate, baselineName: 'the same with JSON bodies', ratio: protobufCreateRate / jsonCreateRate });

    // Each side holds 300 + 2 * creates in the list by now (the bare server its first rounds', the API server the plain TLS baseline's).
    const more = listSize - 2 * creates - 300;
    if (more > 0) {
      log(`filling up to ${listSize} pods`);
      await createMany(api.port, podsPath, 'f', more, 32);
      await createMany(barePort, '/pods', 'f', more, 32);
    }
    log(`listing ${listSize} pods`);
    const rssBefore = rssMiB(api.pid);
    const listOurs = await timeList(api.port, podsPath, 7);
    const listBase = await timeList(barePort, '/pods', 7);
    const rssAfter = rssMiB(api.pid);
    figures.push({ name: `list of ${listSize} pods, median`, value: listOurs, unit: 'ms', baseline: listBase, baselineName: 'bare SELECT + join', ratio: listOurs / listBase });

    log(`listing ${listSize} pods as protobuf and as JSON`);
    // The first protobuf list encodes every pod; the bytes are kept beside each stored object after that.
    const protobufAccept = { Accept: protobufHeaders.Accept };
    const cold = await measureList(api.port, podsPath, 1, protobufAccept, api.pid);
    const { json: asJson, protobuf: asProtobuf } = await compareLists(api.port, podsPath, 9, api.pid);
    figures.push({ name: `list of ${listSize} pods as protobuf, median`, value: asProtobuf.medianMs, unit: 'ms', baseline: asJson.medianMs, baselineName: 'as JSON', ratio: asProtobuf.medianMs / asJson.medianMs, goal: `first protobuf list (encoding every pod): ${cold.medianMs.toFixed(0)} ms` });
    figures.push({ name: `list of ${listSize} pods as protobuf, size`, value: asProtobuf.bytes / 1024 / 1024, unit: 'MiB', baseline: asJson.bytes / 1024 / 1024, baselineName: 'as JSON', ratio: asProtobuf.bytes / asJson.bytes });
    const decode = await compareDecoding(api.port, podsPath);
    figures.push({ name: `decoding the list of ${listSize} pods in Node (a client such as peactl), protobuf`, value: decode.protobufMs, unit: 'ms', baseline: decode.jsonMs, baselineName: 'JSON.parse of the JSON list', ratio: decode.protobufMs / decode.jsonMs });
    figures.push({ name: `list of ${listSize} pods as protobuf, server CPU per list`, value: asProtobuf.cpuMsPerList, unit: 'ms', baseline: asJson.cpuMsPerList, baselineName: 'as JSON', ratio: asProtobuf.cpuMsPerList / asJson.cpuMsPerList, goal: `first protobuf list: ${cold.cpuMsPerList.toFixed(0)} ms` });
    figures.push({
      name: `API server memory holding ${listSize + creates} pods (after lists)`,
      value: rssAfter,
      unit: 'MiB',
      baseline: rssMiB(bare.pid),
      baselineName: 'bare server RSS',
      ratio: rssAfter / rssMiB(bare.pid),
      goal: `before lists: ${rssBefore.toFixed(0)} MiB`,
    });
    const listed = JSON.parse((await send(api.port, 'GET', '/api/v1/pods')).body) as { items: unknown[] };
    const podJsonBytes = listed.items.reduce<number>((sum, item) => sum + Buffer.byteLength(JSON.stringify(item)), 0) / listed.items.length;
    const perPod = ((rssBefore - idleRss) * 2 ** 20) / listed.items.length;
    figures.push({
      name: `API server memory per stored pod (RSS holding ${listed.items.length} pods, less at start, over the pods)`,
      value: perPod,
      unit: 'bytes',
      baseline: podJsonBytes,
      baselineName: "the pod's JSON size",
      ratio: perPod / podJsonBytes,
    });

    log(`watch fan-out: ${watchers} watchers, ${rate} writes/s`);
    const rv = JSON.parse((await send(api.port, 'GET', `${podsPath}?limit=1`)).body).metadata.resourceVersion as string;
    const everyPod = (watchPath: string, writePath: string): FanOutPlan => ({ watchers, watchPath: () => watchPath, writePath, body: (name) => podBody(name), receivers: watchers });
    const fanOurs = await fanOut(api.port, everyPod(`${podsPath}?watch=true&resourceVersion=${rv}`, podsPath), 'w', rate, 5);
    const fanBase = await fanOut(barePort, everyPod('/watch', '/pods'), 'w', rate, 5);
    const p99 = percentile(fanOurs.delays, 99);
    const p99Base = percentile(fanBase.delays, 99);
    figures.push({
      name: `watch delay p99, ${watchers} watchers at ${fanOurs.achievedRate.toFixed(0)} writes/s (${fanOurs.missing} events missing; ${ownLoopNote(fanOurs)})`,
      value: p99,
      unit: 'ms',
      baseline: p99Base,
      baselineName: `bare broadcast (${fanBase.missing} missing)`,
      ratio: p99 / p99Base,
      goal: 'p99 < 50 ms',
    });
    figures.push(sentFigure(`watch delay p99 from the write's send, ${watchers} watchers`, fanOurs.fromSend, fanBase.fromSend, 'bare broadcast'));
    figures.push({
      name: 'watch delay p50',
      value: percentile(fanOurs.delays, 50),
      unit: 'ms',
      baseline: percentile(fanBase.delays, 50),
      baselineName: 'bare broadcast',
      ratio: percentile(fanOurs.delays, 50) / percentile(fanBase.delays, 50),
    });

    log(`watch fan-out: ${nodeWatchers} watchers of one node's pods each, ${nodeRate} writes/s over the nodes`);
    const nodeRv = JSON.parse((await send(api.port, 'GET', `${podsPath}?limit=1`)).body).metadata.resourceVersion as string;
    const perNode = (watchPath: (node: string) => string, writePath: string): FanOutPlan => ({
      watchers: nodeWatchers,
      watchPath: (w) => watchPath(`node-${w}`),
      writePath,
      body: (name, i) => podBody(name, `node-${i % nodeWatchers}`),
      receivers: 1,
    });
    const nodeOurs = await fanOut(api.port, perNode((n) => `${podsPath}?watch=true&resourceVersion=${nodeRv}&fieldSelector=spec.nodeName%3D${n}`, podsPath), 'n', nodeRate, 5);
    const nodeBase = await fanOut(barePort, perNode((n) => `/watch?node=${n}`, '/pods'), 'n', nodeRate, 5);
    const nodeP99 = percentile(nodeOurs.delays, 99);
    const nodeP99Base = percentile(nodeBase.delays, 99);
    figures.push({
      name: `watch delay p99, ${nodeWatchers} watchers of one node each, at ${nodeOurs.achievedRate.toFixed(0)} writes/s (${nodeOurs.missing} events missing; ${ownLoopNote(nodeOurs)})`,
      value: nodeP99,
      unit: 'ms',
      baseline: nodeP99Base,
      baselineName: `bare server sending each write to its node's watcher (${nodeBase.missing} missing)`,
      ratio: nodeP99 / nodeP99Base,
      goal: 'p99 < 50 ms',
    });
    figures.push(sentFigure(`watch delay p99 from the write's send, ${nodeWatchers} watchers of one node each`, nodeOurs.fromSend, nodeBase.fromSend, "bare server sending each write to its node's watcher"));
    if (hasEtcd()) figures.push(...(await etcdFigures(dir, procs, creates, watchers, rate, fanOurs, log)));
    return figures;
  } finally {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Only the etcd backend's figures (`npm run bench -- etcd`), with the SQLite backend's watch
 * delay at the same rate measured first as their baseline.
 */
export async function runEtcdBench(opts: ApiBenchOptions = {}): Promise<BenchFigure[]> {
  if (!hasEtcd()) throw new Error(`no etcd at ${etcdBinary} (PEAPOD_ETCD)`);
  const creates = opts.creates ?? 4000;
  const watchers = opts.watchers ?? 100;
  const rate = opts.writeRate ?? 500;
  const log = opts.log ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-bench-'));
  const procs: RunningProcess[] = [];
  try {
    log(`watch fan-out on SQLite: ${watchers} watchers, ${rate} writes/s`);
    const api = await startApiServer({ dataDir: path.join(dir, 'api'), args: ['--max-watches-per-client', String(watchers + 10)] });
    procs.push(api);
    const podsPath = '/api/v1/namespaces/default/pods';
    await createMany(api.port, podsPath, 'warm', 300, 32);
    const rv = JSON.parse((await send(api.port, 'GET', `${podsPath}?limit=1`)).body).metadata.resourceVersion as string;
    const sqlite = await fanOut(api.port, { watchers, watchPath: () => `${podsPath}?watch=true&resourceVersion=${rv}`, writePath: podsPath, body: (name) => podBody(name), receivers: watchers }, 'w', rate, 5);
    await api.kill('SIGKILL');
    return await etcdFigures(dir, procs, creates, watchers, rate, sqlite, log);
  } finally {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The etcd backend on a three-member cluster on this machine: pod creates through the API
 * server beside raw create transactions from Node (in alternating rounds), and the watch
 * fan-out beside the SQLite backend's.
 */
async function etcdFigures(dir: string, procs: RunningProcess[], creates: number, watchers: number, rate: number, sqliteFan: { delays: number[]; fromSend: number[] }, log: (line: string) => void): Promise<BenchFigure[]> {
  log('pod creates on the etcd backend (three members), beside raw etcd create transactions from Node');
  const cluster = await startEtcdCluster(3);
  try {
    const api = await startApiServer({
      dataDir: path.join(dir, 'etcd'),
      args: ['--storage-backend', 'etcd3', '--etcd-servers', cluster.endpoints.join(','), '--max-watches-per-client', String(watchers + 10)],
    });
    procs.push(api);
    const podsPath = '/api/v1/namespaces/default/pods';
    // The API server writes to the leader, which costs etcd less than writes spread over the
    // members: the baseline it is held to is raw transactions sent to the leader too.
    const toLeader = [cluster.endpoints[await cluster.leader()]];
    await createMany(api.port, podsPath, 'warm', 300, 32);
    await rawEtcdCreates(toLeader, 'warm', 300, 32);
    await rawEtcdCreates(cluster.endpoints, 'warm-spread', 300, 32);
    const rounds = 4;
    const slice = Math.ceil(creates / 2 / rounds);
    /** `rounds` alternating rounds of `slice` creates through the API server, raw to the leader and raw spread over the members. */
    const alternate = async (tag: string) => {
      const r = { apiSeconds: 0, rawSeconds: 0, spreadSeconds: 0 };
      // CPU time of each side's rounds, in seconds: the API server, the etcd members, this process (the load generator).
      const apiCpu: CpuTimes = { server: 0, etcd: 0, client: 0 };
      const rawCpu: CpuTimes = { server: 0, etcd: 0, client: 0 };
      for (let round = 0; round < rounds; round++) {
        r.apiSeconds += (await cpuOf(api.pid, cluster.pids(), apiCpu, () => createMany(api.port, podsPath, `${tag}e${round}`, slice, 32))).seconds;
        r.rawSeconds += (await cpuOf(undefined, cluster.pids(), rawCpu, () => rawEtcdCreates(toLeader, `${tag}r${round}`, slice, 32))).seconds;
        r.spreadSeconds += (await rawEtcdCreates(cluster.endpoints, `${tag}s${round}`, slice, 32)).seconds;
      }
      return { ...r, apiCpu, rawCpu };
    };
    const perCreate = (seconds: number) => (seconds * 1000) / (rounds * slice);
    const ms = (seconds: number) => `${perCreate(seconds).toFixed(2)} ms`;
    const cpuFigure = (what: string, apiCpu: CpuTimes, rawCpu: CpuTimes, goal?: string): BenchFigure => {
      const apiMs = perCreate(apiCpu.server + apiCpu.etcd + apiCpu.client);
      const rawMs = perCreate(rawCpu.etcd + rawCpu.client);
      return {
        name: `CPU per pod create on etcd${what}: API server ${ms(apiCpu.server)} + etcd members ${ms(apiCpu.etcd)} + the load generator ${ms(apiCpu.client)}`,
        value: apiMs,
        unit: 'ms',
        baseline: rawMs,
        baselineName: `raw transactions to the leader: etcd members ${ms(rawCpu.etcd)} + the Node client ${ms(rawCpu.client)}`,
        ratio: apiMs / rawMs,
        goal,
      };
    };
    const fresh = await alternate('');
    const apiRate = (rounds * slice) / fresh.apiSeconds;
    const rawRate = (rounds * slice) / fresh.rawSeconds;
    const spreadRate = (rounds * slice) / fresh.spreadSeconds;
    const figures: BenchFigure[] = [
      { name: 'pod create throughput on etcd (3 members), concurrency 32', value: apiRate, unit: 'creates/s', baseline: rawRate, baselineName: 'raw etcd create transactions from Node, to the leader', ratio: apiRate / rawRate, goal: 'ratio >= 0.5' },
      { name: 'pod create throughput on etcd (3 members), concurrency 32', value: apiRate, unit: 'creates/s', baseline: spreadRate, baselineName: 'raw etcd create transactions from Node, spread over the members (the etcd3 client\'s default)', ratio: apiRate / spreadRate },
      cpuFigure('', fresh.apiCpu, fresh.rawCpu, 'on two busy cores throughput goes as 1 / CPU per create'),
    ];
    // The same rounds again on the same server: its code now compiled, as the SQLite figures' "once warm".
    const warm = await alternate('w');
    const warmRate = (rounds * slice) / warm.apiSeconds;
    const warmRawRate = (rounds * slice) / warm.rawSeconds;
    figures.push(
      { name: `pod create throughput on etcd once warm (after ${300 + rounds * slice} creates), concurrency 32`, value: warmRate, unit: 'creates/s', baseline: warmRawRate, baselineName: 'raw etcd create transactions from Node, to the leader', ratio: warmRate / warmRawRate },
      cpuFigure(' once warm', warm.apiCpu, warm.rawCpu),
    );
    log('pod creates through the etcd store in this process (no HTTP), beside raw transactions of the same JSON');
    const stored = JSON.parse((await send(api.port, 'GET', `${podsPath}/warm-0`)).body) as Record<string, unknown>;
    figures.push(...(await storeBesideRawTransactions(cluster, toLeader, stored, rounds * slice, rounds)));
    log(`watch fan-out on etcd: ${watchers} watchers, ${rate} writes/s`);
    const rv = JSON.parse((await send(api.port, 'GET', `${podsPath}?limit=1`)).body).metadata.resourceVersion as string;
    const fan = await fanOut(api.port, { watchers, watchPath: () => `${podsPath}?watch=true&resourceVersion=${rv}`, writePath: podsPath, body: (name) => podBody(name), receivers: watchers }, 'w', rate, 5);
    const p99 = percentile(fan.delays, 99);
    const sqliteP99 = percentile(sqliteFan.delays, 99);
    figures.push({
      name: `watch delay p99 on etcd, ${watchers} watchers at ${fan.achievedRate.toFixed(0)} writes/s (${fan.missing} events missing; ${ownLoopNote(fan)})`,
      value: p99,
      unit: 'ms',
      baseline: sqliteP99,
      baselineName: 'the same on SQLite',
      ratio: p99 / sqliteP99,
      goal: 'p99 < 50 ms',
    });
    figures.push(sentFigure(`watch delay p99 on etcd from the write's send, ${watchers} watchers`, fan.fromSend, sqliteFan.fromSend, 'the same on SQLite'));
    return figures;
  } finally {
    await cluster.stop();
  }
}
