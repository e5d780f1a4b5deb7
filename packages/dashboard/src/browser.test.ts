// The page in headless Chromium against a real cluster: API server (authentication on), a
// real agent on Docker, scheduler, controller manager, and the dashboard server. What a
// person would do: see the node and pods, follow a log, delete a pod with grace 10 and watch
// it go, scale a replication controller, cordon and uncordon the node, meet a 409 and a 403. A screenshot of each state goes
// to test-output/.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, Page } from 'puppeteer-core';
import type { Pod, ReplicationController } from '@peapod/api';
import { Client } from '@peapod/client';
import { DockerNode, busybox, hasDocker, startControllerManager, startScheduler } from '@peapod/client/testing';
import { startApiServer } from '@peapod/client/testing';
import type { RunningApiServer, RunningProcess } from '@peapod/client/testing';
import { startDashboard } from './server';
import type { RunningDashboard } from './server';
import { hasChromium, launchChromium, pageContent, screenshot } from './testing/browser';

const adminToken = `admin-${Date.now().toString(36)}-secret`;
const nodeToken = `node-${Date.now().toString(36)}-secret`;
const waitMs = 90_000;
jest.setTimeout(4 * waitMs);

// Chromium and Docker are installed by .ci/run (scripts/install-docker.sh, scripts/install-chromium.sh):
// in CI a missing browser fails the suite instead of skipping it.
const suite = hasDocker() && (hasChromium() || process.env.CI) ? describe : describe.skip;

suite('the dashboard in a browser, on a real cluster', () => {
  let dir: string;
  let api: RunningApiServer;
  let client: Client;
  const node = new DockerNode('dash');
  const processes: RunningProcess[] = [];
  let dash: RunningDashboard;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-dashboard-e2e-'));
    fs.writeFileSync(path.join(dir, 'tokens.csv'), `${adminToken},admin,admin-uid,"system:masters"\n${nodeToken},system:node:elsewhere,node-uid,"system:nodes"\n`);
    fs.writeFileSync(path.join(dir, 'agent-client.token'), adminToken);
    api = await startApiServer({
      args: ['--token-auth-file', path.join(dir, 'tokens.csv'), '--agent-client-token-file', path.join(dir, 'agent-client.token')],
      timeoutMs: 20_000,
    });
    const auth = ['--token', adminToken];
    await node.start(api.url, { args: auth });
    processes.push(startScheduler(api.url, auth), startControllerManager(api.url, auth));
    client = new Client({ server: api.url, token: adminToken });
    dash = await startDashboard({ client });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(dash.url);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await node.cleanup();
    client?.close();
    await api?.stop('SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const pods = () => page.$$eval('[data-pod]', (els) => els.map((e) => e.getAttribute('data-pod')));
  const openTab = async (tab: string) => {
    await page.click(`[data-tab=${tab}]`);
    await page.waitForSelector(`[data-view=${tab}]`);
  };

  it('lists the node and its pods', async () => {
    const victim: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'victim', namespace: 'default' },
      spec: {
        terminationGracePeriodSeconds: 30,
        containers: [
          {
            name: 'main',
            image: busybox,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', "trap 'echo got TERM; exit 0' TERM; echo started; while :; do sleep 1 & wait $!; done"],
            // Keeps the pod Terminating a few seconds, so its countdown shows.
            lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 4'] } } },
          },
        ],
      },
    };
    await client.create('pods', victim);
    await page.waitForFunction(() => document.querySelector('[data-pod="default/victim"] .chip')?.textContent === 'Running', { timeout: waitMs });
    expect(await pods()).toContain('default/victim');
    expect(await page.$eval(`[data-group="${node.nodeName}"]`, (e) => e.textContent)).toContain('Ready');
    await screenshot(page, '1-pods');
    await openTab('nodes');
    // The lease column reads "Ns ago" once agents renew node leases, "no lease" before.
    await page.waitForFunction((n) => /Ready.*cpu.*pods(.*ago|no lease)/.test(document.querySelector(`[data-node="${n}"]`)?.textContent ?? ''), { timeout: waitMs }, node.nodeName);
    await screenshot(page, '2-nodes');
  });

  it('follows the logs of a pod', async () => {
    await openTab('pods');
    await page.click('[data-pod="default/victim"]');
    await page.waitForSelector('[data-panel="default/victim"]');
    await page.click('.logs button');
    await page.waitForFunction(() => document.querySelector('[data-logs]')?.textContent?.includes('started'), { timeout: waitMs });
  });

  it('deletes a pod with grace 10: Terminating with a countdown, its timeline in order, gone when the agent is done', async () => {
    await page.click('[data-panel="default/victim"] .buttons button');
    await page.waitForSelector('.dialog input[name=grace]');
    await page.click('.dialog input[name=grace]', { count: 3 });
    await page.type('.dialog input[name=grace]', '10');
    await page.click('.dialog [data-action=apply]');
    await page.waitForSelector('.dialog [data-result]', { timeout: waitMs });
    expect(await page.$eval('.dialog [data-result]', (e) => e.textContent)).toMatch(/turned Terminating.*grace 10s/);
    await page.click('.dialog [data-action=close]');

    await page.waitForFunction(() => /\d+s left/.test(document.querySelector('[data-countdown-big]')?.textContent ?? ''), { timeout: waitMs });
    expect(await page.$eval('[data-pod="default/victim"] .chip', (e) => e.textContent)).toBe('Terminating');
    const first = await page.$eval('[data-countdown-big]', (e) => Number(/(\d+)s left/.exec(e.textContent ?? '')?.[1]));
    expect(first).toBeLessThanOrEqual(10);
    await page.waitForFunction((n) => Number(/(\d+)s left/.exec(document.querySelector('[data-countdown-big]')?.textContent ?? '')?.[1] ?? 99) < n, { timeout: waitMs }, first);
    await screenshot(page, '3-terminating');

    await page.waitForFunction(() => !document.querySelector('[data-pod="default/victim"]'), { timeout: waitMs });
    await page.waitForSelector('[data-timeline] [data-reason=Removed]', { timeout: waitMs });
    const timeline = await page.$$eval('[data-timeline] li', (els) => els.map((e) => ({ reason: e.getAttribute('data-reason') ?? '', at: Number(e.getAttribute('data-at')) })));
    const reasons = timeline.map((t) => t.reason);
    expect(reasons[reasons.length - 1]).toBe('Removed');
    expect(reasons.indexOf('Killing')).toBeGreaterThan(-1);
    // Events before the deletion (Scheduled, Started...) come first; then the deletion, the stop, the removal.
    expect(reasons.indexOf('Scheduled')).toBeLessThan(reasons.indexOf('Killing'));
    expect(reasons.indexOf('Killing')).toBeLessThan(reasons.indexOf('Removed'));
    for (let i = 1; i < timeline.length; i++) expect(Math.floor(timeline[i].at / 1000)).toBeGreaterThanOrEqual(Math.floor(timeline[i - 1].at / 1000));
    await screenshot(page, '4-removed');
  });

  it('scales a replication controller from the page: a preview, then the pods appear', async () => {
    const rc: ReplicationController = {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { app: 'web' },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: busybox, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
        },
      },
    };
    await client.create('replicationcontrollers', rc);
    await openTab('controllers');
    await page.waitForFunction(() => document.querySelector('[data-rc="default/web"] [data-ready]')?.textContent === '1', { timeout: waitMs });
    await page.click('[data-rc="default/web"] .actions button');
    await page.click('.dialog input[name=replicas]', { count: 3 });
    await page.type('.dialog input[name=replicas]', '3');
    await page.click('.dialog [data-action=preview]');
    await page.waitForSelector('.dialog [data-result].preview');
    expect(await page.$eval('.dialog [data-result]', (e) => e.textContent)).toContain('would be scaled from 1 to 3');
    await screenshot(page, '5-scale-preview');
    await page.click('.dialog [data-action=apply]');
    await page.waitForSelector('.dialog [data-result].done');
    expect(await page.$eval('.dialog [data-result]', (e) => e.textContent)).toContain('scaled from 1 to 3');
    await page.click('.dialog [data-action=close]');
    await page.waitForFunction(() => document.querySelector('[data-rc="default/web"] [data-ready]')?.textContent === '3', { timeout: waitMs });
    await screenshot(page, '6-scaled');
    await openTab('pods');
    await page.waitForFunction(() => document.querySelectorAll('[data-pod^="default/web-"]').length === 3, { timeout: waitMs });
    await screenshot(page, '7-scaled-pods');
  });

  it('shows a 409 from the API as its Status message', async () => {
    const [target] = (await pods()).filter((p) => p?.startsWith('default/web-')) as string[];
    await page.click(`[data-pod="${target}"] .actions button`);
    await page.waitForSelector('.dialog input[name=grace]');
    // Meanwhile the pod is replaced by another of the same name: the page's delete names the old uid.
    const name = target.split('/')[1];
    await client.delete('pods', name, { namespace: 'default', gracePeriodSeconds: 0 });
    await client.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: busybox, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } });
    await page.click('.dialog [data-action=apply]');
    await page.waitForSelector('.dialog [role=alert]', { timeout: waitMs });
    expect(await page.$eval('.dialog [role=alert]', (e) => e.textContent)).toMatch(/^Error from server \(Conflict\): .*precondition/i);
    await screenshot(page, '8-conflict');
    await page.click('.dialog [data-action=close]');
  });

  it('never shows a token or a Secret: the credentials stay in the server process', async () => {
    for (const tab of ['pods', 'nodes', 'services', 'controllers', 'events']) {
      await openTab(tab);
      const content = await pageContent(page);
      expect(content).not.toContain(adminToken);
      expect(content).not.toContain(nodeToken);
    }
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const secret = await page.evaluate(async () => {
      const res = await fetch('/api/v1/namespaces/default/secrets');
      return { status: res.status, body: await res.json() };
    });
    expect(secret).toMatchObject({ status: 403, body: { kind: 'Status', code: 403 } });
    await screenshot(page, '9-events');
  });

  it('cordons and uncordons the node from the page', async () => {
    await openTab('nodes');
    const row = `[data-node="${node.nodeName}"]`;
    await page.click(`${row} .actions button`);
    await page.click('.dialog [data-action=apply]');
    await page.waitForSelector('.dialog [data-result].done');
    expect(await page.$eval('.dialog [data-result]', (e) => e.textContent)).toContain(`node/${node.nodeName} cordoned`);
    await page.click('.dialog [data-action=close]');
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('cordoned'), { timeout: waitMs }, row);
    await screenshot(page, '11-cordoned');
    await page.click(`${row} .actions button`);
    await page.click('.dialog [data-action=apply]');
    await page.waitForSelector('.dialog [data-result].done');
    await page.click('.dialog [data-action=close]');
    await page.waitForFunction((sel) => !document.querySelector(sel)?.textContent?.includes('cordoned'), { timeout: waitMs }, row);
  });

  it('shows a 403 from the API as a message, not a blank page', async () => {
    // A dashboard whose credentials the API server refuses to list pods cluster-wide.
    const limited = new Client({ server: api.url, token: nodeToken });
    const other = await startDashboard({ client: limited });
    const p = await browser.newPage();
    try {
      await p.goto(other.url);
      await p.waitForSelector('[data-view=pods] .note.error', { timeout: waitMs });
      expect(await p.$eval('[data-view=pods] .note.error', (e) => e.textContent)).toMatch(/forbidden/i);
      expect(await p.$eval('.summary', (e) => e.textContent)).toMatch(/failing/);
      await screenshot(p, '10-forbidden');
    } finally {
      await p.close();
      await other.close();
      limited.close();
    }
  });
});
