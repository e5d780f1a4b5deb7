import crypto from 'crypto';
import type { ApiServerOptions } from '../server';

/** Whether these tests run against etcd (the `etcd` jest project sets it). */
export function testsOnEtcd(): boolean {
  return process.env.PEAPOD_TEST_STORAGE === 'etcd';
}

/**
 * The storage an API server under test uses: SQLite in memory, or with PEAPOD_TEST_STORAGE=etcd
 * a prefix of its own in the test etcd cluster (PEAPOD_TEST_ETCD_ENDPOINTS), so that servers of
 * different tests never see each other's objects.
 */
export function testStorage(): Pick<ApiServerOptions, 'etcd'> {
  if (!testsOnEtcd()) return {};
  const servers = process.env.PEAPOD_TEST_ETCD_ENDPOINTS;
  if (!servers) throw new Error('PEAPOD_TEST_STORAGE=etcd needs PEAPOD_TEST_ETCD_ENDPOINTS: run it as the etcd jest project, which starts a cluster');
  return { etcd: { servers: servers.split(','), prefix: `/peapod-test/${crypto.randomUUID()}` } };
}
