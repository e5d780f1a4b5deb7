import type { EtcdCluster } from './etcd-cluster';

export default async function teardown(): Promise<void> {
  await (globalThis as { peapodEtcd?: EtcdCluster }).peapodEtcd?.stop();
}
