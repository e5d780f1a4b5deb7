// Drives @kubernetes/client-node (ESM only, so it runs as its own process) against a server
// given as argv[2], printing one JSON line with what it saw.
import * as k8s from '@kubernetes/client-node';
import { clientNodeFor } from './client-node-config.mjs';

const { kc, core } = clientNodeFor(process.argv[2]);
const namespace = 'default';
const result = { events: [] };

const watch = new k8s.Watch(kc);
const watchDone = new Promise((resolve) => {
  watch
    .watch(
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (type, obj) => {
        result.events.push([type, obj.metadata.name]);
        if (type === 'DELETED') resolve();
      },
      () => resolve(),
    )
    .then((controller) => (result.controller = controller));
});
await new Promise((r) => setTimeout(r, 300));

const created = await core.createNamespacedPod({
  namespace,
  body: { metadata: { name: 'cn', labels: { app: 'cn' } }, spec: { containers: [{ name: 'c', image: 'peapod/busybox:latest' }] } },
});
result.createdUid = created.metadata.uid;
const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=cn' });
result.listed = list.items.map((p) => p.metadata.name);
const read = await core.readNamespacedPod({ name: 'cn', namespace });
result.readPhase = read.status.phase;
await core.patchNamespacedPod(
  { name: 'cn', namespace, body: { metadata: { labels: { patched: 'yes' } } } },
  k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
);
await core.deleteNamespacedPod({ name: 'cn', namespace });
try {
  await core.readNamespacedPod({ name: 'cn', namespace });
  result.afterDelete = 'still there';
} catch (err) {
  result.afterDelete = err.code;
}
await Promise.race([watchDone, new Promise((r) => setTimeout(r, 5000))]);
result.controller?.abort();
delete result.controller;
process.stdout.write(JSON.stringify(result) + '\n');
