/** A pull that failed; the pod worker reports ErrImagePull, then ImagePullBackOff. */
export class ImagePullError extends Error {
  readonly reason = 'ErrImagePull';
  constructor(
    readonly image: string,
    message: string,
  ) {
    super(`failed to pull image "${image}": ${message}`);
    this.name = 'ImagePullError';
  }
}

/** Policy Never and the image is not on the node. */
export class ImageNeverPullError extends Error {
  readonly reason = 'ErrImageNeverPull';
  constructor(readonly image: string) {
    super(`container image "${image}" is not present with pull policy of Never`);
    this.name = 'ImageNeverPullError';
  }
}

/** The container spec cannot be turned into a Docker container (CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** Docker API errors carry the HTTP status in statusCode. */
export function dockerStatusCode(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'statusCode' in err) {
    const code = (err as { statusCode: unknown }).statusCode;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return dockerStatusCode(err) === 404;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
