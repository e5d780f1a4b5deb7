// The DNS server: UDP and TCP on one address and port. A question about the cluster zone is
// answered from the zone (authoritative); any other is forwarded. A query that cannot be
// read gets FORMERR, one that is not a plain query NOTIMP, one no upstream answered
// SERVFAIL. Over UDP an answer larger than the client takes (512 bytes, or its EDNS size)
// is sent truncated, so the client asks again over TCP.

import dgram from 'dgram';
import net from 'net';
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet } from 'dns-packet';
import type { Logger } from '@peapod/client';
import type { ClusterZone, ZoneAnswer } from './cluster-zone';
import type { Forwarder } from './forwarder';
import { frame, takeFrames } from './tcp-frames';
import { listenUdpTcp } from './udp-tcp-pair';

const rcodes = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;
type Rcode = keyof typeof rcodes;

/** The EDNS buffer size this server offers: the size DNS flag day 2020 settled on. */
const ednsSize = 1232;
/** Idle TCP connections are closed after this long (RFC 7766 suggests seconds). */
const tcpIdleMs = 10_000;

export interface DnsServerOptions {
  zone: ClusterZone;
  forwarder: Forwarder;
  log: Logger;
}

function opcodeOf(packet: DecodedPacket): number {
  return ((packet.flags ?? 0) >> 11) & 0xf;
}

function clientOpt(packet: DecodedPacket): OptAnswer | undefined {
  return (packet.additionals ?? []).find((a): a is OptAnswer => a.type === 'OPT');
}

/** A response that says only `rcode`, built from the raw query: used when the query cannot be read. */
function bareResponse(query: Buffer, rcode: Rcode): Buffer | undefined {
  if (query.length < 12) return undefined;
  const out = Buffer.alloc(12);
  query.copy(out, 0, 0, 4);
  // QR set, the opcode and RD kept, AA/TC/RA cleared, the rcode.
  out.writeUInt16BE((query.readUInt16BE(2) & 0x7900) | 0x8000 | rcodes[rcode], 2);
  return out;
}

export class DnsServer {
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private readonly connections = new Set<net.Socket>();

  constructor(private readonly opts: DnsServerOptions) {}

  /** Listens on UDP and TCP; with port 0, on a free port that both take. */
  async listen(address: string, port: number): Promise<number> {
    const { udp, tcp, port: bound } = await listenUdpTcp(address, port, (socket) => this.serveTcp(socket));
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, 'udp').then((answer) => {
        if (answer) udp.send(answer, rinfo.port, rinfo.address);
      });
    });
    udp.on('error', (err) => this.opts.log.warn('udp socket error', { error: err }));
    this.udp = udp;
    this.tcp = tcp;
    return bound;
  }

  async close(): Promise<void> {
    this.udp?.close();
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }

  /** The response to one query (undefined: nothing to send back). Never throws. */
  async handle(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let packet: DecodedPacket;
    try {
      packet = dnsPacket.decode(query);
    } catch {
      return bareResponse(query, 'FORMERR');
    }
    if (packet.type !== 'query') return undefined;
    if (opcodeOf(packet) !== 0) return bareResponse(query, 'NOTIMP');
    const question = packet.questions?.[0];
    if (!question || (packet.questions ?? []).length !== 1) return bareResponse(query, 'FORMERR');
    let answer: ZoneAnswer | undefined;
    try {
      answer = this.opts.zone.lookup(question.name, question.type);
    } catch (err) {
      this.opts.log.error('lookup failed', { name: question.name, type: question.type, error: err });
      return this.respond(packet, 'SERVFAIL', transport);
    }
    if (answer) return this.respond(packet, answer.rcode, transport, answer);
    const forwarded = await this.opts.forwarder.forward(query, transport);
    return forwarded ?? this.respond(packet, 'SERVFAIL', transport);
  }

  private respond(query: DecodedPacket, rcode: Rcode, transport: 'udp' | 'tcp', answer?: ZoneAnswer): Buffer {
    const opt = clientOpt(query);
    const additionals: Answer[] = [...(answer?.additionals ?? [])];
    if (opt) additionals.push({ name: '.', type: 'OPT', udpPayloadSize: ednsSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] });
    const flags = (answer ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | rcodes[rcode];
    const packet: Packet = {
      type: 'response',
      id: query.id,
      flags,
      questions: query.questions,
      answers: answer?.answers ?? [],
      authorities: answer?.authorities ?? [],
      additionals,
    };
    const encoded = dnsPacket.encode(packet);
    const limit = transport === 'tcp' ? 65535 : Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, ednsSize));
    if (encoded.length <= limit) return encoded;
    return dnsPacket.encode({ ...packet, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt ? [additionals[additionals.length - 1]] : [] });
  }

  private serveTcp(socket: net.Socket): void {
    this.connections.add(socket);
    socket.setTimeout(tcpIdleMs, () => socket.destroy());
    let received: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const { messages, rest } = takeFrames(received);
      received = rest;
      for (const message of messages) {
        void this.handle(message, 'tcp').then((answer) => {
          if (answer && !socket.destroyed) socket.write(frame(answer));
        });
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
  }
}
