// Drives @kubernetes/client-node's lists in pages (limit and continue, with a change between
// pages and a token whose snapshot the server does not keep) and its Watch as a streaming list
// (sendInitialEvents), against a server given as argv[2] whose namespace `pages` holds the
// ConfigMaps cm-0 to cm-4. Prints one JSON line with what it saw.
import * as k8s from '@kubernetes/client-node';
import { clientNodeFor } from './client-node-config.mjs';

const { kc, core } = clientNodeFor(process.argv[2]);
const namespace = 'pages';
const names = (list) => list.items.map((c) => c.metadata.name + (c.data?.v === '2' ? '@2' : ''));
const result = {};

const first = await core.listNamespacedConfigMap({ namespace, limit: 2 });
await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cm-1a' } } });
await core.replaceNamespacedConfigMap({ name: 'cm-3', namespace, body: { metadata: { name: 'cm-3' }, data: { v: '2' } } });
const pages = [names(first)];
const versions = new Set([first.metadata.resourceVersion]);
for (let token = first.metadata._continue; token; ) {
  const page = await core.listNamespacedConfigMap({ namespace, limit: 2, _continue: token });
  pages.push(names(page));
  versions.add(page.metadata.resourceVersion);
  token = page.metadata._continue;
}
result.pages = pages;
result.oneResourceVersion = versions.size === 1;

const parsed = JSON.parse(Buffer.from(first.metadata._continue, 'base64url').toString());
const forged = (change) => Buffer.from(JSON.stringify({ ...parsed, ...change })).toString('base64url');
// A snapshot the server does not keep (another server's): on etcd read from etcd at its revision, on SQLite 410.
try {
  result.elsewhere = names(await core.listNamespacedConfigMap({ namespace, limit: 10, _continue: forged({ s: parsed.s + 1000 }) }));
} catch (err) {
  result.elsewhere = err.code;
}
// A revision no backend holds: 410 with a token that goes on inconsistently.
const stale = forged({ s: parsed.s + 1000, rv: parsed.rv + 1_000_000_000 });
try {
  await core.listNamespacedConfigMap({ namespace, limit: 10, _continue: stale });
  result.expired = 'answered';
} catch (err) {
  const status = JSON.parse(err.body);
  result.expired = [err.code, status.reason];
  result.rest = names(await core.listNamespacedConfigMap({ namespace, limit: 10, _continue: status.metadata.continue }));
}

// A streaming list: the current objects as ADDED, a bookmark that ends them, then changes.
const events = [];
const watch = new k8s.Watch(kc);
let bookmarked;
const bookmark = new Promise((resolve) => (bookmarked = resolve));
const controller = await watch.watch(
  `/api/v1/namespaces/${namespace}/configmaps`,
  { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true },
  (type, obj) => {
    if (type === 'BOOKMARK') {
      events.push([type, obj.metadata.annotations?.['k8s.io/initial-events-end'] ?? null]);
      bookmarked();
    } else events.push([type, obj.metadata.name]);
  },
  () => bookmarked(),
);
await Promise.race([bookmark, new Promise((r) => setTimeout(r, 5000))]);
await core.deleteNamespacedConfigMap({ name: 'cm-0', namespace });
for (let i = 0; i < 50 && events.length < 8; i++) await new Promise((r) => setTimeout(r, 100));
controller.abort();
result.events = events;
process.stdout.write(JSON.stringify(result) + '\n');
