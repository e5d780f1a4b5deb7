import type { ReplicationController } from '@peapod/api';
import type { Client } from '@peapod/client';
import { createLogger } from '@peapod/client';
import { ApiControllerClient } from './pod-control';

const rc = (name: string): ReplicationController => ({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { replicas: 100, selector: { app: name } } }) as ReplicationController;

test("a controller's events pass client-go's spam filter: 25 at once for each controller, the rest dropped", () => {
  const recorded: string[] = [];
  const client = { recordEvent: (obj: ReplicationController) => (recorded.push(obj.metadata.name ?? ''), Promise.resolve({})) } as unknown as Client;
  const api = new ApiControllerClient(client, createLogger('test'));
  for (let i = 0; i < 100; i++) api.event(rc('web'), 'Normal', 'SuccessfulCreate', `Created pod: web-${i}`);
  api.event(rc('db'), 'Normal', 'SuccessfulCreate', 'Created pod: db-0');
  expect(recorded.filter((n) => n === 'web')).toHaveLength(25);
  expect(recorded.filter((n) => n === 'db')).toHaveLength(1);
});
