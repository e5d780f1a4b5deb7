// A local stand-in for the host's resolver, for tests: it answers every A question with
// one fixed address, over UDP and TCP, and records the names it was asked. Tests forward to
// it, never to a resolver on the network.

import dgram from 'dgram';
import net from 'net';
import * as dnsPacket from 'dns-packet';
import { frame, takeFrames } from '../tcp-frames';

export interface StubResolver {
  port: number;
  /** names asked, in order, with the transport they came on */
  asked: { name: string; transport: 'udp' | 'tcp' }[];
  close(): Promise<void>;
}

export async function startStubResolver(address: string, answerIP: string): Promise<StubResolver> {
  const asked: StubResolver['asked'] = [];
  const answer = (query: Buffer, transport: 'udp' | 'tcp'): Buffer => {
    const q = dnsPacket.decode(query);
    const question = q.questions?.[0];
    if (question) asked.push({ name: question.name, transport });
    const answers = question?.type === 'A' ? [{ name: question.name, type: 'A' as const, ttl: 60, data: answerIP }] : [];
    return dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers });
  };
  const udp = dgram.createSocket('udp4');
  const port = await new Promise<number>((resolve) => udp.bind(0, address, () => resolve(udp.address().port)));
  udp.on('message', (msg, rinfo) => udp.send(answer(msg, 'udp'), rinfo.port, rinfo.address));
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
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
  await new Promise<void>((resolve) => tcp.listen(port, address, () => resolve()));
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
