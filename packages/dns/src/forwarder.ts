// Names outside the cluster go to the host's resolvers (the nameservers of resolv.conf, or
// --upstream): the query as the client sent it, over the transport it came on, to each
// upstream in turn until one answers; the answer goes back as it came.

import dgram from 'dgram';
import { isIPv4 } from 'net';
import net from 'net';
import { frame, takeFrames } from './tcp-frames';

export interface Upstream {
  host: string;
  port: number;
}

/** "10.0.0.2" or "10.0.0.2:5353". */
export function parseUpstream(text: string): Upstream {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(text.trim());
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!m || !isIPv4(m[1]) || port < 1 || port > 65535) throw new Error(`${text} is not IPV4[:PORT]`);
  return { host: m[1], port };
}

function overUdp(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (answer: Buffer | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    // The answer to this query carries its ID; anything else on the socket is not ours.
    socket.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) done(msg);
    });
    socket.on('error', () => done(undefined));
    socket.send(query, upstream.port, upstream.host);
  });
}

function overTcp(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(upstream.port, upstream.host);
    let received: Buffer = Buffer.alloc(0);
    const done = (answer: Buffer | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('connect', () => socket.write(frame(query)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const { messages } = takeFrames(received);
      if (messages.length > 0) done(messages[0]);
    });
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
  });
}

export class Forwarder {
  constructor(
    readonly upstreams: Upstream[],
    private readonly timeoutMs = 2000,
  ) {}

  /** The first upstream answer, or undefined when none answered in time. */
  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    for (const upstream of this.upstreams) {
      const answer = await (transport === 'udp' ? overUdp : overTcp)(query, upstream, this.timeoutMs);
      if (answer) return answer;
    }
    return undefined;
  }
}
