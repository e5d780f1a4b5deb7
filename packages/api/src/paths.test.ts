import { malformedPathMessage, pathSegments, requestUrl } from './paths';

describe('pathSegments', () => {
  it('splits on slashes, drops empty segments and decodes each one', () => {
    expect(pathSegments('/api/v1/namespaces/my%20ns//pods/a%2Fb')).toEqual(['api', 'v1', 'namespaces', 'my ns', 'pods', 'a/b']);
    expect(pathSegments('/')).toEqual([]);
  });

  it('gives undefined for a malformed percent-encoding', () => {
    expect(pathSegments('/api/v1/namespaces/%zz/pods')).toBeUndefined();
    expect(pathSegments('/exec/%E0%A4%A')).toBeUndefined();
  });

  it('names the path in the message', () => {
    expect(malformedPathMessage('/a/%zz')).toBe('malformed percent-encoding in the path "/a/%zz"');
  });
});

describe('requestUrl', () => {
  it.each([
    ['/api/v1/pods?watch=1', '/api/v1/pods', '?watch=1'],
    ['//[x', '//[x', ''],
    ['http://[bad/x', '/http://[bad/x', ''],
    ['http://a:99999/x', '/http://a:99999/x', ''],
    ['*', '/*', ''],
    [undefined, '/', ''],
  ])('reads %j as a path of this server, never throwing', (target, pathname, search) => {
    const url = requestUrl(target);
    expect(url.host).toBe('localhost');
    expect(url.pathname).toBe(pathname);
    expect(url.search).toBe(search);
  });
});
