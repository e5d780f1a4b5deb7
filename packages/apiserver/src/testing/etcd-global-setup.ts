// The etcd jest project's global setup: one three-member cluster for the whole run, its
// client URLs handed to the test workers (which inherit the environment).
import { startEtcdCluster } from '@peapod/client/testing';

export default async function setup(): Promise<void> {
  const cluster = await startEtcdCluster(3);
  process.env.PEAPOD_TEST_ETCD_ENDPOINTS = cluster.endpoints.join(',');
  (globalThis as { peapodEtcd?: unknown }).peapodEtcd = cluster;
}
