// The seed's step 5, observed (seed/pods.md, "Termination of Pods"): a pod being deleted is
// taken out of its service's rotation at once, keeps serving what it already has, and keeps
// running until its grace period ends. Backends log every request (busybox httpd -vv, with
// Docker's timestamps); their server ignores TERM (it is PID 1 with no handler) and a preStop
// sleep holds them; a client pod requests in a loop through the cluster IP while one backend,
// which is answering slow requests at that moment, is deleted with a 30 s grace period.

import type { Pod, Service } from '@peapod/api';
import { ServiceCluster, allAnsweredAt, canRunServices, logStamp as stamp, requestLoop, shContainer, webContainer, sleep, waitFor } from '@peapod/client/testing';

jest.setTimeout(300_000);
const suite = canRunServices() ? describe : describe.skip;

suite('a backend deleted under load (seed step 5)', () => {
  const cluster = new ServiceCluster('term');
  const nodeA = cluster.node('a');
  const nodeB = cluster.node('b');
  const backends = ['web-a', 'web-b', 'web-c'];
  const grace = 30;
  let svc: Service;
  let client: Pod;

  beforeAll(async () => {
    await cluster.start();
    await cluster.addNode(nodeA);
    await cluster.addNode(nodeB);
    const backend = webContainer('web', 10, { lifecycle: { preStop: { sleep: { seconds: 25 } } } });
    svc = await cluster.api.create<Service>('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    const nodes = [nodeA, nodeB, nodeB];
    const pods = await Promise.all([
      ...backends.map((name, i) => cluster.runPod(name, nodes[i], [backend], { terminationGracePeriodSeconds: grace }, { app: 'web' })),
      cluster.runPod('client', nodeA, [requestLoop('client', `http://${svc.spec!.clusterIP}/`)]),
      cluster.runPod('prober', nodeB, [shContainer('prober', 'sleep 100000')]),
    ]);
    client = pods[3];
  });

  afterAll(async () => {
    const { tablesLeft } = await cluster.cleanup();
    expect(tablesLeft).toEqual([]);
  });

  it('loses not one request, sends the deleted backend nothing new after 1 s, and lets it run out its grace period', async () => {
    const ip = svc.spec!.clusterIP!;
    // The loop may start before any backend is in the rules, and is refused until then (as it
    // should be): requests count from the moment every backend had answered one.
    const servingSince = await waitFor('every backend answering the loop', () => allAnsweredAt(cluster.logs('client', 'client'), backends), 60_000, 500);
    // A few seconds of steady traffic before the delete, so that a blip around it would show.
    await sleep(servingSince + 3000 - Date.now());

    // Slow requests through the service; the victim is a backend that is answering one of them.
    const slow = cluster.exec('prober', 'prober', `for i in 1 2 3 4 5 6; do (timeout 30 wget -q -O - http://${ip}/cgi-bin/slow || echo "slow failed") & done; wait`, 120_000);
    const victim = await waitFor('a backend answering a slow request', () => backends.find((b) => cluster.logs(b, 'web').some((l) => l.includes('url:/cgi-bin/slow'))), 20_000, 200);
    const victimPod = await cluster.api.get<Pod>('pods', victim);
    const victimIP = victimPod.status!.podIP!;
    const deletedAt = Date.now();
    const deleted = await cluster.api.delete<Pod>('pods', victim);
    const deletionTimestamp = Date.parse(deleted.metadata.deletionTimestamp!);
    // When the victim's server stops: the container is removed soon after, so watch it.
    let finished = 0;
    const ended = waitFor(`${victim}'s container ended`, () => {
      const state = cluster.containerState(victim, 'web');
      if (state?.running) return false;
      finished = state?.finishedAt ?? Date.now();
      return true;
    }, (grace + 30) * 1000, 250);

    // Well into the grace period the victim still runs and answers whoever asks it directly.
    await sleep(20_000);
    const direct = await cluster.exec('prober', 'prober', `timeout 5 wget -q -O - http://${victimIP}/`);
    expect(direct.out.trim()).toBe(victim);
    const slowAnswers = (await slow).out.trim().split('\n');
    const victimRequests = cluster
      .logs(victim, 'web')
      .filter((l) => l.includes(`[::ffff:${client.status!.podIP}]`) && l.endsWith('url:/'))
      .map(stamp);
    await ended;
    await waitFor(`${victim} gone from the API`, async () => !(await cluster.api.list<Pod>('pods')).items.some((p) => p.metadata.name === victim), 60_000, 500);

    const lines = cluster.logs('client', 'client').filter((l) => stamp(l) >= Math.max(servingSince, deletedAt - 5000));
    const failed = lines.filter((l) => l.split(' ')[1] === 'fail');
    const lastToVictim = Math.max(...victimRequests);
    const report = {
      requestsCounted: lines.length,
      servingSinceMsBeforeTheDelete: deletedAt - servingSince,
      failedRequests: failed.length,
      failedAtMsAfterDelete: failed.map((l) => stamp(l) - deletedAt),
      victim,
      lastNewRequestToVictimAfterDeleteMs: lastToVictim - deletedAt,
      deletionTimestampAfterDeleteS: Math.round((deletionTimestamp - deletedAt) / 1000),
      victimRanAfterDeleteS: Number(((finished - deletedAt) / 1000).toFixed(1)),
      slowRequestsInFlightToVictim: slowAnswers.filter((a) => a === `slow ${victim}`).length,
      slowRequestsFailed: slowAnswers.filter((a) => a === 'slow failed').length,
    };
    process.stdout.write(`seed step 5: ${JSON.stringify(report, null, 2)}\n`);

    expect(failed).toEqual([]);
    expect(lastToVictim - deletedAt).toBeLessThanOrEqual(1000);
    expect(report.slowRequestsInFlightToVictim).toBeGreaterThan(0);
    expect(report.slowRequestsFailed).toBe(0);
    // It ran out its grace period (TERM ignored, preStop sleeping), then was killed.
    expect(finished).toBeGreaterThanOrEqual(deletedAt + (grace - 1) * 1000);
    expect(finished).toBeLessThan(deletedAt + (grace + 15) * 1000);
  });
});
