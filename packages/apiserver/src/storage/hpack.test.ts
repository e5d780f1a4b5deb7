import { encodeHeaders, HpackDecoder, HpackError, huffmanDecode } from './hpack';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HPACK', () => {
  test('Huffman strings of RFC 7541 C.4 decode', () => {
    expect(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'))).toBe('www.example.com');
    expect(huffmanDecode(hex('a8eb 1064 9cbf'))).toBe('no-cache');
    expect(huffmanDecode(hex('25a8 49e9 5bb8 e8b4 bf'))).toBe('custom-value');
  });

  test('a Huffman string with EOS, a code that is none, or padding that is not ones is refused', () => {
    expect(() => huffmanDecode(hex('ffffffff'))).toThrow(HpackError);
    // "www.example.com" with its padding's last bit cleared.
    expect(() => huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4fe'))).toThrow(/padded/);
    // A full byte of padding after the last code.
    expect(() => huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff ff'))).toThrow(/padded/);
  });

  test('the responses of RFC 7541 C.6 decode in turn, with evictions from a 256-octet table', () => {
    const decoder = new HpackDecoder(4096);
    // The examples' table is 256 octets: as a size update at the start of the first block would set it.
    const first = decoder.decode(Buffer.concat([hex('3f e1 01'), hex('4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3')]));
    expect(first).toEqual([
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ]);
    expect(decoder.decode(hex('4883 640e ffc1 c0bf'))).toEqual([
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ]);
    expect(
      decoder.decode(
        hex('88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07'),
      ),
    ).toEqual([
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
      ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'],
      ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
    ]);
  });

  test('an index past the tables, a table size above the limit and a cut-short block are refused', () => {
    expect(() => new HpackDecoder().decode(hex('be'))).toThrow(/no header table entry 62/);
    expect(() => new HpackDecoder(4096).decode(hex('3fe21f'))).toThrow(/above 4096/);
    expect(() => new HpackDecoder().decode(hex('4088'))).toThrow(/cut short/);
  });

  test('what the encoder writes decodes to the same fields', () => {
    const fields: [string, string][] = [
      [':method', 'POST'],
      [':path', '/etcdserverpb.KV/Txn'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['grpc-timeout', '9999m'],
      ['x-long', 'v'.repeat(300)],
    ];
    expect(new HpackDecoder().decode(encodeHeaders(fields))).toEqual(fields);
  });
});
