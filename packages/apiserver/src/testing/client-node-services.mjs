// Drives @kubernetes/client-node's CoreV1Api on services against a server given as argv[2]:
// one of each type, a taken cluster IP, a delete and the address's reuse. Prints one JSON line.
import { clientNodeFor } from './client-node-config.mjs';

const { core } = clientNodeFor(process.argv[2]);
const namespace = 'default';
const result = {};

const body = (name, spec) => ({ metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec } });
const cip = await core.createNamespacedService({ namespace, body: body('cn-cip') });
result.clusterIP = cip.spec.clusterIP;
const np = await core.createNamespacedService({ namespace, body: body('cn-np', { type: 'NodePort' }) });
result.nodePort = np.spec.ports[0].nodePort;
const hl = await core.createNamespacedService({ namespace, body: body('cn-hl', { clusterIP: 'None' }) });
result.headless = hl.spec.clusterIP;
try {
  await core.createNamespacedService({ namespace, body: body('cn-taken', { clusterIP: result.clusterIP }) });
  result.taken = 'created';
} catch (err) {
  result.taken = { code: err.code, body: String(err.body) };
}
await core.deleteNamespacedService({ name: 'cn-cip', namespace });
try {
  await core.readNamespacedService({ name: 'cn-cip', namespace });
  result.afterDelete = 'still there';
} catch (err) {
  result.afterDelete = err.code;
}
const reused = await core.createNamespacedService({ namespace, body: body('cn-reuse', { clusterIP: result.clusterIP }) });
result.reused = reused.spec.clusterIP;
const list = await core.listNamespacedService({ namespace });
result.listed = list.items.map((s) => s.metadata.name);
process.stdout.write(JSON.stringify(result) + '\n');
