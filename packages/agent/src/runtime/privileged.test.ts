import type Docker from 'dockerode';
import { applyCapabilitiesOnly, missingCapabilities } from './privileged';

describe('privileged fallback', () => {
  it('names the capabilities missing from a bounding set', () => {
    expect(missingCapabilities('000001ffffffffff')).toEqual([]);
    expect(missingCapabilities('000001fffeffffff')).toEqual(['SYS_RESOURCE']);
    expect(missingCapabilities('00000000a80425fb')).toContain('SYS_ADMIN');
  });

  it('turns privileged into every capability held, unconfined', () => {
    const hostConfig: Docker.HostConfig = { Privileged: true };
    applyCapabilitiesOnly(hostConfig, ['SYS_RESOURCE']);
    expect(hostConfig).toEqual({
      Privileged: false,
      CapAdd: ['ALL'],
      CapDrop: ['SYS_RESOURCE'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      MaskedPaths: [],
      ReadonlyPaths: [],
    });
  });
});
