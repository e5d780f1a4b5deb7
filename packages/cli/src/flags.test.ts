import { parseBool, parseDuration } from './flags';
import { effectiveGracePeriod, parseCascade } from './commands/delete';
import { preconditionFailure } from './commands/scale';
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
    expect(await complete(['get', 'pods', '--sh'], names)).toEqual(['--show-labels', '--show-managed-fields']);
    expect(await complete(['get', 'pods', '-o', 'j'], names)).toEqual(['json', 'jsonpath=']);
    expect(await complete(['get', 'pods', '--output', '=', 'y'], names)).toEqual(['--output=yaml']);
    expect(await complete(['completion', ''], names)).toEqual(['bash', 'zsh']);
  });
});

describe('delete --cascade', () => {
  it("maps kubectl's values to propagation policies", () => {
    expect(parseCascade('background')).toBe('Background');
    expect(parseCascade('foreground')).toBe('Foreground');
    expect(parseCascade('orphan')).toBe('Orphan');
    expect(() => parseCascade('Orphan')).toThrow('invalid cascade value (Orphan). Must be "background", "foreground", or "orphan"');
  });
});

describe('scale preconditions', () => {
  const scale = { kind: 'Scale', metadata: { name: 'web', resourceVersion: '12' }, spec: { replicas: 2 }, status: { replicas: 2 } };
  it('holds when unset or equal, and names the first mismatch', () => {
    expect(preconditionFailure(scale, { currentReplicas: -1 })).toBeUndefined();
    expect(preconditionFailure(scale, { currentReplicas: 2, resourceVersion: '12' })).toBeUndefined();
    expect(preconditionFailure(scale, { currentReplicas: 3 })).toBe('Expected replicas to be 3, was 2');
    expect(preconditionFailure(scale, { currentReplicas: -1, resourceVersion: '5' })).toBe('Expected resource version to be 5, was 12');
    expect(preconditionFailure({ ...scale, spec: {} }, { currentReplicas: 0 })).toBeUndefined();
  });
});
