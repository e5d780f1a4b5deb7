// The proxy killed outright under load, then started again: the kernel keeps the rules it
// wrote, so requests go on; what changed while it was down is in the rules once it is back,
// which are then the same as a fresh proxy writes (no duplicates); stopped for good, it
// leaves nothing behind.

import type { Pod, Service } from '@peapod/api';
import { ServiceCluster, allAnsweredAt, canRunServices, logStamp as stamp, nftTable, nftTables, requestLoop, webContainer, sleep, waitFor } from '@peapod/client/testing';

jest.setTimeout(300_000);
const suite = canRunServices() ? describe : describe.skip;

/**
 * A table's listing as a map from each chain, map and set to its content, so that two
 * listings compare whatever order nft lists objects in (the order they were made): a
 * chain's rules in order, a map's or set's elements sorted.
 */
function normalized(listing: string): Record<string, string[]> {
  const blocks: Record<string, string[]> = {};
  let current: string | undefined;
  for (const line of listing.split('\n')) {
    const open = /^\t(chain|map|set) (\S+) \{$/.exec(line);
    if (open) {
      current = `${open[1]} ${open[2]}`;
      blocks[current] = [];
    } else if (line === '\t}') {
      current = undefined;
    } else if (current && line.trim() !== '') {
      blocks[current].push(line.trim());
    }
  }
  for (const [name, lines] of Object.entries(blocks)) {
    if (name.startsWith('chain ')) continue;
    const [head, elements] = lines.join(' ').split('elements = {');
    blocks[name] = [head.trim(), ...(elements ?? '').replace(/\}\s*$/, '').split(',').map((e) => e.trim()).filter(Boolean).sort()];
  }
  return blocks;
}

/** The longest time between two successive successful requests within [from, to]. */
function longestGap(lines: string[], from: number, to: number): number {
  const ok = lines.filter((l) => l.split(' ')[1] === 'ok').map(stamp).filter((t) => t >= from && t <= to);
  let gap = 0;
  for (let i = 1; i < ok.length; i++) gap = Math.max(gap, ok[i] - ok[i - 1]);
  return gap;
}

suite('the proxy killed under load and started again', () => {
  const cluster = new ServiceCluster('restart');
  const node = cluster.node('a');
  const table = cluster.proxyTable(node);
  let svc: Service;
  let webB: Pod;

  beforeAll(async () => {
    await cluster.start();
    await cluster.addNode(node);
    svc = await cluster.api.create<Service>('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    [, webB] = await Promise.all([
      cluster.runPod('web-a', node, [webContainer()], {}, { app: 'web' }),
      cluster.runPod('web-b', node, [webContainer()], {}, { app: 'web' }),
      cluster.runPod('client', node, [requestLoop('client', `http://${svc.spec!.clusterIP}/`)]),
    ]);
    await waitFor('both backends answering', () => allAnsweredAt(cluster.logs('client', 'client'), ['web-a', 'web-b']) !== undefined, 60_000, 500);
  });

  afterAll(async () => {
    await cluster.cleanup();
  });

  it('keeps answering while it is down, and comes back to the same rules with no duplicates', async () => {
    const before = nftTable(table);
    const killedAt = Date.now();
    await cluster.nodes.get(node)!.proxy!.kill('SIGKILL');
    // The rules outlive the process.
    expect(nftTable(table)).toBe(before);
    await sleep(3000);
    const restartedAt = Date.now();
    await cluster.startProxy(node);
    await sleep(2000);
    const gapMs = longestGap(cluster.logs('client', 'client'), killedAt - 2000, Date.now());
    const after = nftTable(table);
    process.stdout.write(`proxy SIGKILLed and restarted ${restartedAt - killedAt} ms later: longest gap between answered requests ${gapMs} ms\n`);
    expect(gapMs).toBeLessThanOrEqual(2000);
    expect(normalized(after)).toEqual(normalized(before));
    for (const [name, lines] of Object.entries(normalized(after))) {
      if (name.startsWith('chain ')) expect({ name, lines: new Set(lines).size }).toEqual({ name, lines: lines.length });
    }
  });

  it('picks up what changed while it was down, as a fresh proxy writes it, and leaves nothing behind when stopped', async () => {
    const tablesBefore = nftTables();
    await cluster.nodes.get(node)!.proxy!.kill('SIGKILL');
    await cluster.api.delete('pods', 'web-b', { gracePeriodSeconds: 0 });
    await waitFor('web-b out of the slices', async () => {
      const slices = await cluster.api.list('endpointslices', { namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' });
      return !JSON.stringify(slices.items).includes(webB.status!.podIP!);
    });
    await cluster.startProxy(node);
    const convergedAt = Date.now();
    await sleep(2000);
    const restarted = nftTable(table);
    expect(restarted).not.toContain(webB.status!.podIP!);
    const answers = cluster.logs('client', 'client').filter((l) => stamp(l) > convergedAt + 500).map((l) => l.split(' ').slice(1).join(' '));
    expect(answers.length).toBeGreaterThan(0);
    expect(new Set(answers)).toEqual(new Set(['ok web-a']));

    // A proxy that starts on no table writes the same.
    await cluster.nodes.get(node)!.proxy!.kill('SIGTERM');
    expect(nftTable(table)).toBe('');
    await cluster.startProxy(node);
    expect(normalized(nftTable(table))).toEqual(normalized(restarted));

    await cluster.nodes.get(node)!.proxy!.kill('SIGTERM');
    const tablesAfter = nftTables();
    process.stdout.write(`nft tables while the proxy ran: ${tablesBefore.join(' ')}\nafter it stopped: ${tablesAfter.join(' ')}\n`);
    expect(tablesAfter).not.toContain(table);
    expect(tablesAfter.filter((t) => !tablesBefore.includes(t))).toEqual([]);
  });
});
