// A local stand-in for the host's resolver, for tests: it knows the A records it is given
// and says NXDOMAIN to any other name, as a real resolver would, over UDP and TCP, and
// records the names it was asked. Tests forward to it, never to a resolver on the network.

import net from 'net';
import * as dnsPacket from 'dns-packet';
import { frame, takeFrames } from '../tcp-frames';
import { listenUdpTcp } from '../udp-tcp-pair';

export interface StubResolver {
  port: number;
  /** names asked, in order, with the transport they came on */
  asked: { name: string; transport: 'udp' | 'tcp' }[];
  close(): Promise<void>;
}

/** `records`: name -> IPv4 address. */
export async function startStubResolver(address: string, records: Record<string, string>): Promise<StubResolver> {
  const asked: StubResolver['asked'] = [];
  const answer = (query: Buffer, transport: 'udp' | 'tcp'): Buffer => {
    const q = dnsPacket.decode(query);
    const question = q.questions?.[0];
    if (question) asked.push({ name: question.name, transport });
    const ip = question ? records[question.name.toLowerCase()] : undefined;
    const answers = ip && question?.type === 'A' ? [{ name: question.name, type: 'A' as const, ttl: 60, data: ip }] : [];
    // rcode 3: NXDOMAIN, for a name it does not know.
    const flags = dnsPacket.RECURSION_AVAILABLE | (ip ? 0 : 3);
    return dnsPacket.encode({ type: 'response', id: q.id, flags, questions: q.questions, answers });
  };
  const sockets = new Set<net.Socket>();
  const { udp, tcp, port } = await listenUdpTcp(address, 0, (socket) => {
    sockets.add(socket);
    let received: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { messages, rest } = takeFrames(Buffer.concat([received, chunk]));
      received = rest;
      for (const m of messages) socket.write(frame(answer(m, 'tcp')));
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  udp.on('message', (msg, rinfo) => udp.send(answer(msg, 'udp'), rinfo.port, rinfo.address));
  return {
    port,
    asked,
    async close() {
      udp.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
