// The etcd store on its own, in this process: the API server's storage without HTTP, the
// registry or another process, beside raw transactions that write what it writes (the
// object's JSON, in a transaction on the key not existing). It tells the store's and
// etcd's share of a create through the API server from the share of everything around them.

import type { BenchFigure } from '@peapod/api/bench';
import type { KubeObject } from '@peapod/api';
import { Etcd3 } from 'etcd3';
import { EtcdStore } from '../storage/etcd-store';
import type { EtcdCluster } from '@peapod/client/testing';
import { cpuOf, CpuTimes, runConcurrent } from './load';

const concurrency = 32;

/**
 * `total` creates of `stored` (a pod as the API server stored it, renamed for each) through an
 * EtcdStore on `cluster`, and as many raw create transactions of the same JSON sent to the
 * leader, in `rounds` alternating rounds; their rates and the CPU each side took per create.
 */
export async function storeBesideRawTransactions(cluster: EtcdCluster, leader: string[], stored: Record<string, unknown>, total: number, rounds: number): Promise<BenchFigure[]> {
  const json = JSON.stringify(stored);
  const pod = (name: string): KubeObject => {
    const object = JSON.parse(json) as KubeObject;
    object.metadata.name = name;
    return object;
  };
  const store = new EtcdStore({ servers: cluster.endpoints, prefix: '/bench-store' });
  const raw = new Etcd3({ hosts: leader });
  try {
    await store.ready();
    const viaStore = (tag: string, n: number) =>
      runConcurrent(n, concurrency, async (i) => {
        await store.create(`/pods/default/${tag}-${i}`, pod(`${tag}-${i}`));
      });
    const rawCreates = (tag: string, n: number) =>
      runConcurrent(n, concurrency, async (i) => {
        const key = Buffer.from(`/bench-raw/pods/default/${tag}-${i}`);
        const object = pod(`${tag}-${i}`);
        delete object.metadata.resourceVersion;
        const res = await raw.kv.txn({
          compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key, value: Buffer.from(JSON.stringify(object)) } }],
        });
        if (!res.succeeded) throw new Error(`raw create of ${key.toString()} found it there`);
      });
    // The store's writer finds the leader meanwhile, as the API server's had before its rounds.
    await viaStore('warm', 300);
    await rawCreates('warm', 300);
    const storeCpu: CpuTimes = { server: 0, etcd: 0, client: 0 };
    const rawCpu: CpuTimes = { server: 0, etcd: 0, client: 0 };
    let storeSeconds = 0;
    let rawSeconds = 0;
    const slice = Math.ceil(total / rounds);
    for (let round = 0; round < rounds; round++) {
      storeSeconds += (await cpuOf(undefined, cluster.pids(), storeCpu, () => viaStore(`s${round}`, slice))).seconds;
      rawSeconds += (await cpuOf(undefined, cluster.pids(), rawCpu, () => rawCreates(`r${round}`, slice))).seconds;
    }
    const creates = rounds * slice;
    const ms = (seconds: number) => `${((seconds * 1000) / creates).toFixed(2)} ms`;
    const storeRate = creates / storeSeconds;
    const rawRate = creates / rawSeconds;
    return [
      {
        name: `pod creates through the etcd store in one process (no HTTP), concurrency ${concurrency}; CPU per create: the process ${ms(storeCpu.client)}, etcd members ${ms(storeCpu.etcd)}`,
        value: storeRate,
        unit: 'creates/s',
        baseline: rawRate,
        baselineName: `raw transactions to the leader of the same JSON; CPU per create: the Node client ${ms(rawCpu.client)}, etcd members ${ms(rawCpu.etcd)}`,
        ratio: storeRate / rawRate,
      },
    ];
  } finally {
    raw.close();
    await store.close();
  }
}
