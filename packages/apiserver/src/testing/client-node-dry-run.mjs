// Drives @kubernetes/client-node's dryRun: 'All' on every writing call against a server given
// as argv[2] (objects set up beforehand by the test), printing one JSON line: what each call
// answered and what the server held before and after.
import * as k8s from '@kubernetes/client-node';
import { clientNodeFor } from './client-node-config.mjs';

const { core } = clientNodeFor(process.argv[2]);
const namespace = 'default';
const dryRun = 'All';
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

async function held() {
  const pod = await core.readNamespacedPod({ name: 'cn', namespace });
  const rc = await core.readNamespacedReplicationController({ name: 'rc', namespace });
  return JSON.stringify([pod, rc]);
}

const before = await held();
const pod = await core.readNamespacedPod({ name: 'cn', namespace });
const answers = {};
const created = await core.createNamespacedPod({ namespace, dryRun, body: { metadata: { name: 'dry' }, spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } } });
answers.create = [created.metadata.name, created.spec.restartPolicy, created.metadata.resourceVersion ?? null];
const replaced = await core.replaceNamespacedPod({ name: 'cn', namespace, dryRun, body: { ...pod, metadata: { ...pod.metadata, labels: { app: 'other' } } } });
answers.replace = replaced.metadata.labels;
answers.mergePatch = (await core.patchNamespacedPod({ name: 'cn', namespace, dryRun, body: { metadata: { labels: { extra: 'yes' } } } }, merge)).metadata.labels;
answers.jsonPatch = (await core.patchNamespacedPod({ name: 'cn', namespace, dryRun, body: [{ op: 'remove', path: '/metadata/labels' }] }, jsonPatch)).metadata.labels ?? null;
answers.status = (await core.patchNamespacedPodStatus({ name: 'cn', namespace, dryRun, body: { status: { phase: 'Running' } } }, merge)).status.phase;
await core.createNamespacedPodBinding({ name: 'cn', namespace, dryRun, body: { metadata: { name: 'cn' }, target: { kind: 'Node', name: 'n1' } } });
answers.binding = 'ok';
const scale = await core.readNamespacedReplicationControllerScale({ name: 'rc', namespace });
answers.scale = (await core.replaceNamespacedReplicationControllerScale({ name: 'rc', namespace, dryRun, body: { ...scale, spec: { replicas: 9 } } })).spec.replicas;
// Declared to return a Status: only success shows.
await core.deleteNamespacedReplicationController({ name: 'rc', namespace, dryRun, propagationPolicy: 'Foreground' });
answers.deleteRc = 'ok';
answers.deletePod = (await core.deleteNamespacedPod({ name: 'cn', namespace, dryRun })).metadata.name;
// Declared to return a Status too.
await core.deleteCollectionNamespacedPod({ namespace, dryRun });
answers.deleteCollection = 'ok';
try {
  await core.createNamespacedPod({ namespace, dryRun: 'Everything', body: { metadata: { name: 'bad' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
  answers.unknownDryRun = 'accepted';
} catch (err) {
  answers.unknownDryRun = err.code;
}
const after = await held();
process.stdout.write(JSON.stringify({ answers, unchanged: before === after, dryPodExists: (await core.listNamespacedPod({ namespace })).items.some((p) => p.metadata.name === 'dry') }) + '\n');
