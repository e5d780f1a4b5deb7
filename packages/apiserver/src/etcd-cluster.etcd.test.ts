import fs from 'fs';
import os from 'os';
import path from 'path';
import { startEtcdCluster } from '@peapod/client/testing';

// The test cluster is what every etcd test stands on: when a member cannot start, the failure
// must say which member and why, soon, rather than a health check timing out a minute later.
test('a member that exits before it is healthy fails the start at once, with its own words', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-etcd-test-'));
  const notPem = path.join(dir, 'not.pem');
  fs.writeFileSync(notPem, 'not a certificate\n');
  const started = Date.now();
  try {
    await expect(startEtcdCluster(1, { caFile: notPem, certFile: notPem, keyFile: notPem })).rejects.toThrow(
      /etcd member m0 exited \(1\) before it was healthy\nm0: .*PEM/s,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  expect(Date.now() - started).toBeLessThan(30_000);
}, 60_000);
