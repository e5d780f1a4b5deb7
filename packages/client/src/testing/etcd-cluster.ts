import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import http from 'http';
import https from 'https';
import os from 'os';
import path from 'path';
import { freePort, removeDir } from './processes';

export const etcdBinary = process.env.PEAPOD_ETCD ?? '/usr/bin/etcd';

export function hasEtcd(): boolean {
  return fs.existsSync(etcdBinary);
}

interface Member {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process?: ChildProcess;
  /** the last chunks of its stderr, shown when the cluster does not form */
  log: string[];
}

const logChunksKept = 20;

/** Rejects when m's process exits before it is healthy (a port taken, a bad flag). */
function exitedEarly(m: Member): Promise<never> {
  return new Promise((_, reject) => {
    m.process?.once('exit', (code, signal) => reject(new Error(`etcd member ${m.name} exited (${signal ?? code}) before it was healthy`)));
  });
}

export interface EtcdCluster {
  /** client URLs, one per member */
  endpoints: string[];
  /** the directory holding every member's data */
  dataDir: string;
  /** SIGKILLs member i (its data stays, to be restarted) */
  kill(i: number): Promise<void>;
  /** starts member i again on its data */
  restart(i: number): Promise<void>;
  /** freezes member i (SIGSTOP): its connections stay open, it answers nothing */
  pause(i: number): void;
  /** lets a paused member go on (SIGCONT) */
  resume(i: number): void;
  /** the index of the member that leads now, once one does (within timeoutMs) */
  leader(timeoutMs?: number): Promise<number>;
  /** whether member i (running) knows of a leader */
  hasLeader(i: number): Promise<boolean>;
  /** the process ids of the running members (to read their CPU time) */
  pids(): number[];
  /** kills every member and removes the data */
  stop(): Promise<void>;
}

export interface EtcdClusterOptions {
  /** etcd's space quota (`--quota-backend-bytes`; etcd's default is 2 GiB, past which it refuses writes) */
  quotaBackendBytes?: number;
}

/** PEM files for etcd's client TLS: its members serve certFile and ask clients for one signed by caFile. */
export interface EtcdTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * An etcd cluster of `members` members on free loopback ports, in a temporary directory,
 * answering once each member reports healthy. Its processes are killed and its directory
 * removed by stop(), and killed if the test process exits without calling it. With tls, the
 * client URLs are https and clients must present a certificate of the CA (the health check
 * presents the members' own).
 */
export async function startEtcdCluster(members = 3, tls?: EtcdTls, opts: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  // Ports are picked free and then given to etcd, so another process may take one in between;
  // a member that cannot bind exits, and the cluster is formed again on fresh ports.
  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await formEtcdCluster(members, tls, opts);
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
  }
}

async function formEtcdCluster(members: number, tls: EtcdTls | undefined, opts: EtcdClusterOptions): Promise<EtcdCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-etcd-'));
  const list: Member[] = [];
  for (let i = 0; i < members; i++) {
    list.push({ name: `m${i}`, clientUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, dataDir: path.join(dir, `m${i}`), log: [] });
  }
  const initialCluster = list.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const killAll = () => {
    for (const m of list) m.process?.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const launch = (m: Member) => {
    const child = spawn(
      etcdBinary,
      [
        '--name', m.name,
        '--data-dir', m.dataDir,
        '--listen-client-urls', m.clientUrl,
        '--advertise-client-urls', m.clientUrl,
        '--listen-peer-urls', m.peerUrl,
        '--initial-advertise-peer-urls', m.peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', path.basename(dir),
        '--logger', 'zap',
        '--log-level', 'error',
        // Tolerant of a loaded test machine: a slow heartbeat must not start an election.
        '--heartbeat-interval', '200',
        '--election-timeout', '2000',
        ...(opts.quotaBackendBytes ? ['--quota-backend-bytes', String(opts.quotaBackendBytes)] : []),
        ...(tls ? ['--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.caFile, '--client-cert-auth'] : []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      m.log.push(chunk.toString());
      if (m.log.length > logChunksKept) m.log.shift();
    });
    m.process = child;
  };
  const healthy = (m: Member, timeoutMs: number) => waitHealthy(m.clientUrl, timeoutMs, tls, () => m.process !== undefined);

  const cluster: EtcdCluster = {
    endpoints: list.map((m) => m.clientUrl),
    dataDir: dir,
    async kill(i) {
      const child = list[i].process;
      list[i].process = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async restart(i) {
      launch(list[i]);
    },
    pause(i) {
      list[i].process?.kill('SIGSTOP');
    },
    resume(i) {
      list[i].process?.kill('SIGCONT');
    },
    async leader(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const [i, m] of list.entries()) {
          const s = m.process ? await memberStatus(m.clientUrl) : undefined;
          if (s && s.leader !== '0' && s.leader === s.member) return i;
        }
        if (Date.now() > deadline) throw new Error(`no etcd member leads within ${timeoutMs / 1000}s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async hasLeader(i) {
      const s = await memberStatus(list[i].clientUrl);
      return s !== undefined && s.leader !== '0';
    },
    pids() {
      return list.flatMap((m) => (m.process?.pid !== undefined && m.process.exitCode === null ? [m.process.pid] : []));
    },
    async stop() {
      process.removeListener('exit', killAll);
      await Promise.all(list.map((_, i) => cluster.kill(i)));
      removeDir(dir);
    },
  };
  try {
    for (const m of list) launch(m);
    await Promise.all(list.map((m) => Promise.race([healthy(m, 60_000), exitedEarly(m)])));
  } catch (err) {
    await cluster.stop();
    const logs = list.map((m) => `${m.name}: ${m.log.join('').trim().split('\n').slice(-3).join('\n')}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return cluster;
}

/** Resolves once the member at url answers /health with health true; gives up once running() is false. */
export async function waitHealthy(url: string, timeoutMs: number, tls?: EtcdTls, running = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isHealthy(url, tls)) return;
    if (!running()) throw new Error(`etcd at ${url} stopped before it was healthy`);
    if (Date.now() > deadline) throw new Error(`etcd at ${url} not healthy within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function isHealthy(url: string, tls?: EtcdTls): Promise<boolean> {
  return new Promise((resolve) => {
    const get = tls ? (u: string, o: https.RequestOptions, cb: (res: http.IncomingMessage) => void) => https.get(u, o, cb) : http.get;
    const credentials = tls ? { ca: fs.readFileSync(tls.caFile), cert: fs.readFileSync(tls.certFile), key: fs.readFileSync(tls.keyFile) } : {};
    let req: http.ClientRequest;
    try {
      req = get(`${url}/health`, { timeout: 2000, ...credentials }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
        res.on('error', () => resolve(false));
      });
    } catch {
      // Credentials the TLS stack refuses: the member cannot be reached healthy, and its own exit says why.
      resolve(false);
      return;
    }
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** A member's own id and the leader it knows of ("0": none), from etcd's status (the gRPC gateway), or undefined when it does not answer. */
function memberStatus(url: string): Promise<{ member: string; leader: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.request(`${url}/v3/maintenance/status`, { method: 'POST', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          const s = JSON.parse(body) as { header?: { member_id?: string }; leader?: string };
          resolve(s.header?.member_id ? { member: s.header.member_id, leader: s.leader ?? '0' } : undefined);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end('{}');
  });
}
