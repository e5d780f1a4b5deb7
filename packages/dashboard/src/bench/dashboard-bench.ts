// `npm run bench -- dashboard`: the page in headless Chromium against a real API server
// holding 10,000 pods on 1,000 fake nodes. Time to first paint, time until the whole pod
// list is rendered, and the page's JS heap (after a garbage collection), each beside a
// baseline measured in the same run: a static HTML table of the same 10,000 rows, which
// the browser only has to parse and lay out (no script, no watches).

import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Node, Pod } from '@peapod/api';
import type { BenchFigure } from '@peapod/api/bench';
import { Client } from '@peapod/client';
import { startApiServer } from '@peapod/client/testing';
import type { Browser } from 'puppeteer-core';
import { startDashboard } from '../server';
import { launchChromium } from '../testing/browser';

export interface DashboardBenchOptions {
  pods?: number;
  nodes?: number;
  runs?: number;
  log?: (msg: string) => void;
}

interface Load {
  firstPaintMs: number;
  renderedMs: number;
  heapMiB: number;
}

function fakeNode(name: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      capacity: { cpu: '16', memory: '64Gi', pods: '110' },
      allocatable: { cpu: '16', memory: '64Gi', pods: '110' },
    },
  };
}

function benchPod(i: number, nodes: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-${i}`, namespace: 'default', labels: { app: 'bench' } },
    spec: { nodeName: `node-${i % nodes}`, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
  };
}

async function inParallel(count: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The baseline page: the same rows as a plain table, served from loopback. */
async function serveStaticTable(pods: Pod[]): Promise<{ url: string; close(): Promise<void> }> {
  const rows = pods
    .map((p) => `<tr><td>${escape(p.metadata.name ?? '')}</td><td>default</td><td>${escape(p.spec?.nodeName ?? '')}</td><td>${p.status?.phase ?? 'Pending'}</td><td>0/1</td><td>0</td></tr>`)
    .join('\n');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>pods</title></head><body><table><thead><tr><th>NAME</th><th>NAMESPACE</th><th>NODE</th><th>STATUS</th><th>READY</th><th>RESTARTS</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Loads `url` in a fresh page and measures it; `rendered` is evaluated in the page until it yields a time. */
async function measure(browser: Browser, url: string, rendered: string): Promise<Load> {
  const page = await browser.newPage();
  try {
    await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
    const handle = await page.waitForFunction(rendered, { timeout: 120_000, polling: 50 });
    const renderedMs = (await handle.jsonValue()) as number;
    const firstPaintMs = (await page.evaluate(
      "(performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint') || { startTime: NaN }).startTime",
    )) as number;
    const cdp = await page.createCDPSession();
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    return { firstPaintMs, renderedMs, heapMiB: usedSize / (1 << 20) };
  } finally {
    await page.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function summarize(loads: Load[]): Load {
  return { firstPaintMs: median(loads.map((l) => l.firstPaintMs)), renderedMs: median(loads.map((l) => l.renderedMs)), heapMiB: median(loads.map((l) => l.heapMiB)) };
}

export async function runDashboardBench(opts: DashboardBenchOptions = {}): Promise<BenchFigure[]> {
  const podCount = opts.pods ?? 10_000;
  const nodeCount = opts.nodes ?? 1_000;
  const runs = opts.runs ?? 3;
  const log = opts.log ?? (() => undefined);
  const api = await startApiServer({ timeoutMs: 20_000 });
  const client = new Client({ server: api.url });
  let browser: Browser | undefined;
  const closers: (() => Promise<void>)[] = [];
  try {
    log(`creating ${nodeCount} fake nodes and ${podCount} pods bound to them`);
    await inParallel(nodeCount, 16, (i) => client.create('nodes', fakeNode(`node-${i}`)));
    const pods: Pod[] = [];
    await inParallel(podCount, 32, async (i) => pods.push(await client.create('pods', benchPod(i, nodeCount))));
    const dash = await startDashboard({ client });
    closers.push(() => dash.close());
    const table = await serveStaticTable(pods);
    closers.push(() => table.close());
    browser = await launchChromium();

    const page: Load[] = [];
    const baseline: Load[] = [];
    for (let r = 0; r < runs; r++) {
      log(`run ${r + 1} of ${runs}: the dashboard, then the static table`);
      // The page marks the moment its pod list is rendered with the whole list.
      page.push(await measure(browser, dash.url, `(() => { const m = performance.getEntriesByName('peapod:pods-rendered')[0]; return m && m.detail === ${podCount} ? m.startTime : false; })()`));
      baseline.push(await measure(browser, table.url, "performance.timing.loadEventEnd > 0 ? performance.getEntriesByType('navigation')[0].loadEventEnd : false"));
    }
    const d = summarize(page);
    const b = summarize(baseline);
    const what = `${podCount.toLocaleString('en')} pods on ${nodeCount.toLocaleString('en')} nodes`;
    const baselineName = `a static HTML table of the same ${podCount.toLocaleString('en')} rows`;
    return [
      { name: `dashboard first paint, ${what}`, value: d.firstPaintMs, unit: 'ms', baseline: b.firstPaintMs, baselineName, ratio: d.firstPaintMs / b.firstPaintMs, goal: '< 1000 ms' },
      { name: `dashboard pod list fully rendered, ${what}`, value: d.renderedMs, unit: 'ms', baseline: b.renderedMs, baselineName, ratio: d.renderedMs / b.renderedMs },
      { name: `dashboard JS heap, ${what}`, value: d.heapMiB, unit: 'MiB', baseline: b.heapMiB, baselineName, ratio: d.heapMiB / b.heapMiB },
    ];
  } finally {
    await browser?.close();
    for (const close of closers) await close();
    client.close();
    await api.stop();
  }
}
