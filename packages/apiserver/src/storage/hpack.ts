// HPACK (RFC 7541), as much as a client of gRPC unary calls needs: a decoder for the header
// blocks the server sends (static and dynamic table, Huffman-coded strings) and an encoder of
// the client's few headers as literals that the server does not index (so that this side
// keeps no encoder state). Strings are latin1: HPACK's strings are octets, and the tables'
// sizes count octets.

/** The static table (RFC 7541 Appendix A): index i + 1 is entry i. */
const staticTable: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/**
 * The length in bits of the Huffman code of each symbol, 0 to 255 and EOS (256), from RFC 7541
 * Appendix B, one character each ('A' is 5 bits). The code is canonical (codes of one length
 * are consecutive, in symbol order, after those of the shorter lengths), so the lengths alone
 * give every code.
 */
const huffmanLengths =
  'ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ';

const eos = 256;

/**
 * The Huffman decoding tree as a flat array: node n's children are at 2n (bit 0) and 2n + 1
 * (bit 1); a positive entry is the next node, a negative one -(symbol + 1), zero no code.
 */
const huffmanTree: Int32Array = (() => {
  const lengths = Array.from(huffmanLengths, (c) => c.charCodeAt(0) - 'A'.charCodeAt(0) + 5);
  const order = lengths.map((_, s) => s).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const tree = new Int32Array(2 * 2 * 257);
  let nodes = 1;
  let code = 0;
  let length = lengths[order[0]];
  order.forEach((symbol, i) => {
    if (i > 0) {
      code = (code + 1) << (lengths[symbol] - length);
      length = lengths[symbol];
    }
    let node = 0;
    for (let bit = length - 1; bit > 0; bit--) {
      const slot = 2 * node + ((code >> bit) & 1);
      if (tree[slot] === 0) tree[slot] = nodes++;
      node = tree[slot];
    }
    tree[2 * node + (code & 1)] = -(symbol + 1);
  });
  return tree;
})();

export class HpackError extends Error {}

/** Decodes a Huffman-coded string: the padding after the last symbol must be at most 7 bits, all ones (a prefix of EOS). */
export function huffmanDecode(bytes: Buffer): string {
  const out: number[] = [];
  let node = 0;
  let depth = 0;
  let ones = true;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      const next = huffmanTree[2 * node + b];
      ones &&= b === 1;
      depth++;
      if (next < 0) {
        if (-next - 1 === eos) throw new HpackError('Huffman string holds EOS');
        out.push(-next - 1);
        node = 0;
        depth = 0;
        ones = true;
      } else if (next === 0) {
        throw new HpackError('Huffman string holds no valid code');
      } else node = next;
    }
  }
  if (depth > 7 || !ones) throw new HpackError('Huffman string badly padded');
  return Buffer.from(out).toString('latin1');
}

/** The decoding context of one connection: its dynamic table. */
export class HpackDecoder {
  /** newest first */
  private readonly dynamic: [string, string][] = [];
  private size = 0;
  private maxSize: number;

  /** `limit`: the header table size this side announced (SETTINGS_HEADER_TABLE_SIZE; 4,096 unless changed). */
  constructor(private readonly limit = 4096) {
    this.maxSize = limit;
  }

  /** The header fields of a whole header block, in order. Any error leaves the context unusable: the connection must end. */
  decode(block: Buffer): (readonly [string, string])[] {
    const fields: (readonly [string, string])[] = [];
    const at = { i: 0 };
    while (at.i < block.length) {
      const first = block[at.i];
      if (first & 0x80) {
        fields.push(this.entry(integer(block, at, 7)));
      } else if (first & 0x40) {
        const field = this.literal(block, at, 6);
        this.insert(field);
        fields.push(field);
      } else if (first & 0x20) {
        const size = integer(block, at, 5);
        if (size > this.limit) throw new HpackError(`dynamic table size ${size} above ${this.limit}`);
        this.maxSize = size;
        this.evict(0);
      } else {
        fields.push(this.literal(block, at, 4));
      }
    }
    return fields;
  }

  private literal(block: Buffer, at: { i: number }, prefix: number): [string, string] {
    const index = integer(block, at, prefix);
    const name = index ? this.entry(index)[0] : string(block, at);
    return [name, string(block, at)];
  }

  private entry(index: number): readonly [string, string] {
    if (index >= 1 && index <= staticTable.length) return staticTable[index - 1];
    const field = this.dynamic[index - staticTable.length - 1];
    if (!field) throw new HpackError(`no header table entry ${index}`);
    return field;
  }

  private insert(field: [string, string]): void {
    const size = 32 + field[0].length + field[1].length;
    this.evict(size);
    // An entry larger than the table empties it and is not kept (RFC 7541 4.4).
    if (size <= this.maxSize) {
      this.dynamic.unshift(field);
      this.size += size;
    }
  }

  /** Evicts the oldest entries until `room` octets more fit. */
  private evict(room: number): void {
    while (this.size + room > this.maxSize && this.dynamic.length) {
      const [name, value] = this.dynamic.pop()!;
      this.size -= 32 + name.length + value.length;
    }
  }
}

/** An integer with an N-bit prefix (RFC 7541 5.1), from at.i on. */
function integer(block: Buffer, at: { i: number }, prefix: number): number {
  const max = (1 << prefix) - 1;
  let value = block[at.i++] & max;
  if (value < max) return value;
  for (let shift = 0; ; shift += 7) {
    if (at.i >= block.length) throw new HpackError('integer cut short');
    if (shift > 21) throw new HpackError('integer too large');
    const byte = block[at.i++];
    value += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return value;
  }
}

/** A string literal (RFC 7541 5.2), raw or Huffman-coded. */
function string(block: Buffer, at: { i: number }): string {
  if (at.i >= block.length) throw new HpackError('string missing');
  const huffman = (block[at.i] & 0x80) !== 0;
  const length = integer(block, at, 7);
  if (at.i + length > block.length) throw new HpackError('string cut short');
  const bytes = block.subarray(at.i, at.i + length);
  at.i += length;
  return huffman ? huffmanDecode(bytes) : bytes.toString('latin1');
}

function encodeInteger(out: number[], value: number, prefix: number, flags: number): void {
  const max = (1 << prefix) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  for (value -= max; value >= 0x80; value = Math.floor(value / 0x80)) out.push((value % 0x80) | 0x80);
  out.push(value);
}

/**
 * Header fields as literals without indexing (RFC 7541 6.2.2), raw strings, the name by its
 * static index when it has one. Names are lowercase, values latin1.
 */
export function encodeHeaders(fields: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const head: number[] = [];
    const index = staticTable.findIndex(([n]) => n === name) + 1;
    encodeInteger(head, index, 4, 0);
    parts.push(Buffer.from(head));
    if (!index) parts.push(rawString(name));
    parts.push(rawString(value));
  }
  return Buffer.concat(parts);
}

function rawString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  const head: number[] = [];
  encodeInteger(head, bytes.length, 7, 0);
  return Buffer.concat([Buffer.from(head), bytes]);
}
