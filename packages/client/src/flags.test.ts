import { Command, InvalidArgumentError } from 'commander';
import { componentCommand, connectionFlags, durationOption, flagValue, logLevelOption } from './flags';

describe('boolean flags', () => {
  it('takes a flag given without a value as true', () => {
    expect(flagValue.bool(undefined)).toBe(true);
    expect(() => flagValue.bool('maybe')).toThrow(InvalidArgumentError);
  });
});

describe('number flags', () => {
  it('takes rates of 0 or more and shares from 0 to 1', () => {
    expect(flagValue.rate('0.1')).toBe(0.1);
    expect(flagValue.rate('0')).toBe(0);
    for (const bad of ['-1', 'fast', '', 'Infinity']) expect(() => flagValue.rate(bad)).toThrow(InvalidArgumentError);
    expect(flagValue.fraction('0.55')).toBe(0.55);
    for (const bad of ['1.5', '-0.1', 'half', ' ']) expect(() => flagValue.fraction(bad)).toThrow(InvalidArgumentError);
  });
});

describe('component commands', () => {
  it('take the shared flags and Go durations with their defaults', () => {
    const cmd = componentCommand('c', 'd').addOption(durationOption('--period <duration>', 'p', '40s')).exitOverride();
    cmd.parse(['--server', 'http://127.0.0.1:1', '--log-level', 'debug'], { from: 'user' });
    expect(cmd.opts()).toEqual({ server: 'http://127.0.0.1:1', logLevel: 'debug', period: 40_000 });
    cmd.parse(['--period', '1h30m'], { from: 'user' });
    expect(cmd.opts().period).toBe(5_400_000);
  });

  it('take the TLS flags with kubectl\'s names', () => {
    const cmd = componentCommand('c', 'd').exitOverride();
    cmd.parse(['--certificate-authority', 'ca.crt', '--client-certificate', 'c.crt', '--client-key', 'c.key', '--insecure-skip-tls-verify=false'], { from: 'user' });
    expect(connectionFlags(cmd.opts())).toEqual({ certificateAuthority: 'ca.crt', clientCertificate: 'c.crt', clientKey: 'c.key', insecureSkipTlsVerify: false });
    cmd.parse(['--insecure-skip-tls-verify'], { from: 'user' });
    expect(cmd.opts().insecureSkipTlsVerify).toBe(true);
  });

  it('read a bare number as seconds only where asked', () => {
    expect(flagValue.duration({ bareSeconds: true })('0.5')).toBe(500);
    expect(() => flagValue.duration()('10')).toThrow(InvalidArgumentError);
  });
});

describe('the flags the API server shares', () => {
  it('--log-level with the default it names, and comma-separated lists', () => {
    const cmd = new Command('s').addOption(logLevelOption('info')).option('--hosts <list>', 'h', flagValue.list).exitOverride();
    expect(cmd.options[0].description).toBe('debug, info, warn or error (default: PEAPOD_LOG_LEVEL, else info)');
    cmd.parse(['--log-level', 'warn', '--hosts', 'a, b,,c'], { from: 'user' });
    expect(cmd.opts()).toEqual({ logLevel: 'warn', hosts: ['a', 'b', 'c'] });
    expect(() => cmd.parse(['--log-level', 'loud'], { from: 'user' })).toThrow('must be debug, info, warn or error');
  });
});
