// Drives @kubernetes/client-node against a server given as argv[2] with ConfigMaps, Secrets
// and ServiceAccounts; prints one JSON line.
import { clientNodeFor } from './client-node-config.mjs';

const { core } = clientNodeFor(process.argv[2]);
const namespace = 'default';
const result = {};

await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cn-config' }, data: { greeting: 'hello' }, binaryData: { raw: 'AQID' } } });
const cm = await core.readNamespacedConfigMap({ name: 'cn-config', namespace });
result.configMap = { data: cm.data, binaryData: cm.binaryData };

await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'cn-secret' }, stringData: { password: 'pw' } } });
const secret = await core.readNamespacedSecret({ name: 'cn-secret', namespace });
result.secret = { type: secret.type, data: secret.data, stringData: secret.stringData ?? null };
result.listedSecrets = (await core.listNamespacedSecret({ namespace })).items.map((s) => s.metadata.name);

await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'cn-robot' } } });
result.serviceAccount = (await core.readNamespacedServiceAccount({ name: 'cn-robot', namespace })).metadata.name;

cm.data = { greeting: 'bye' };
result.replaced = (await core.replaceNamespacedConfigMap({ name: 'cn-config', namespace, body: cm })).data;
await core.deleteNamespacedConfigMap({ name: 'cn-config', namespace });
try {
  await core.readNamespacedConfigMap({ name: 'cn-config', namespace });
  result.deleted = 'still there';
} catch (err) {
  result.deleted = err.code;
}
process.stdout.write(JSON.stringify(result) + '\n');
