import { parseResolvConf } from './resolv-conf';
import { endpointConditions } from './service';

describe('parseResolvConf', () => {
  it('reads nameservers, the last search or domain line, and options; skips comments', () => {
    const conf = parseResolvConf(
      ['# written by the installer', 'domain example.org', 'nameserver 10.0.0.2 ', 'search a.example b.example  # trailing', '; old', 'nameserver 1.1.1.1', 'options ndots:2 edns0', 'options timeout:1', 'sortlist 130.155.160.0/255.255.240.0', ''].join('\n'),
    );
    expect(conf).toEqual({ nameservers: ['10.0.0.2', '1.1.1.1'], searches: ['a.example', 'b.example'], options: ['ndots:2', 'edns0', 'timeout:1'] });
  });

  it('gives empty lists for an empty file', () => {
    expect(parseResolvConf('')).toEqual({ nameservers: [], searches: [], options: [] });
  });
});

describe('endpointConditions', () => {
  it('reads unset conditions as discovery.k8s.io/v1 defines them', () => {
    expect(endpointConditions({ addresses: ['10.0.0.1'] })).toEqual({ ready: true, serving: true, terminating: false });
    expect(endpointConditions({ addresses: ['10.0.0.1'], conditions: { ready: false, serving: true, terminating: true } })).toEqual({
      ready: false,
      serving: true,
      terminating: true,
    });
  });
});
