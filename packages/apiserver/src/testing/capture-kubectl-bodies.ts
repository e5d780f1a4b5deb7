// Captures the protobuf bodies the real kubectl sends: the fixtures of @peapod/api's codec
// tests (its bytes must equal these; kubectl-protobuf.test.ts checks that kubectl still
// sends them, and rewrites the fixture file with UPDATE_KUBECTL_FIXTURES=1). It starts an
// API server, puts a recording proxy in front of it, runs kubectl commands through it, and
// keeps each protobuf request body beside the JSON of the object kubectl meant: for
// `create` commands kubectl's own `--dry-run=client -o json`, for the others written here.
// (drain's evictions go as JSON; its deletes carry a protobuf DeleteOptions.)

import fs from 'fs';
import path from 'path';
import { removeDir, startApiServer } from '@peapod/client/testing';
import { kubectlFor } from './kubectl';
import { recordingProxy } from './recording-proxy';

export interface KubectlBodyFixture {
  name: string;
  command: string[];
  method: string;
  path: string;
  /** base64 of the request body kubectl sent */
  body: string;
  /** the object kubectl meant */
  json: Record<string, unknown>;
}

/** Runs the kubectl commands and returns what they sent. */
export async function captureKubectlBodies(): Promise<KubectlBodyFixture[]> {
  const api = await startApiServer();
  const proxy = await recordingProxy(api.port);
  const captured = proxy.requests;
  const kubectl = kubectlFor(proxy.url);
  const fixtures: KubectlBodyFixture[] = [];
  try {
    const post = async (p: string, body: unknown) => {
      const r = await fetch(api.url + p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (r.status !== 201) throw new Error(`POST ${p}: ${r.status} ${await r.text()}`);
    };
    await post('/api/v1/nodes', { metadata: { name: 'n1' } });
    const binary = path.join(kubectl.home, 'blob.bin');
    fs.writeFileSync(binary, Buffer.from([0, 1, 2, 0xfe, 0xff]));

    const run = async (name: string, command: string[], json: () => Promise<Record<string, unknown>> | Record<string, unknown>) => {
      const before = captured.length;
      const r = await kubectl.runAsync(command);
      const body = captured.slice(before).find((c) => c.contentType.startsWith('application/vnd.kubernetes.protobuf'));
      if (!body) throw new Error(`kubectl ${command.join(' ')} sent no protobuf body: ${r.stderr}`);
      // The command as recorded names kubectl's temporary home by its role, so the fixture does not change from run to run.
      const shown = command.map((arg) => arg.split(kubectl.home).join('$KUBECTL_HOME'));
      fixtures.push({ name, command: shown, method: body.method, path: body.url.split('?')[0], body: body.body.toString('base64'), json: await json() });
    };
    const dryRun = (command: string[]) => async () => {
      const r = await kubectl.runAsync([...command, '--dry-run=client', '-o', 'json']);
      if (r.code !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const creates: [string, string[]][] = [
      ['Namespace', ['create', 'namespace', 'x']],
      ['ConfigMap', ['create', 'configmap', 'settings', '--from-literal=mode=fast', '--from-literal=level=3', `--from-file=blob=${binary}`]],
      ['Secret', ['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '--from-literal=password=s3cr3t\u00e9']],
      ['ServiceAccount', ['create', 'serviceaccount', 'robot']],
      ['Service', ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:https']],
    ];
    for (const [name, command] of creates) await run(name, command, dryRun(command));

    await post('/api/v1/namespaces/default/pods', { metadata: { name: 'p2' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } });
    // Without --disable-eviction drain evicts (JSON) now that pods/eviction is served.
    await run('DeleteOptions', ['drain', 'n1', '--force', '--disable-eviction', '--grace-period=7', '--timeout=5s'], () => ({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 7,
    }));
    await run('TokenRequest', ['create', 'token', 'robot', '--duration=1h', '--audience=api'], () => ({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: { audiences: ['api'], expirationSeconds: 3600 },
      status: { token: '' },
    }));
    await run('SelfSubjectAccessReview', ['auth', 'can-i', 'list', 'pods', '-n', 'kube-system'], () => ({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'kube-system', verb: 'list', resource: 'pods' } },
      status: { allowed: false },
    }));
    await run('SelfSubjectReview', ['auth', 'whoami'], () => ({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
      metadata: {},
      status: { userInfo: {} },
    }));
    return fixtures;
  } finally {
    proxy.close();
    kubectl.cleanup();
    await api.kill('SIGKILL');
    removeDir(api.dataDir);
  }
}
