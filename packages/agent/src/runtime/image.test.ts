import { parseImageRef } from './image';

describe('image references', () => {
  it('splits repository, tag and digest, keeping a registry port in the repository', () => {
    expect(parseImageRef('busybox')).toEqual({ repository: 'busybox' });
    expect(parseImageRef('peapod/busybox:1.36')).toEqual({ repository: 'peapod/busybox', tag: '1.36' });
    expect(parseImageRef('localhost:5000/app')).toEqual({ repository: 'localhost:5000/app' });
    expect(parseImageRef('localhost:5000/app:v2')).toEqual({ repository: 'localhost:5000/app', tag: 'v2' });
    expect(parseImageRef('app@sha256:abc')).toEqual({ repository: 'app', digest: 'sha256:abc' });
  });
});
