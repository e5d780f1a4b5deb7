import { defaultPullPolicy, parseImageRef } from './image';

describe('image references', () => {
  it('splits repository, tag and digest, keeping a registry port in the repository', () => {
    expect(parseImageRef('busybox')).toEqual({ repository: 'busybox' });
    expect(parseImageRef('peapod/busybox:1.36')).toEqual({ repository: 'peapod/busybox', tag: '1.36' });
    expect(parseImageRef('localhost:5000/app')).toEqual({ repository: 'localhost:5000/app' });
    expect(parseImageRef('localhost:5000/app:v2')).toEqual({ repository: 'localhost:5000/app', tag: 'v2' });
    expect(parseImageRef('app@sha256:abc')).toEqual({ repository: 'app', digest: 'sha256:abc' });
  });

  it('defaults the pull policy by tag as Kubernetes does', () => {
    expect(defaultPullPolicy('busybox')).toBe('Always');
    expect(defaultPullPolicy('busybox:latest')).toBe('Always');
    expect(defaultPullPolicy('localhost:5000/app')).toBe('Always');
    expect(defaultPullPolicy('busybox:1.36')).toBe('IfNotPresent');
    expect(defaultPullPolicy('busybox@sha256:abc')).toBe('IfNotPresent');
  });
});
