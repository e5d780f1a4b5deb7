/**
 * A request's URL parsed against this server. The target is appended to an origin rather
 * than resolved against it: `//host/x` is a path here, where URL resolution would read it as
 * another host (and throw on one it cannot parse).
 */
export function requestUrl(target: string | undefined): URL {
  return new URL(`http://localhost${target?.startsWith('/') ? target : `/${target ?? ''}`}`);
}
