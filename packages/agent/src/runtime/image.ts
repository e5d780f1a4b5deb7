import type Docker from 'dockerode';
import { ImageNeverPullError, ImagePullError, errorMessage, isNotFound } from './errors';
import type { EnsureImageResult, PullPolicy } from './types';

interface ImageRef {
  /** Repository with registry, without tag or digest. */
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(image: string): ImageRef {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const named = at >= 0 ? image.slice(0, at) : image;
  // A colon after the last slash is a tag; one before it belongs to a registry host:port.
  const colon = named.lastIndexOf(':');
  const tag = colon > named.lastIndexOf('/') ? named.slice(colon + 1) : undefined;
  const repository = tag === undefined ? named : named.slice(0, colon);
  const ref: ImageRef = { repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

export async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Pulls one image (never all tags of a repository), failing with ImagePullError. */
export async function pullImage(docker: Docker, image: string, timeoutMs: number): Promise<void> {
  const ref = parseImageRef(image);
  const target = ref.tag === undefined && ref.digest === undefined ? `${image}:latest` : image;
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(target)) as NodeJS.ReadableStream;
  } catch (err) {
    throw new ImagePullError(image, errorMessage(err));
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      reject(new ImagePullError(image, `timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    // Registry errors arrive inside the progress stream; followProgress reports them as err.
    docker.modem.followProgress(stream, (err: unknown) => {
      clearTimeout(timer);
      if (err) reject(new ImagePullError(image, errorMessage(err)));
      else resolve();
    });
  });
}

export async function ensureImage(
  docker: Docker,
  image: string,
  policy: PullPolicy,
  pullTimeoutMs: number,
): Promise<EnsureImageResult> {
  const present = await imagePresent(docker, image);
  switch (policy) {
    case 'Never':
      if (!present) throw new ImageNeverPullError(image);
      return { pulled: false };
    case 'IfNotPresent':
      if (present) return { pulled: false };
      await pullImage(docker, image, pullTimeoutMs);
      return { pulled: true };
    case 'Always':
      try {
        await pullImage(docker, image, pullTimeoutMs);
        return { pulled: true };
      } catch (err) {
        // Deliberately offline-friendly: our nodes usually reach no registry, so an image
        // already on the node is used when the refresh fails, rather than failing the pod.
        if (!present) throw err;
        return { pulled: false, usedLocalAfterPullFailure: true, pullError: errorMessage(err) };
      }
  }
}
