// Request paths as the API server and the node agent read them: the segments between slashes,
// each percent-decoded. A malformed percent-encoding is the client's mistake, answered 400.

/** The path's non-empty segments, each decoded; undefined when a percent-encoding in it is malformed. */
export function pathSegments(path: string): string[] | undefined {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** What a 400 for such a path says. */
export function malformedPathMessage(path: string): string {
  return `malformed percent-encoding in the path ${JSON.stringify(path)}`;
}

/**
 * A request's URL parsed against the server that received it. The target is appended to an
 * origin rather than resolved against it: `//host/x` is a path here, where URL resolution
 * would read it as another host (and throw on one it cannot parse, `//[x`), so no request
 * line can make this throw.
 */
export function requestUrl(target: string | undefined): URL {
  return new URL(`http://localhost${target?.startsWith('/') ? target : `/${target ?? ''}`}`);
}
