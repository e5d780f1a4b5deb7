// kubeconfig files as kubectl reads them: one file from --kubeconfig, else the
// colon-separated KUBECONFIG list merged (the first file to name a cluster, user or
// context wins, and the first current-context set wins), else ~/.kube/config.
// Relative file paths inside a file resolve against that file's directory.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { Client } from './rest';
import type { ClientOptions } from './rest';

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

export const noConfigurationMessage =
  'no server to talk to: pass --server URL (and --token TOKEN), or --kubeconfig FILE, or set KUBECONFIG';

export interface KubeconfigCluster {
  name: string;
  server?: string;
  /** Absolute path. */
  certificateAuthority?: string;
  /** Base64 PEM, as in the file. */
  certificateAuthorityData?: string;
  insecureSkipTLSVerify?: boolean;
}

export interface KubeconfigUser {
  name: string;
  token?: string;
  /** Absolute path. */
  tokenFile?: string;
  clientCertificate?: string;
  clientCertificateData?: string;
  clientKey?: string;
  clientKeyData?: string;
}

export interface KubeconfigContext {
  name: string;
  cluster?: string;
  user?: string;
  namespace?: string;
}

interface ParsedFile {
  clusters: KubeconfigCluster[];
  users: KubeconfigUser[];
  contexts: KubeconfigContext[];
  currentContext?: string;
}

export class KubeConfig {
  readonly clusters = new Map<string, KubeconfigCluster>();
  readonly users = new Map<string, KubeconfigUser>();
  readonly contexts = new Map<string, KubeconfigContext>();
  /** current-context as the files set it. */
  readonly currentContext: string;
  /** The context in use: the one asked for, else current-context. */
  readonly contextName: string;
  /** The files read, in merge order. */
  readonly files: string[];

  constructor(files: string[], parsed: ParsedFile[], contextOverride?: string) {
    this.files = files;
    let current = '';
    for (const p of parsed) {
      for (const c of p.clusters) if (!this.clusters.has(c.name)) this.clusters.set(c.name, c);
      for (const u of p.users) if (!this.users.has(u.name)) this.users.set(u.name, u);
      for (const c of p.contexts) if (!this.contexts.has(c.name)) this.contexts.set(c.name, c);
      if (current === '' && p.currentContext) current = p.currentContext;
    }
    this.currentContext = current;
    this.contextName = contextOverride ?? current;
    if (contextOverride !== undefined && !this.contexts.has(contextOverride)) {
      throw new KubeconfigError(`context "${contextOverride}" was not found in the kubeconfig`);
    }
  }

  get context(): KubeconfigContext | undefined {
    return this.contexts.get(this.contextName);
  }

  get cluster(): KubeconfigCluster | undefined {
    const name = this.context?.cluster;
    return name !== undefined ? this.clusters.get(name) : undefined;
  }

  get user(): KubeconfigUser | undefined {
    const name = this.context?.user;
    return name !== undefined ? this.users.get(name) : undefined;
  }

  /** The context's namespace, 'default' if it sets none. */
  get namespace(): string {
    const ns = this.context?.namespace;
    return ns !== undefined && ns !== '' ? ns : 'default';
  }

  /** Connection settings of the context in use; reads the files it refers to. */
  clientOptions(): ClientOptions {
    if (this.contexts.size === 0 && this.clusters.size === 0 && this.contextName === '') throw new KubeconfigError(noConfigurationMessage);
    const context = this.context;
    if (context === undefined) {
      throw new KubeconfigError(
        this.contextName === ''
          ? `the kubeconfig sets no current-context (${this.files.join(', ')}); pass --context NAME`
          : `context "${this.contextName}" was not found in the kubeconfig`,
      );
    }
    const cluster = this.cluster;
    if (cluster === undefined) {
      throw new KubeconfigError(`cluster "${context.cluster ?? ''}" of context "${context.name}" was not found in the kubeconfig`);
    }
    if (cluster.server === undefined || cluster.server === '') {
      throw new KubeconfigError(`cluster "${cluster.name}" in the kubeconfig has no server`);
    }
    const opts: ClientOptions = { server: cluster.server };
    const ca = pemFrom(cluster.certificateAuthorityData, cluster.certificateAuthority);
    if (ca !== undefined) opts.ca = ca;
    if (cluster.insecureSkipTLSVerify) opts.insecureSkipTLSVerify = true;
    const user = this.user;
    if (user !== undefined) {
      if (user.token !== undefined && user.token !== '') opts.token = user.token;
      else if (user.tokenFile !== undefined) opts.token = readConfigFile(user.tokenFile).toString('utf8').trim();
      const cert = pemFrom(user.clientCertificateData, user.clientCertificate);
      const key = pemFrom(user.clientKeyData, user.clientKey);
      if (cert !== undefined) opts.cert = cert;
      if (key !== undefined) opts.key = key;
    }
    return opts;
  }
}

function readConfigFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new KubeconfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function pemFrom(data: string | undefined, file: string | undefined): Buffer | undefined {
  if (data !== undefined && data !== '') return Buffer.from(data, 'base64');
  if (file !== undefined && file !== '') return readConfigFile(file);
  return undefined;
}

// --- parsing ---

type Raw = Record<string, unknown>;

function isRecord(x: unknown): x is Raw {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

function named(list: unknown, field: string): { name: string; body: Raw }[] {
  if (!Array.isArray(list)) return [];
  const out: { name: string; body: Raw }[] = [];
  for (const entry of list) {
    if (!isRecord(entry) || typeof entry.name !== 'string') continue;
    out.push({ name: entry.name, body: isRecord(entry[field]) ? entry[field] : {} });
  }
  return out;
}

function parseKubeconfigText(text: string, file: string): ParsedFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new KubeconfigError(`cannot parse kubeconfig ${file}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return { clusters: [], users: [], contexts: [] };
  if (!isRecord(doc)) throw new KubeconfigError(`cannot parse kubeconfig ${file}: not a mapping`);
  const dir = path.dirname(file);
  const resolve = (p: unknown): string | undefined => {
    const s = str(p);
    return s === undefined || s === '' ? undefined : path.resolve(dir, s);
  };
  return {
    clusters: named(doc.clusters, 'cluster').map(({ name, body }) => ({
      name,
      server: str(body.server),
      certificateAuthority: resolve(body['certificate-authority']),
      certificateAuthorityData: str(body['certificate-authority-data']),
      insecureSkipTLSVerify: body['insecure-skip-tls-verify'] === true || body['insecure-skip-tls-verify'] === 'true',
    })),
    users: named(doc.users, 'user').map(({ name, body }) => ({
      name,
      token: str(body.token),
      tokenFile: resolve(body.tokenFile),
      clientCertificate: resolve(body['client-certificate']),
      clientCertificateData: str(body['client-certificate-data']),
      clientKey: resolve(body['client-key']),
      clientKeyData: str(body['client-key-data']),
    })),
    contexts: named(doc.contexts, 'context').map(({ name, body }) => ({
      name,
      cluster: str(body.cluster),
      user: str(body.user),
      namespace: str(body.namespace),
    })),
    currentContext: str(doc['current-context']),
  };
}

export interface LoadKubeconfigOptions {
  /** An explicit file (--kubeconfig); it must exist. */
  path?: string;
  /** Use this context instead of current-context. */
  context?: string;
  /** Defaults to process.env (KUBECONFIG, HOME) and os.homedir(); tests pass their own. */
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
}

/** The files to read, in merge order. */
export function kubeconfigFiles(opts: LoadKubeconfigOptions = {}): string[] {
  if (opts.path !== undefined && opts.path !== '') {
    const file = path.resolve(opts.path);
    if (!fs.existsSync(file)) throw new KubeconfigError(`kubeconfig file ${opts.path} does not exist`);
    return [file];
  }
  const env = opts.env ?? process.env;
  const list = env.KUBECONFIG;
  if (list !== undefined && list !== '') {
    const seen = new Set<string>();
    const files: string[] = [];
    for (const entry of list.split(path.delimiter)) {
      if (entry === '') continue;
      const file = path.resolve(entry);
      // As kubectl does, files in the list that do not exist are skipped.
      if (seen.has(file) || !fs.existsSync(file)) continue;
      seen.add(file);
      files.push(file);
    }
    return files;
  }
  const homeDir = opts.homeDir ?? (env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir());
  const home = path.join(homeDir, '.kube', 'config');
  return fs.existsSync(home) ? [home] : [];
}

export function loadKubeconfig(opts: LoadKubeconfigOptions = {}): KubeConfig {
  const files = kubeconfigFiles(opts);
  const parsed = files.map((f) => parseKubeconfigText(readConfigFile(f).toString('utf8'), f));
  return new KubeConfig(files, parsed, opts.context);
}

export interface WriteKubeconfigOptions {
  server: string;
  token?: string;
  /** The CA as PEM (string or Buffer) or as base64 of PEM. */
  caData?: string | Buffer;
  namespace?: string;
  /** Name of the cluster, user and context; default 'peapod'. */
  name?: string;
}

/** Writes a one-context kubeconfig (mode 0600) that kubectl and loadKubeconfig read. */
export function writeKubeconfig(file: string, opts: WriteKubeconfigOptions): void {
  const name = opts.name ?? 'peapod';
  const cluster: Raw = { server: opts.server };
  if (opts.caData !== undefined) {
    const ca = opts.caData;
    const isPem = Buffer.isBuffer(ca) || ca.includes('-----BEGIN');
    cluster['certificate-authority-data'] = isPem ? Buffer.from(ca).toString('base64') : ca;
  }
  const user: Raw = {};
  if (opts.token !== undefined) user.token = opts.token;
  const context: Raw = { cluster: name, user: name };
  if (opts.namespace !== undefined) context.namespace = opts.namespace;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name, cluster }],
    users: [{ name, user }],
    contexts: [{ name, context }],
    'current-context': name,
  };
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // Written beside the target and renamed, so a reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, stringify(doc), { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

export interface ConnectionFlags {
  /** One URL, or several API servers of the cluster comma-separated. */
  server?: string;
  token?: string;
  kubeconfig?: string;
  namespace?: string;
  context?: string;
  /** PEM files, as kubectl's --certificate-authority, --client-certificate and --client-key. */
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  insecureSkipTlsVerify?: boolean;
}

/**
 * Connection settings from command-line flags over the kubeconfig, as kubectl combines
 * them: --server and --token override the context's cluster server and user token (its CA
 * and client certificate still apply); the TLS flags override the files the kubeconfig
 * names; --namespace overrides the context's namespace.
 */
export function optionsFromFlags(flags: ConnectionFlags): { options: ClientOptions; namespace: string } {
  const hasServer = flags.server !== undefined && flags.server !== '';
  const explicitConfig = flags.kubeconfig !== undefined || flags.context !== undefined;
  let kc: KubeConfig | undefined;
  try {
    kc = loadKubeconfig({ path: flags.kubeconfig, context: flags.context });
  } catch (err) {
    // With --server in hand, a broken kubeconfig found by default is no obstacle.
    if (!hasServer || explicitConfig) throw err;
  }
  let fromConfig: ClientOptions | undefined;
  try {
    fromConfig = kc?.clientOptions();
  } catch (err) {
    if (!hasServer) throw err;
  }
  const configNamespace = kc?.context?.namespace;
  let options: ClientOptions;
  if (hasServer) options = { ...fromConfig, server: flags.server as string };
  else if (fromConfig !== undefined) options = fromConfig;
  else throw new KubeconfigError(noConfigurationMessage);
  if (flags.token !== undefined && flags.token !== '') options.token = flags.token;
  applyTLSFlags(options, flags);
  const ns = flags.namespace !== undefined && flags.namespace !== '' ? flags.namespace : configNamespace;
  return { options, namespace: ns !== undefined && ns !== '' ? ns : 'default' };
}

function applyTLSFlags(options: ClientOptions, flags: ConnectionFlags): void {
  const ca = flags.certificateAuthority;
  if (flags.insecureSkipTlsVerify === true) {
    if (ca !== undefined && ca !== '') throw new KubeconfigError('specifying a root certificates file with the insecure flag is not allowed');
    // As kubectl: skipping verification drops the kubeconfig's CA rather than contradicting it.
    delete options.ca;
    options.insecureSkipTLSVerify = true;
  } else if (flags.insecureSkipTlsVerify === false) {
    delete options.insecureSkipTLSVerify;
  }
  if (ca !== undefined && ca !== '') options.ca = readConfigFile(path.resolve(ca));
  if (flags.clientCertificate !== undefined && flags.clientCertificate !== '') options.cert = readConfigFile(path.resolve(flags.clientCertificate));
  if (flags.clientKey !== undefined && flags.clientKey !== '') options.key = readConfigFile(path.resolve(flags.clientKey));
}

export function clientFromFlags(flags: ConnectionFlags): { client: Client; namespace: string } {
  const { options, namespace } = optionsFromFlags(flags);
  return { client: new Client(options), namespace };
}
