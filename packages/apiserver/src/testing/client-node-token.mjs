// @kubernetes/client-node against argv[2] with the admin token argv[3]: requests a token for
// the service account default/robot, then lists pods with it; prints one JSON line.
import { clientNodeFor } from './client-node-config.mjs';

const [server, adminToken] = process.argv.slice(2);
const coreApi = (token) => clientNodeFor(server, token).core;

const namespace = 'default';
const result = {};
const created = await coreApi(adminToken).createNamespacedServiceAccountToken({ name: 'robot', namespace, body: { spec: {} } });
result.audiences = created.spec.audiences;
result.hasToken = created.status.token.split('.').length === 3;
try {
  await coreApi(created.status.token).listNamespacedPod({ namespace });
  result.asServiceAccount = 'allowed';
} catch (err) {
  result.asServiceAccount = err.code;
}
process.stdout.write(JSON.stringify(result) + '\n');
