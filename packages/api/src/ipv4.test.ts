import { ipv4InRange, ipv4ToNumber, numberToIPv4, parseIPv4CIDR } from './ipv4';

describe('IPv4 CIDRs', () => {
  it('parses a CIDR to its network, whatever address of it names it', () => {
    expect(parseIPv4CIDR('10.96.3.7/16')).toEqual({ cidr: '10.96.0.0/16', network: ipv4ToNumber('10.96.0.0'), bits: 16, size: 65536 });
    expect(numberToIPv4(ipv4ToNumber('192.168.176.1'))).toBe('192.168.176.1');
  });

  it('refuses what is not an IPv4 CIDR, naming what it was for', () => {
    expect(() => parseIPv4CIDR('10.96.0.0', 'cluster CIDR')).toThrow('invalid cluster CIDR "10.96.0.0": expected an IPv4 CIDR such as 10.96.0.0/16');
    expect(() => parseIPv4CIDR('10.96.0.0/33')).toThrow(/invalid IPv4 CIDR/);
    expect(() => parseIPv4CIDR('fd00::/64')).toThrow(/invalid IPv4 CIDR/);
  });

  it('tells whether an address is in a range', () => {
    const range = parseIPv4CIDR('192.168.176.0/20');
    expect(ipv4InRange(range, '192.168.191.255')).toBe(true);
    expect(ipv4InRange(range, '192.168.192.0')).toBe(false);
    expect(ipv4InRange(range, 'not-an-ip')).toBe(false);
  });
});
