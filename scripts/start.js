#!/usr/bin/env node
// `npm start`: a whole single-node Peapod cluster on this machine. It installs and builds
// what a fresh clone lacks, checks that Docker answers (installing it when it may), builds
// the local images it lacks, writes the cluster's credentials on first start (a CA, the
// API server's certificate, a token and kubeconfig per component), starts the API server
// (HTTPS, tokens), scheduler, controller manager, the cluster DNS and the service proxy
// (these two when it may program nftables: as root), and one agent, with their logs in
// DATA/logs, writes DATA/kubeconfig (admin), says "cluster ready" once the node is Ready,
// and on Ctrl-C stops them in order and removes the node's pod containers. A later start
// reuses DATA.
'use strict';

const { spawn, spawnSync } = require('child_process');
const dgram = require('dgram');
const fs = require('fs');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const STOP_TIMEOUT_MS = 10_000;
const READY_TIMEOUT_MS = 90_000;
/** The kube-dns service's cluster IP: pods' nameserver (the agent's --cluster-dns). */
const CLUSTER_DNS = '10.96.0.10';

const usage = `Usage: node scripts/start.js [options]   (npm start)
  --data-dir DIR     where data, logs and the kubeconfig live (PEAPOD_DATA_DIR, default ./data)
  --port N           API server port on 127.0.0.1; 0 picks a free one (PEAPOD_API_PORT, default 6443)
  --agent-port N     agent log server port; 0 picks a free one (PEAPOD_AGENT_PORT, default 10250)
  --node-name NAME   this node's name (PEAPOD_NODE_NAME, default the host name)
  --network NAME     Docker network for pod IPs (PEAPOD_NETWORK, default the agent's: bridge)`;

function say(line) {
  process.stdout.write(`peapod: ${line}\n`);
}

function fail(line) {
  process.stderr.write(`peapod: ${line}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const env = process.env;
  const opts = {
    dataDir: env.PEAPOD_DATA_DIR || 'data',
    port: env.PEAPOD_API_PORT || '6443',
    agentPort: env.PEAPOD_AGENT_PORT || '10250',
    nodeName: env.PEAPOD_NODE_NAME || os.hostname().toLowerCase(),
    network: env.PEAPOD_NETWORK || '',
  };
  const names = { '--data-dir': 'dataDir', '--port': 'port', '--agent-port': 'agentPort', '--node-name': 'nodeName', '--network': 'network' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = names[flag];
    if (!key) fail(`unknown argument ${arg}\n${usage}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) fail(`${flag} needs a value`);
    opts[key] = value;
  }
  for (const key of ['port', 'agentPort']) {
    const n = Number(opts[key]);
    if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${key === 'port' ? '--port' : '--agent-port'}: ${opts[key]} is not a port number`);
    opts[key] = n;
  }
  opts.dataDir = path.resolve(opts.dataDir);
  return opts;
}

/** A path as the user would type it from where they are. */
function shown(p) {
  const rel = path.relative(process.cwd(), p);
  if (rel === '') return '.';
  return rel.startsWith('..') ? p : `./${rel}`;
}

function firstLine(text) {
  return String(text || '').trim().split('\n').filter(Boolean).pop() || '';
}

function dockerStatus() {
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) return { ok: false, reason: r.error.code === 'ENOENT' ? 'the docker command is not installed' : r.error.message };
  if (r.status !== 0) return { ok: false, reason: firstLine(r.stderr) || 'docker info failed' };
  return { ok: true };
}

function ensureDocker() {
  let status = dockerStatus();
  if (status.ok) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // The script installs and starts the local engine; a DOCKER_HOST elsewhere is not its to fix.
  if (isRoot && fs.existsSync('/etc/debian_version') && !process.env.DOCKER_HOST) {
    say(`Docker is not reachable (${status.reason}): running scripts/install-docker.sh (Debian's docker.io; starts dockerd)`);
    const r = spawnSync('bash', [path.join(root, 'scripts/install-docker.sh')], { stdio: 'inherit' });
    status = r.status === 0 ? dockerStatus() : { ok: false, reason: 'scripts/install-docker.sh failed' };
    if (status.ok) return;
  }
  fail(
    `Docker is not reachable (${status.reason}), so this node could not run pods: install Docker and start it ` +
      `(on Debian, as root: bash scripts/install-docker.sh), then run npm start again`,
  );
}

function ensureImages() {
  const present = spawnSync('docker', ['image', 'inspect', 'peapod/pause:latest', 'peapod/busybox:latest'], { stdio: 'ignore' });
  if (present.status === 0) return;
  say('building the local images peapod/pause and peapod/busybox (scripts/build-images.sh pause busybox)');
  const r = spawnSync('bash', [path.join(root, 'scripts/build-images.sh'), 'pause', 'busybox'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) fail('scripts/build-images.sh failed (see above)');
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether UDP and TCP `port` are both free on `address`. */
function udpAndTcpFree(address, port) {
  return new Promise((resolve) => {
    const udp = dgram.createSocket('udp4');
    udp.once('error', () => resolve(false));
    udp.bind(port, address, () => {
      const tcp = net.createServer();
      tcp.once('error', () => udp.close(() => resolve(false)));
      tcp.listen(port, address, () => tcp.close(() => udp.close(() => resolve(true))));
    });
  });
}

/** Cluster IPs need nftables rules in this host's network namespace: root, and nft that works. */
function canProgramNftables() {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return isRoot && spawnSync('nft', ['list', 'tables'], { stdio: 'ignore' }).status === 0;
}

async function choosePort(port, flag) {
  if (port === 0) return freePort();
  if (!(await portFree(port))) fail(`port ${port} on 127.0.0.1 is in use (another cluster?): stop it or pass ${flag} N (0: any free port)`);
  return port;
}

/** GET over HTTPS, verifying the server with the cluster CA and sending the admin token. */
function getJson(url, tls) {
  return new Promise((resolve) => {
    const headers = tls.token ? { Authorization: `Bearer ${tls.token}` } : {};
    const req = https.get(url, { timeout: 2000, ca: tls.ca, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(body) });
        } catch {
          resolve({ status: res.statusCode, body: undefined });
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: undefined }));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Refuses a second cluster on the same data directory (two API servers on one database). */
function takeLock(dataDir) {
  const file = path.join(dataDir, 'start.pid');
  try {
    const pid = Number(fs.readFileSync(file, 'utf8'));
    if (pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        fail(`another npm start (pid ${pid}) is using ${shown(dataDir)}: stop it first`);
      } catch (err) {
        if (err.code === 'EPERM') fail(`another npm start (pid ${pid}) is using ${shown(dataDir)}: stop it first`);
      }
    }
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  fs.writeFileSync(file, String(process.pid));
  return file;
}

class Cluster {
  constructor(opts) {
    this.opts = opts;
    this.logDir = path.join(opts.dataDir, 'logs');
    this.components = [];
    this.stopping = false;
  }

  start(name, args) {
    const logFile = path.join(this.logDir, `${name}.log`);
    const fd = fs.openSync(logFile, 'a');
    const env = { ...process.env };
    // Start-up, shutdown and trouble belong in the log files; the components default to warn.
    if (!env.PEAPOD_LOG_LEVEL) env.PEAPOD_LOG_LEVEL = 'info';
    // Its own process group: Ctrl-C reaches only this script, which then stops the
    // components in order (agent first, API server last).
    const child = spawn(process.execPath, [path.join(root, 'packages', name, 'dist/main.js'), ...args], {
      cwd: root,
      env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    fs.closeSync(fd);
    const component = { name, child, logFile, exited: false, exitCode: null };
    component.done = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        component.exited = true;
        component.exitCode = code ?? signal;
        resolve();
        if (!this.stopping) this.died(component);
      }),
    );
    this.components.push(component);
    return component;
  }

  died(component) {
    process.stderr.write(`peapod: ${component.name} exited (${component.exitCode}); the end of ${shown(component.logFile)}:\n`);
    const lines = fs.readFileSync(component.logFile, 'utf8').trim().split('\n').slice(-10);
    process.stderr.write(`${lines.map((l) => `  ${l}`).join('\n')}\n`);
    this.stop(1);
  }

  async stop(exitCode) {
    if (this.stopping) return;
    this.stopping = true;
    say('stopping');
    for (const component of [...this.components].reverse()) {
      if (component.exited) continue;
      component.child.kill('SIGTERM');
      const timer = setTimeout(() => component.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await component.done;
      clearTimeout(timer);
      say(`stopped ${component.name}`);
    }
    // Agents leave their pods' containers running (a restarted agent adopts them); a stopped
    // cluster should leave nothing behind. The pods stay in the API: the next start runs them again.
    const r = spawnSync('bash', [path.join(root, 'scripts/cleanup-pods.sh'), '--node', this.opts.nodeName], { encoding: 'utf8' });
    if (r.status === 0) say(firstLine(r.stdout).replace(/^cleanup-pods: /, ''));
    else process.stderr.write(`peapod: removing the pod containers failed: ${firstLine(r.stderr)}\n`);
    if (this.lockFile) fs.rmSync(this.lockFile, { force: true });
    say(`cluster stopped; its data stays in ${shown(this.opts.dataDir)}`);
    process.exit(exitCode);
  }

  /** SIGKILL whatever still runs: a second Ctrl-C, or this script exiting some other way. */
  killAll() {
    for (const c of this.components) if (!c.exited) c.child.kill('SIGKILL');
  }
}

/** A fresh clone has no node_modules and nothing compiled: install (npm ci) and build (tsc -b is incremental). */
function ensureBuilt() {
  if (!fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'))) {
    say('installing dependencies (npm ci)');
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) fail('npm ci failed (see above)');
  }
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) fail('the build failed (see above)');
}

/** The cluster's credentials, written on first start and kept (apiserver bootstrap). */
function bootstrap(opts, server) {
  const pki = path.join(opts.dataDir, 'pki');
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'packages/apiserver/dist/main.js'), 'bootstrap', '--dir', pki, '--server', server, '--hosts', '127.0.0.1,localhost', '--nodes', opts.nodeName],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) fail(`writing the cluster credentials failed: ${firstLine(r.stderr)}`);
  const result = JSON.parse(r.stdout);
  if (result.created.length) say(`wrote the cluster's CA, certificate and tokens to ${shown(pki)} (mode 0600)`);
  const adminToken = fs.readFileSync(path.join(pki, 'tokens.csv'), 'utf8').split('\n').find((l) => l.split(',')[1] === 'admin').split(',')[0];
  return { pki, kubeconfigs: result.kubeconfigs, ca: fs.readFileSync(path.join(pki, 'ca.crt')), token: adminToken };
}

async function waitUntil(cluster, what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cluster.stopping) return false;
    if (await check()) return true;
    await sleep(250);
  }
  process.stderr.write(`peapod: ${what} after ${timeoutMs / 1000} s\n`);
  return false;
}

/** Ready, as posted by the agent started at `since` (a node kept from a previous run says Ready too). */
function nodeReady(node, since) {
  const conditions = (node && node.status && node.status.conditions) || [];
  const floor = Math.floor(since / 1000) * 1000; // heartbeats carry whole seconds
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True' && Date.parse(c.lastHeartbeatTime) >= floor);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const startedAt = Date.now();
  ensureBuilt();
  ensureDocker();
  ensureImages();
  const apiPort = await choosePort(opts.port, '--port');
  const agentPort = await choosePort(opts.agentPort, '--agent-port');
  fs.mkdirSync(path.join(opts.dataDir, 'logs'), { recursive: true });

  const cluster = new Cluster(opts);
  cluster.lockFile = takeLock(opts.dataDir);
  process.on('SIGINT', () => (cluster.stopping ? cluster.killAll() : cluster.stop(0)));
  process.on('SIGTERM', () => cluster.stop(0));
  // A closed terminal: the components run in their own process groups and would outlive it.
  process.on('SIGHUP', () => cluster.stop(0));
  process.on('exit', () => cluster.killAll());
  say(`data in ${shown(opts.dataDir)}; each component logs to ${shown(cluster.logDir)}/NAME.log`);

  const server = `https://127.0.0.1:${apiPort}`;
  const creds = bootstrap(opts, server);
  const pkiFile = (name) => path.join(creds.pki, name);
  const apiserver = cluster.start('apiserver', [
    '--port', String(apiPort), '--bind', '127.0.0.1',
    '--data-dir', path.join(opts.dataDir, 'apiserver'), '--allow-privileged=true',
    '--token-auth-file', pkiFile('tokens.csv'),
    '--tls-cert-file', pkiFile('apiserver.crt'), '--tls-private-key-file', pkiFile('apiserver.key'),
    '--agent-client-token-file', pkiFile('apiserver-agent-client.token'),
  ]);
  say(`started apiserver (pid ${apiserver.child.pid}) on ${server}, log ${shown(apiserver.logFile)}`);
  const up = await waitUntil(cluster, 'the API server did not answer', 30_000, async () => (await getJson(`${server}/readyz`, creds)).status === 200);
  if (!up) return cluster.stop(1);

  const kubeconfig = path.join(opts.dataDir, 'kubeconfig');
  fs.copyFileSync(creds.kubeconfigs.admin, kubeconfig);
  fs.chmodSync(kubeconfig, 0o600);

  const scheduler = cluster.start('scheduler', ['--kubeconfig', creds.kubeconfigs['system:kube-scheduler']]);
  say(`started scheduler (pid ${scheduler.child.pid}), log ${shown(scheduler.logFile)}`);
  const cm = cluster.start('controller-manager', ['--kubeconfig', creds.kubeconfigs['system:kube-controller-manager']]);
  say(`started controller-manager (pid ${cm.child.pid}), log ${shown(cm.logFile)}`);

  // Services: the cluster DNS listens on the host's address on the pod network (port 53 when
  // it is free) behind the kube-dns cluster IP, and the proxy makes cluster IPs reach pods.
  const networkName = opts.network || 'bridge';
  const services = canProgramNftables();
  let network;
  if (services) {
    // The proxy's own reading of the network (subnet, the host's address on it), after the build above.
    network = await require('../packages/proxy/dist/pod-network').podNetworkOfDocker(networkName).catch((err) => fail(err.message));
    const dnsPort = (await udpAndTcpFree(network.gateway, 53)) ? 53 : 0;
    const dns = cluster.start('dns', [
      '--kubeconfig', creds.kubeconfigs['system:kube-dns'], '--address', network.gateway, '--port', String(dnsPort),
      '--cluster-ip', CLUSTER_DNS, '--instance', opts.nodeName, '--node-name', opts.nodeName,
    ]);
    say(`started dns (pid ${dns.child.pid}) on ${network.gateway}${dnsPort ? `:${dnsPort}` : ' (a free port)'}, behind ${CLUSTER_DNS}:53, log ${shown(dns.logFile)}`);
    const proxy = cluster.start('proxy', ['--kubeconfig', creds.kubeconfigs['system:kube-proxy'], '--node-name', opts.nodeName, '--network', networkName]);
    say(`started proxy (pid ${proxy.child.pid}) for pods on ${network.cidr}, log ${shown(proxy.logFile)}`);
  } else {
    say('not root (or nft missing): no service proxy and no cluster DNS, so cluster IPs and service names do not work from pods; run npm start as root for them');
  }
  const agentArgs = [
    '--kubeconfig', creds.kubeconfigs[`system:node:${opts.nodeName}`], '--node-name', opts.nodeName, '--runtime', 'docker',
    // The API server proxies pod logs to the agent: keep that on loopback.
    '--address', '127.0.0.1', '--port', String(agentPort), '--allow-privileged=true',
  ];
  if (opts.network) agentArgs.push('--network', opts.network);
  if (services) agentArgs.push('--cluster-dns', CLUSTER_DNS);
  const agentStartedAt = Date.now();
  const agent = cluster.start('agent', agentArgs);
  say(`started agent (pid ${agent.child.pid}) as node ${opts.nodeName}, log ${shown(agent.logFile)}`);

  const nodeUrl = `${server}/api/v1/nodes/${encodeURIComponent(opts.nodeName)}`;
  const ready = await waitUntil(cluster, `node ${opts.nodeName} is not Ready (see ${shown(agent.logFile)})`, READY_TIMEOUT_MS, async () =>
    nodeReady((await getJson(nodeUrl, creds)).body, agentStartedAt),
  );
  if (!ready) return;
  say(`cluster ready: node ${opts.nodeName} is Ready (${((Date.now() - startedAt) / 1000).toFixed(1)} s after start)`);
  const cfg = shown(kubeconfig);
  const peactl = 'npx peactl';
  process.stdout.write(
    [
      '',
      'Use it:',
      `  ${peactl} --kubeconfig ${cfg} get nodes`,
      `  kubectl --kubeconfig ${cfg} get nodes`,
      `  export KUBECONFIG=${path.resolve(kubeconfig)}   # then plain peactl / kubectl`,
      `  ${peactl} --kubeconfig ${cfg} dashboard   # the web dashboard: prints the link to open in a browser`,
      ...(services
        ? [
            `  ${peactl} --kubeconfig ${cfg} get endpoints -A   # services and the pods behind them; from a pod: wget -qO- http://NAME.NAMESPACE/`,
            `  (cluster IPs and node ports on ${network.gateway} reach pods; names resolve through the cluster DNS at ${CLUSTER_DNS})`,
          ]
        : []),
      'Ctrl-C stops the cluster and removes its pod containers; npm start again reuses the data.',
      '',
    ].join('\n'),
  );
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
