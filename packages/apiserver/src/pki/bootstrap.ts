import crypto from 'crypto';
import fs from 'fs';
import net from 'net';
import path from 'path';
import forge from 'node-forge';
import { writeKubeconfig } from '@peapod/client';
import { mastersGroup } from '../auth/authorizer';

export interface BootstrapOptions {
  dir: string;
  /** the URL components use to reach the API server (written into their kubeconfigs) */
  server: string;
  /** the URL written into admin.kubeconfig (the one people use from the host) */
  adminServer?: string;
  /** names and addresses the server certificate is valid for */
  hosts: string[];
  /** node names that get a token and a kubeconfig each */
  nodes: string[];
}

export interface BootstrapResult {
  dir: string;
  created: string[];
  caFile: string;
  certFile: string;
  keyFile: string;
  tokenFile: string;
  kubeconfigs: Record<string, string>;
  /** a file holding the token the API server presents to node agents */
  agentClientTokenFile: string;
}

const secretMode = 0o600;

function writeSecret(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: secretMode });
  fs.chmodSync(file, secretMode);
}

function serial(): string {
  // A positive 16-byte serial: the high bit cleared so DER does not read it as negative.
  const bytes = crypto.randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

/** An RSA key pair from Node's native crypto (forge's own generator is many times slower). */
function rsaKeys(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
  };
}

export function makeCa(): CertificateAndKey {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const subject = [{ name: 'commonName', value: 'peapod-ca' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey };
}

/** A certificate and its private key (a CA, or one it issued). */
export type CertificateAndKey = { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };

/** A certificate signed by ca, for serving (valid for hosts) and, with clientAuth, for a client presenting it. */
export function issueCertificate(ca: CertificateAndKey, commonName: string, hosts: string[], usage: { clientAuth?: boolean } = {}): CertificateAndKey {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: usage.clientAuth ?? false },
    { name: 'subjectAltName', altNames: hosts.map((h) => (net.isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { cert, key: keys.privateKey };
}

interface TokenEntry {
  token: string;
  user: string;
  uid: string;
  groups: string[];
  kubeconfig: string;
}

/**
 * Sets up a cluster's credentials once: a CA, the API server's certificate, a token per
 * identity (admin, scheduler, controller manager, service proxy, cluster DNS, each node) and a kubeconfig per
 * identity carrying the CA and token. Files that exist are kept, so a restart reuses them;
 * secrets are written mode 0600.
 */
export function bootstrapCluster(opts: BootstrapOptions): BootstrapResult {
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  const file = (name: string) => path.join(opts.dir, name);
  const caFile = file('ca.crt');
  const caKeyFile = file('ca.key');
  const certFile = file('apiserver.crt');
  const keyFile = file('apiserver.key');
  const tokenFile = file('tokens.csv');

  let ca: CertificateAndKey;
  if (fs.existsSync(caFile) && fs.existsSync(caKeyFile)) {
    ca = {
      cert: forge.pki.certificateFromPem(fs.readFileSync(caFile, 'utf8')),
      key: forge.pki.privateKeyFromPem(fs.readFileSync(caKeyFile, 'utf8')) as forge.pki.rsa.PrivateKey,
    };
  } else {
    ca = makeCa();
    fs.writeFileSync(caFile, forge.pki.certificateToPem(ca.cert));
    writeSecret(caKeyFile, forge.pki.privateKeyToPem(ca.key));
    created.push(caFile, caKeyFile);
  }
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) {
    const server = issueCertificate(ca, 'peapod-apiserver', opts.hosts);
    fs.writeFileSync(certFile, forge.pki.certificateToPem(server.cert));
    writeSecret(keyFile, forge.pki.privateKeyToPem(server.key));
    created.push(certFile, keyFile);
  }

  const existing = new Map<string, string>();
  if (fs.existsSync(tokenFile)) {
    for (const line of fs.readFileSync(tokenFile, 'utf8').split('\n')) {
      const [token, user] = line.split(',');
      if (token && user) existing.set(user, token);
    }
  }
  const identities: Omit<TokenEntry, 'token'>[] = [
    { user: 'admin', uid: 'admin', groups: [mastersGroup], kubeconfig: 'admin.kubeconfig' },
    { user: 'system:kube-scheduler', uid: 'scheduler', groups: [], kubeconfig: 'scheduler.kubeconfig' },
    { user: 'system:kube-controller-manager', uid: 'controller-manager', groups: [], kubeconfig: 'controller-manager.kubeconfig' },
    { user: 'system:apiserver', uid: 'apiserver', groups: [mastersGroup], kubeconfig: 'apiserver.kubeconfig' },
    { user: 'system:kube-proxy', uid: 'kube-proxy', groups: [], kubeconfig: 'kube-proxy.kubeconfig' },
    { user: 'system:kube-dns', uid: 'kube-dns', groups: [], kubeconfig: 'kube-dns.kubeconfig' },
    ...opts.nodes.map((n) => ({ user: `system:node:${n}`, uid: `node-${n}`, groups: ['system:nodes'], kubeconfig: `node-${n}.kubeconfig` })),
  ];
  const entries: TokenEntry[] = identities.map((id) => ({ ...id, token: existing.get(id.user) ?? crypto.randomBytes(24).toString('base64url') }));
  const csv = entries.map((e) => `${e.token},${e.user},${e.uid},"${e.groups.join(',')}"`).join('\n') + '\n';
  if (!fs.existsSync(tokenFile) || fs.readFileSync(tokenFile, 'utf8') !== csv) {
    writeSecret(tokenFile, csv);
    created.push(tokenFile);
  }

  const caPem = fs.readFileSync(caFile, 'utf8');
  const kubeconfigs: Record<string, string> = {};
  for (const e of entries) {
    const target = file(e.kubeconfig);
    const server = e.user === 'admin' ? (opts.adminServer ?? opts.server) : opts.server;
    writeKubeconfig(target, { server, token: e.token, caData: caPem, name: 'peapod' });
    kubeconfigs[e.user] = target;
  }
  const agentClientTokenFile = file('apiserver-agent-client.token');
  writeSecret(agentClientTokenFile, entries.find((e) => e.user === 'system:apiserver')!.token);
  return { dir: opts.dir, created, caFile, certFile, keyFile, tokenFile, kubeconfigs, agentClientTokenFile };
}
