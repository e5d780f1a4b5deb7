import type { Lease } from '@peapod/api';
import { leaderElectionConfig } from './flags';
import { checkLeaderElectionTimings, LeaderElector, runLeaderElected } from './leader-election';
import type { LeaderElectionConfig } from './leader-election';
import { createLogger } from './log';
import { Client } from './rest';
import { FakeApiServer } from './testing/fake-apiserver';
import { frontServer, type FrontServer } from './testing/http-server';
import { waitFor } from './testing/wait';

// Short timings keep the tests quick; their ratios are client-go's (15 s, 10 s, 2 s).
const timings = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };
const quiet = createLogger('test', { write: () => undefined });

interface Candidate {
  elector: LeaderElector;
  working: () => boolean;
  terms: () => number;
}

/** A candidate whose work records whether it is running. */
function candidate(client: Client, identity: string): Candidate {
  return candidateFor({ client, log: quiet, name: 'kube-scheduler', namespace: 'kube-system', identity, ...timings });
}

function candidateFor(cfg: LeaderElectionConfig): Candidate {
  const elector = new LeaderElector(cfg);
  let working = false;
  let terms = 0;
  elector.run(() => {
    working = true;
    terms++;
    return {
      stop: async () => {
        working = false;
      },
    };
  });
  return { elector, working: () => working, terms: () => terms };
}

describe('leader election', () => {
  let store: FakeApiServer;
  const clients: Client[] = [];
  const electors: LeaderElector[] = [];
  const fronts: FrontServer[] = [];
  const client = (server = store.url): Client => {
    const c = new Client({ server, timeoutMs: 5000 });
    clients.push(c);
    return c;
  };
  const lease = (): Promise<Lease> => client().get<Lease>('leases', 'kube-scheduler', { namespace: 'kube-system' });

  beforeEach(async () => {
    store = new FakeApiServer();
    await store.start();
  });
  afterEach(async () => {
    // Killed first: a frozen server would hold the candidates' last requests until their deadline.
    await Promise.all(fronts.splice(0).map((f) => f.kill()));
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    for (const c of clients.splice(0)) c.close();
    await store.stop();
  });

  it('lets one of two candidates work, and hands over at once on a clean stop', async () => {
    const a = candidate(client(), 'a');
    electors.push(a.elector);
    await waitFor('a leads', () => a.working());
    const b = candidate(client(), 'b');
    electors.push(b.elector);
    expect((await lease()).spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 2, leaseTransitions: 0 });
    // b keeps trying for longer than a lease lasts: a renews, so b never works.
    await new Promise((r) => setTimeout(r, timings.leaseDurationMs * 2));
    expect(b.working()).toBe(false);
    expect(b.elector.currentLeader).toBe('a');

    const stoppedAt = Date.now();
    await a.elector.stop();
    expect(a.working()).toBe(false);
    // Released: the lease names a no longer (no holder, or b already).
    expect((await lease()).spec?.holderIdentity).not.toBe('a');
    await waitFor('b leads', () => b.working(), 10_000, 20);
    // b took over without waiting for the lease (2 s as written) to run out.
    expect(Date.now() - stoppedAt).toBeLessThan(1500);
    expect((await lease()).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('stops the work of a leader that cannot renew, and lets another take over once the lease runs out', async () => {
    const front = await frontServer(store.url);
    const a = candidate(client(front.url), 'a');
    electors.push(a.elector);
    await waitFor('a leads', () => a.working());
    const b = candidate(client(), 'b');
    electors.push(b.elector);
    await waitFor('b has seen a lead', () => b.elector.currentLeader === 'a');

    const cutAt = Date.now();
    await front.kill();
    let bothWorked = false;
    await waitFor('b leads', () => {
      if (a.working() && b.working()) bothWorked = true;
      return b.working();
    }, 10_000, 5);
    // a gave up (its renew deadline is shorter than the lease) before b took over, which waited for the lease to run out.
    expect(bothWorked).toBe(false);
    expect(a.working()).toBe(false);
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(timings.leaseDurationMs);
    expect(a.elector.isLeader).toBe(false);
    expect((await lease()).spec?.holderIdentity).toBe('b');
  });

  it('on the flags\' client, moves off a server that stopped answering in time to renew, and the standby off it before the lease runs out', async () => {
    const front = await frontServer(store.url);
    fronts.push(front);
    const flags = {
      leaderElect: true,
      leaderElectLeaseDuration: timings.leaseDurationMs,
      leaderElectRenewDeadline: timings.renewDeadlineMs,
      leaderElectRetryPeriod: timings.retryPeriodMs,
      leaderElectResourceName: 'kube-scheduler',
      leaderElectResourceNamespace: 'kube-system',
    };
    // Both candidates start on the server that will hang, the other one second in their list.
    const configFor = (identity: string): LeaderElectionConfig => {
      const cfg = leaderElectionConfig(flags, { server: `${front.url},${store.url}` }, quiet);
      if (!cfg) throw new Error('no election configured');
      clients.push(cfg.client);
      return { ...cfg, identity };
    };
    const a = candidateFor(configFor('a'));
    electors.push(a.elector);
    await waitFor('a leads', () => a.working());
    const b = candidateFor(configFor('b'));
    electors.push(b.elector);
    await waitFor('b has seen a lead', () => b.elector.currentLeader === 'a');

    front.freeze();
    let aStopped = false;
    const until = Date.now() + timings.leaseDurationMs * 3;
    while (Date.now() < until) {
      if (!a.working()) aStopped = true;
      await new Promise((r) => setTimeout(r, 20));
    }
    // Without a deadline per request, a's renewal waits on the frozen server past its renew deadline.
    expect(aStopped).toBe(false);
    expect(a.terms()).toBe(1);
    expect(b.working()).toBe(false);
    expect((await lease()).spec?.holderIdentity).toBe('a');

    // b already asks the live server: a's clean stop hands over at once.
    const stoppedAt = Date.now();
    await a.elector.stop();
    await waitFor('b leads', () => b.working(), 10_000, 20);
    expect(Date.now() - stoppedAt).toBeLessThan(timings.leaseDurationMs);
  });

  it('without a configuration, runs the work at once', async () => {
    let running = false;
    const term = runLeaderElected(undefined, () => {
      running = true;
      return { stop: async () => void (running = false) };
    });
    expect(running).toBe(true);
    await term.stop();
    expect(running).toBe(false);
  });

  it('refuses timings that cannot work', () => {
    expect(() => checkLeaderElectionTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 })).toThrow(/longer than the renew deadline/);
    expect(() => checkLeaderElectionTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 2000, retryPeriodMs: 2000 })).toThrow(/1.2 times the retry period/);
    expect(() => checkLeaderElectionTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 })).not.toThrow();
  });
});
