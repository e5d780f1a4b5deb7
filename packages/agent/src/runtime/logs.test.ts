import { DockerFrameDemuxer } from './logs';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function demux(chunks: Buffer[]): Promise<string> {
  const demuxer = new DockerFrameDemuxer();
  const out: Buffer[] = [];
  demuxer.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((resolve) => demuxer.on('end', resolve));
  for (const c of chunks) demuxer.write(c);
  demuxer.end();
  await ended;
  return Buffer.concat(out).toString();
}

describe('DockerFrameDemuxer', () => {
  it('strips frame headers, even when frames are split across chunks', async () => {
    const all = Buffer.concat([frame(1, 'one\n'), frame(2, 'two\n'), frame(1, 'three\n')]);
    const pieces = [all.subarray(0, 3), all.subarray(3, 13), all.subarray(13)];
    expect(await demux(pieces)).toBe('one\ntwo\nthree\n');
  });

  it('interleaves stdout and stderr by whole lines and ends a last partial line', async () => {
    const text = await demux([frame(1, 'out-a'), frame(2, 'err-1\n'), frame(1, 'out-b\nrest'), frame(2, 'tail')]);
    expect(text.split('\n').filter(Boolean).sort()).toEqual(['err-1', 'out-aout-b', 'rest', 'tail'].sort());
    expect(text.indexOf('err-1\n')).toBeLessThan(text.indexOf('out-aout-b\n'));
    expect(text.endsWith('\n')).toBe(true);
  });
});
