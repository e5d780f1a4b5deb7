import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnNode } from './processes';

describe('spawnNode', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peapod-spawn-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts node that much nicer than the caller (nice -n), under its own pid, every thread included', async () => {
    // Its main thread's niceness, and that of its last thread (one V8 or libuv started).
    const script = path.join(dir, 'niceness.js');
    fs.writeFileSync(
      script,
      `const fs = require('fs'); const os = require('os');
       const tasks = fs.readdirSync('/proc/self/task').map(Number).sort((a, b) => a - b);
       console.error(JSON.stringify({ pid: process.pid, main: os.getPriority(), last: os.getPriority(tasks[tasks.length - 1]), threads: tasks.length }));`,
    );
    const child = spawnNode(script, [], { niceness: 7 });
    const [line] = await child.waitForLine(/\{.*\}/);
    await child.exited;
    const seen = JSON.parse(line) as { pid: number; main: number; last: number; threads: number };
    const expected = Math.min(19, os.getPriority() + 7);
    expect(seen).toMatchObject({ pid: child.pid, main: expected, last: expected });
    expect(seen.threads).toBeGreaterThan(1);
  });

  it('starts node at the niceness of the caller when none is asked for', async () => {
    const script = path.join(dir, 'plain.js');
    fs.writeFileSync(script, `console.error(JSON.stringify({ main: require('os').getPriority() }));`);
    const child = spawnNode(script, []);
    const [line] = await child.waitForLine(/\{.*\}/);
    await child.exited;
    expect(JSON.parse(line)).toEqual({ main: os.getPriority() });
  });
});
