// Sends one pod create through @kubernetes/client-node to a server given as argv[2] with the
// token argv[3], and prints one JSON line: what the client let its caller see of the answer
// (its status code, the Status' reason and retryAfterSeconds, the Retry-After header), or the
// created pod's name.
import { clientNodeFor } from './client-node-config.mjs';

const { core } = clientNodeFor(process.argv[2], process.argv[3]);
try {
  const pod = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: process.argv[4] }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
  console.log(JSON.stringify({ created: pod.metadata.name }));
} catch (err) {
  const status = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  console.log(JSON.stringify({ code: err.code, kind: status?.kind, reason: status?.reason, retryAfterSeconds: status?.details?.retryAfterSeconds, retryAfter: err.headers?.['retry-after'] }));
}
