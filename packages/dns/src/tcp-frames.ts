// DNS over TCP: every message is preceded by its length in two bytes (RFC 1035 4.2.2).

export function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/** Splits what a connection has delivered into whole messages and the bytes of the next one. */
export function takeFrames(received: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let at = 0;
  while (received.length - at >= 2 && received.length - at - 2 >= received.readUInt16BE(at)) {
    const length = received.readUInt16BE(at);
    messages.push(received.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return { messages, rest: received.subarray(at) };
}
