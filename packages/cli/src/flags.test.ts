import { parseBool, parseDuration } from './flags';
import { effectiveGracePeriod } from './commands/delete';
import { complete } from './completion';

describe('flags', () => {
  it('parses Go durations and bare seconds', () => {
    expect(parseDuration('30s', 'timeout')).toBe(30_000);
    expect(parseDuration('1m30s', 'timeout')).toBe(90_000);
    expect(parseDuration('0', 'timeout')).toBe(0);
    expect(parseDuration('250ms', 'timeout')).toBe(250);
    expect(() => parseDuration('soon', 'timeout')).toThrow('invalid argument "soon" for "timeout" flag');
  });

  it('parses booleans given as --flag, --flag=false', () => {
    expect(parseBool(true, 'wait')).toBe(true);
    expect(parseBool('false', 'wait')).toBe(false);
    expect(() => parseBool('maybe', 'wait')).toThrow(/invalid argument "maybe"/);
  });
});

describe('delete grace period', () => {
  it("derives the grace period as kubectl does", () => {
    expect(effectiveGracePeriod({ gracePeriod: -1, force: false, now: false })).toBeUndefined();
    expect(effectiveGracePeriod({ gracePeriod: 3, force: false, now: false })).toBe(3);
    expect(effectiveGracePeriod({ gracePeriod: 0, force: false, now: false })).toBe(1);
    expect(effectiveGracePeriod({ gracePeriod: 0, force: true, now: false })).toBe(0);
    expect(effectiveGracePeriod({ gracePeriod: -1, force: true, now: false })).toBe(0);
    expect(effectiveGracePeriod({ gracePeriod: -1, force: false, now: true })).toBe(1);
  });
});

describe('completion', () => {
  const names = async (type: string): Promise<string[]> => (type === 'pods' ? ['web', 'worker', 'db'] : type === 'nodes' ? ['n1'] : []);

  it('completes commands, types, names, flags and flag values', async () => {
    expect(await complete(['de'], names)).toEqual(['describe', 'delete']);
    expect(await complete(['get', 'po'], names)).toEqual(['pods']);
    expect(await complete(['get', 'pods', 'w'], names)).toEqual(['web', 'worker']);
    expect(await complete(['drain', ''], names)).toEqual(['n1']);
    expect(await complete(['get', 'pods', '--sh'], names)).toEqual(['--show-labels']);
    expect(await complete(['get', 'pods', '-o', 'j'], names)).toEqual(['json', 'jsonpath=']);
    expect(await complete(['get', 'pods', '--output', '=', 'y'], names)).toEqual(['--output=yaml']);
    expect(await complete(['completion', ''], names)).toEqual(['bash', 'zsh']);
  });
});
