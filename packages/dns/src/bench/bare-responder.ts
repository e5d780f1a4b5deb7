// The DNS bench's baseline: a UDP server that answers every query with one answer encoded
// in advance (only the ID changes): the floor of a Node.js DNS server on this machine.
// Usage: node bare-responder.js ANSWER_IP; logs {"port":N} once it listens.

import dgram from 'dgram';
import * as dnsPacket from 'dns-packet';

const ip = process.argv[2] ?? '10.96.0.1';
const template = dnsPacket.encode({
  type: 'response',
  id: 0,
  flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE,
  questions: [{ name: 'svc-0.default.svc.cluster.local', type: 'A' }],
  answers: [{ name: 'svc-0.default.svc.cluster.local', type: 'A', ttl: 5, data: ip }],
});
const socket = dgram.createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  const answer = Buffer.from(template);
  msg.copy(answer, 0, 0, 2);
  socket.send(answer, rinfo.port, rinfo.address);
});
socket.bind(0, '127.0.0.1', () => process.stderr.write(`${JSON.stringify({ port: socket.address().port })}\n`));
