// Where the etcd backend's writes go, on the etcd jest project's cluster: to the leader's
// endpoint once it is known, to another member after a write through it failed, and back.
import { waitFor } from '@peapod/client/testing';
import { EtcdMember } from './etcd-rpc';
import { deleteOp, putOp } from './etcd-proto';
import { EtcdWriter } from './etcd-writer';

const endpoints = (process.env.PEAPOD_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
const maybe = endpoints.length > 1 ? describe : describe.skip;

maybe('EtcdWriter', () => {
  let members: EtcdMember[];
  let writer: EtcdWriter;

  beforeEach(() => {
    members = endpoints.map((e) => new EtcdMember(e));
  });
  afterEach(() => {
    writer.close();
    for (const m of members) m.close();
  });

  /** The member that answers at an endpoint, and the leader as it sees it. */
  async function memberAt(member: EtcdMember): Promise<{ member: string; leader: string }> {
    const status = await member.status(Date.now() + 5000);
    return { member: status.memberId, leader: status.leader };
  }

  test("writes go to the leader's endpoint; after a failed write to another member until the leader is found again", async () => {
    writer = new EtcdWriter(members, 5000);
    expect(writer.endpoint).toBeUndefined();
    await waitFor('a chosen endpoint', () => writer.endpoint, 10_000);
    const leader = writer.client;
    expect(leader.endpoint).toBe(writer.endpoint);
    const { member, leader: leaderId } = await memberAt(leader);
    expect(member).toBe(leaderId);
    const key = Buffer.from('/peapod-writer-test/through-leader');
    expect((await leader.txn({ compare: [], success: [putOp(key, Buffer.from('x'), undefined)], failure: [] }, Date.now() + 5000)).succeeded).toBe(true);

    writer.failed(leader);
    expect(writer.endpoint).toBeUndefined();
    const other = writer.client;
    writer.failed(other);
    expect(writer.client).not.toBe(other);
    await waitFor('a chosen endpoint', () => writer.endpoint, 10_000);
    expect(writer.client).toBe(leader);
    await leader.txn({ compare: [], success: [deleteOp(key)], failure: [] }, Date.now() + 5000);
  });

  test('with a leader that is not among the servers, writes go to the others', async () => {
    const statuses = await Promise.all(members.map(memberAt));
    const followers = members.filter((_, i) => statuses[i].member !== statuses[i].leader);
    writer = new EtcdWriter(followers, 5000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(writer.endpoint).toBeUndefined();
    expect(followers).toContain(writer.client);
  });
});
