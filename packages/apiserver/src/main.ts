#!/usr/bin/env node
import fs from 'fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger, durationOption, flagValue, logEventLoopStalls, logLevelOption, stopOnSignals } from '@peapod/client';
import type { LogLevel } from '@peapod/client';
import { createApiServer, defaultFlowControl, defaultListenerCopies, EtcdOptions, type FlowControlFlags } from './server';
import { bootstrapCluster } from './pki/bootstrap';
import { parseEncryptionConfig } from './storage/encryption';
import type { Compression } from './storage/compression';

interface ServeFlags {
  port: number;
  bind: string;
  dataDir: string;
  allowPrivileged: boolean;
  /** milliseconds */
  eventTtl: number;
  logLevel?: LogLevel;
  tokenAuthFile?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  maxWatchesPerClient: number;
  agentClientTokenFile?: string;
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
  advertiseAddress?: string;
  endpointReconcilerType: 'lease' | 'none';
  encryptionProviderConfig?: string;
  serviceAccountSigningKeyFile?: string;
  serviceAccountKeyFile: string[];
  serviceAccountIssuer?: string;
  apiAudiences?: string[];
  serviceAccountExtendTokenExpiration: boolean;
  storageBackend: 'sqlite' | 'etcd3';
  etcdServers?: string[];
  etcdPrefix: string;
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
  etcdCompression: Compression;
  /** milliseconds */
  shutdownDelayDuration: number;
  enablePriorityAndFairness: boolean;
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
}

function parseBackend(v: string): 'sqlite' | 'etcd3' {
  if (v !== 'sqlite' && v !== 'etcd3') throw new InvalidArgumentError('expected sqlite or etcd3');
  return v;
}

/** The etcd options of the flags, with the TLS files read; undefined for SQLite. */
function etcdOptions(opts: ServeFlags): EtcdOptions | undefined {
  if (opts.storageBackend === 'sqlite') {
    if (opts.etcdServers) throw new Error('--etcd-servers needs --storage-backend etcd3');
    return undefined;
  }
  if (!opts.etcdServers?.length) throw new Error('--storage-backend etcd3 needs --etcd-servers');
  if (!!opts.etcdCertfile !== !!opts.etcdKeyfile) throw new Error('--etcd-certfile and --etcd-keyfile go together');
  const read = (file: string | undefined) => (file ? fs.readFileSync(file) : undefined);
  const tls = opts.etcdCafile ? { ca: read(opts.etcdCafile), cert: read(opts.etcdCertfile), key: read(opts.etcdKeyfile) } : undefined;
  return { servers: opts.etcdServers, prefix: opts.etcdPrefix, tls, compression: opts.etcdCompression };
}

function flowControlFlags(opts: ServeFlags): FlowControlFlags {
  const { enablePriorityAndFairness, maxRequestsInflight, maxMutatingRequestsInflight } = opts;
  if (enablePriorityAndFairness && maxRequestsInflight + maxMutatingRequestsInflight < 1) {
    throw new Error('with --enable-priority-and-fairness, --max-requests-inflight and --max-mutating-requests-inflight are the seats of every priority level: together at least 1');
  }
  return { priorityAndFairness: enablePriorityAndFairness, maxRequestsInflight, maxMutatingRequestsInflight };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function serve(opts: ServeFlags): Promise<void> {
  if (!!opts.tlsCertFile !== !!opts.tlsPrivateKeyFile) throw new Error('--tls-cert-file and --tls-private-key-file go together');
  const tls = opts.tlsCertFile ? { cert: fs.readFileSync(opts.tlsCertFile), key: fs.readFileSync(opts.tlsPrivateKeyFile!) } : undefined;
  // Start-up and shutdown are worth a line; requests are not (quiet by default).
  const log = createLogger('apiserver', opts.logLevel ? { level: opts.logLevel } : process.env.PEAPOD_LOG_LEVEL ? {} : { level: 'info' });
  const etcd = etcdOptions(opts);
  const api = createApiServer({
    dataDir: opts.dataDir,
    etcd,
    allowPrivileged: opts.allowPrivileged,
    eventTtlSeconds: Math.ceil(opts.eventTtl / 1000),
    logger: log,
    tokenAuthFile: opts.tokenAuthFile,
    tls,
    maxWatchesPerClient: opts.maxWatchesPerClient,
    agentClientToken: opts.agentClientTokenFile ? fs.readFileSync(opts.agentClientTokenFile, 'utf8').trim() : undefined,
    serviceClusterIPRange: opts.serviceClusterIpRange,
    serviceNodePortRange: opts.serviceNodePortRange,
    advertiseAddress: opts.advertiseAddress,
    endpointReconcilerType: opts.endpointReconcilerType,
    encryption: opts.encryptionProviderConfig ? parseEncryptionConfig(fs.readFileSync(opts.encryptionProviderConfig, 'utf8'), opts.encryptionProviderConfig) : undefined,
    serviceAccounts: {
      signingKeyFile: opts.serviceAccountSigningKeyFile,
      keyFiles: opts.serviceAccountKeyFile,
      issuer: opts.serviceAccountIssuer,
      apiAudiences: opts.apiAudiences,
      extendTokenExpiration: opts.serviceAccountExtendTokenExpiration,
    },
    shutdownDelayMs: opts.shutdownDelayDuration,
    flowControl: flowControlFlags(opts),
    listenerCopies: defaultListenerCopies,
  });
  const port = await api.listen(opts.port, opts.bind);
  log.info('listening', {
    address: `${tls ? 'https' : 'http'}://${opts.bind}:${port}`,
    storage: etcd ? `etcd3 ${etcd.servers.join(',')} ${opts.etcdPrefix}` : `sqlite ${opts.dataDir}`,
    revision: api.store.cache.revision,
    authentication: opts.tokenAuthFile ? 'token file' : 'none',
    encryptionAtRest: opts.encryptionProviderConfig ? 'on' : 'off',
  });
  // Its timer does not keep the process up.
  logEventLoopStalls(log);
  stopOnSignals({ log, stop: () => api.close() });
}

const program = new Command('peapod-apiserver').description('The Peapod API server: Kubernetes core/v1 over HTTP(S), stored in SQLite or etcd');

program
  .command('serve', { isDefault: true })
  .description('run the API server (the default command)')
  .option('--port <port>', 'port to listen on (0 picks a free one)', flagValue.port, 6443)
  .option('--bind <address>', 'address to listen on', '127.0.0.1')
  .option('--data-dir <dir>', 'directory for the SQLite database and generated keys', './data/apiserver')
  .option('--storage-backend <backend>', 'where objects are stored: sqlite (in --data-dir) or etcd3 (--etcd-servers)', parseBackend, 'sqlite')
  .option('--etcd-servers <urls>', 'comma-separated client URLs of the etcd members (with --storage-backend etcd3)', flagValue.list)
  .option('--etcd-prefix <prefix>', 'the prefix of every key in etcd', '/registry')
  .option('--etcd-cafile <file>', 'PEM CA that signed the etcd members\' certificates (https etcd)')
  .option('--etcd-certfile <file>', 'PEM client certificate presented to etcd')
  .option('--etcd-keyfile <file>', 'PEM key of --etcd-certfile')
  .addOption(new Option('--etcd-compression <compression>', 'how values are kept in etcd: gzip (JSON gzipped) or none (JSON); either is read').choices(['gzip', 'none']).default('gzip'))
  .option('--allow-privileged <bool>', 'accept pods with privileged containers', flagValue.bool, true)
  .addOption(durationOption('--event-ttl <duration>', 'how long events are kept (a Go duration: 1h, 90m; a bare number is seconds)', '1h', { bareSeconds: true }))
  .option('--token-auth-file <file>', 'bearer tokens (CSV: token,user,uid,"group1,group2"); without it there is no authentication')
  .option('--tls-cert-file <file>', 'PEM certificate: serve HTTPS')
  .option('--tls-private-key-file <file>', 'PEM private key of --tls-cert-file')
  .option('--max-watches-per-client <n>', 'open watches one client may hold', flagValue.count, 100)
  .option('--enable-priority-and-fairness <bool>', 'API Priority and Fairness: with authentication, requests wait their turn in priority levels by who sends them, the excess answered 429 (false: only the two in-flight caps)', flagValue.bool, defaultFlowControl.priorityAndFairness)
  .option('--max-requests-inflight <n>', 'requests at once: with priority and fairness, seats shared by the priority levels with the next flag\'s; without, the cap on reads (0: none)', flagValue.count, defaultFlowControl.maxRequestsInflight)
  .option('--max-mutating-requests-inflight <n>', 'writes at once: with priority and fairness, added to the seats; without, the cap on writes (0: none)', flagValue.count, defaultFlowControl.maxMutatingRequestsInflight)
  .option('--agent-client-token-file <file>', 'a file holding the token the API server presents to node agents (logs)')
  .option('--service-cluster-ip-range <cidr>', 'IPv4 CIDR of service cluster IPs; its first address is the kubernetes service\'s', '10.96.0.0/16')
  .option('--service-node-port-range <range>', 'ports NodePort services get, FROM-TO', '30000-32767')
  .option('--advertise-address <ip>', 'the address the kubernetes service\'s endpoints give for this server (default: --bind, or the host\'s address when that is 0.0.0.0)', flagValue.ipv4)
  .addOption(
    new Option('--endpoint-reconciler-type <type>', "lease: hold a lease in kube-system; the kubernetes service's endpoints are every API server holding a fresh one. none: no lease, endpoints left alone")
      .choices(['lease', 'none'])
      .default('lease'),
  )
  .option('--encryption-provider-config <file>', "an EncryptionConfiguration (apiserver.config.k8s.io/v1): the resources encrypted at rest and their providers")
  .option('--service-account-signing-key-file <file>', 'PEM private key (RSA or EC P-256) that signs service account tokens (default: one generated into --data-dir)')
  .option('--service-account-key-file <file>', 'PEM keys that service account tokens may also be verified with (repeatable)', collect, [])
  .option('--service-account-issuer <url>', 'the issuer (iss) of service account tokens', 'https://kubernetes.default.svc.cluster.local')
  .option('--api-audiences <list>', 'comma-separated audiences the API accepts tokens for (default: the issuer)', flagValue.list)
  .option('--service-account-extend-token-expiration <bool>', 'tokens mounted in pods live a year and warn after their hour, as in Kubernetes', flagValue.bool, true)
  .addOption(
    durationOption(
      '--shutdown-delay-duration <duration>',
      'on SIGTERM, /readyz fails at once but requests are served this long before the server stops, so that load balancers move away first',
      '0s',
    ),
  )
  .addOption(logLevelOption('info'))
  .showHelpAfterError()
  .action((opts: ServeFlags) => serve(opts));

program
  .command('bootstrap')
  .description('write a CA, the server certificate, a token per identity and their kubeconfigs (kept if present)')
  .requiredOption('--dir <dir>', 'where to write them')
  .requiredOption('--server <url>', 'the URL components reach the API server at')
  .option('--admin-server <url>', 'the URL in admin.kubeconfig (default: --server)')
  .option('--hosts <list>', 'comma-separated names and IPs for the server certificate', flagValue.list, ['127.0.0.1', 'localhost'])
  .option('--nodes <list>', 'comma-separated node names that get a token and kubeconfig', flagValue.list, [])
  .showHelpAfterError()
  .action((opts: { dir: string; server: string; adminServer?: string; hosts: string[]; nodes: string[] }) => {
    const result = bootstrapCluster(opts);
    process.stdout.write(`${JSON.stringify({ dir: result.dir, created: result.created, kubeconfigs: result.kubeconfigs })}\n`);
  });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`peapod-apiserver: ${err.message}\n`);
  process.exit(1);
});
