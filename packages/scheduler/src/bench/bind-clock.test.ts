import { AddedEventCounter } from './bind-clock';

const added = (name: string): string => `${JSON.stringify({ type: 'ADDED', object: { kind: 'Pod', metadata: { name } } })}\n`;

describe('AddedEventCounter', () => {
  test('counts the events that end in each chunk, wherever the chunks are cut', () => {
    const stream = Buffer.from(added('a') + added('b') + added('c'));
    for (let cut = 1; cut < stream.length; cut++) {
      for (let second = cut + 1; second <= stream.length; second++) {
        const counter = new AddedEventCounter();
        const ended = [stream.subarray(0, cut), stream.subarray(cut, second), stream.subarray(second)].map((chunk) => counter.push(chunk));
        expect(ended.reduce((a, b) => a + b, 0)).toBe(3);
        expect(counter.count).toBe(3);
      }
    }
  });

  test('an event counts only once its newline has come', () => {
    const counter = new AddedEventCounter();
    const event = Buffer.from(added('a'));
    expect(counter.push(event.subarray(0, event.length - 1))).toBe(0);
    expect(counter.push(event.subarray(event.length - 1))).toBe(1);
  });

  test('blank lines between events are no events', () => {
    const counter = new AddedEventCounter();
    expect(counter.push(Buffer.from(`\n${added('a')}\n\n${added('b')}`))).toBe(2);
  });

  test('a newline inside a string is escaped in JSON, so it cannot end an event early', () => {
    const counter = new AddedEventCounter();
    expect(counter.push(Buffer.from(added('line\nbreak')))).toBe(1);
  });

  test.each(['MODIFIED', 'DELETED', 'ERROR', 'BOOKMARK'])('a %s event stops the count, even split across chunks', (type) => {
    const counter = new AddedEventCounter();
    const line = Buffer.from(`${JSON.stringify({ type, object: {} })}\n`);
    counter.push(Buffer.from(added('a')));
    expect(() => {
      counter.push(line.subarray(0, 10));
      counter.push(line.subarray(10));
    }).toThrow(`an event other than ADDED`);
    expect(counter.count).toBe(1);
  });
});
