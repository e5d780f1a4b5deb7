import type { EtcdCluster } from '@peapod/client/testing';

export default async function teardown(): Promise<void> {
  await (globalThis as { peapodEtcd?: EtcdCluster }).peapodEtcd?.stop();
}
