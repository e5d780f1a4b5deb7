// Where the etcd backend's writes go, on the etcd jest project's cluster: to the leader's
// endpoint once it is known, to any member after a write through it failed, and back.
import { Etcd3, IOptions } from 'etcd3';
import { waitFor } from '@peapod/client/testing';
import { EtcdWriter } from './etcd-writer';

const endpoints = (process.env.PEAPOD_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
const maybe = endpoints.length > 1 ? describe : describe.skip;

maybe('EtcdWriter', () => {
  const options: IOptions = { hosts: endpoints };
  let spread: Etcd3;
  let lookup: Etcd3;
  let writer: EtcdWriter;

  beforeEach(() => {
    spread = new Etcd3(options);
    lookup = new Etcd3(options);
  });
  afterEach(() => {
    writer.close();
    lookup.close();
  });

  /** The member that answers at an endpoint, and the leader as it sees it. */
  async function memberAt(endpoint: string): Promise<{ member: string; leader: string }> {
    const one = new Etcd3({ hosts: [endpoint] });
    try {
      const status = await one.maintenance.status({});
      return { member: status.header.member_id, leader: status.leader };
    } finally {
      one.close();
    }
  }

  test("writes go to the leader's endpoint; after a failed write to any member until the leader is found again", async () => {
    writer = new EtcdWriter(spread, lookup, options, endpoints);
    expect(writer.client).toBe(spread);
    await waitFor('a chosen endpoint', () => writer.endpoint, 10_000);
    const chosen = writer.endpoint!;
    expect(endpoints).toContain(chosen);
    const { member, leader } = await memberAt(chosen);
    expect(member).toBe(leader);
    const pinned = writer.client;
    expect(pinned).not.toBe(spread);
    await pinned.put('/peapod-writer-test/through-leader').value('x');

    writer.failed(spread);
    expect(writer.client).toBe(pinned);
    writer.failed(pinned);
    expect(writer.client).toBe(spread);
    expect(writer.endpoint).toBeUndefined();
    await waitFor('a chosen endpoint', () => writer.endpoint, 10_000);
    expect(writer.client).toBe(pinned);
    await lookup.delete().prefix('/peapod-writer-test/');
  });

  test('with a leader that is not among the servers, writes stay spread', async () => {
    writer = new EtcdWriter(spread, lookup, options, endpoints.map((e) => `${e}0`));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(writer.endpoint).toBeUndefined();
    expect(writer.client).toBe(spread);
  });
});
