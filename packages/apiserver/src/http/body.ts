import type { IncomingMessage } from 'http';
import YAML from 'yaml';
import { decodeObject, protobufMediaType, ProtobufDecodeError } from '@peapod/api';
import { badRequest, StatusError } from '../errors';
import type { PatchType } from '../registry/registry';

export const maxBodyBytes = 3 * 1024 * 1024;

/** Reads a request body, refusing more than maxBodyBytes with 413 without buffering the rest. */
export function readBody(req: IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      // One chunk (most bodies) is the body: a copy would be one more buffer reported to V8 (see storage/slab.ts).
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}

function tooLarge(limit: number): StatusError {
  return new StatusError(413, `the request body is larger than the limit of ${limit} bytes`);
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

const patchTypes: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
};

function unsupported(type: string, accepted: string[]): StatusError {
  return new StatusError(
    415,
    `the body of the request was in an unknown format (${type || 'no Content-Type'}) - accepted media types include: ${accepted.join(', ')}`,
  );
}

function parse(text: string, yaml: boolean): unknown {
  try {
    return yaml ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; ${yaml ? 'yaml' : 'json'} parse error: ${(err as Error).message}`);
  }
}

const objectTypes = ['application/json', 'application/yaml', protobufMediaType];

/** A protobuf object (Kubernetes' envelope) as our JSON; bytes that are not one are the client's fault. */
function decodeProtobuf(body: Buffer): Record<string, unknown> {
  try {
    return decodeObject(body);
  } catch (err) {
    if (err instanceof ProtobufDecodeError) throw badRequest(err.message);
    throw err;
  }
}

/**
 * The object a POST or PUT carries: JSON, YAML, or protobuf as the API server also accepts
 * (no Content-Type means JSON, as kubectl's scale client relies on).
 */
export async function readObject(req: IncomingMessage): Promise<unknown> {
  const type = mediaType(req);
  if (type !== '' && !objectTypes.includes(type)) throw unsupported(type, objectTypes);
  const body = await readBody(req);
  if (body.length === 0) throw badRequest('the request body is empty');
  if (type === protobufMediaType) return decodeProtobuf(body);
  return parse(body.toString('utf8'), type === 'application/yaml');
}

/** The patch a PATCH carries and its kind, from the Content-Type. */
export async function readPatch(req: IncomingMessage): Promise<{ type: PatchType; patch: unknown }> {
  const media = mediaType(req);
  const type = patchTypes[media];
  if (!type) throw unsupported(media, [...Object.keys(patchTypes), applyPatchType]);
  const body = await readBody(req);
  if (body.length === 0) throw badRequest('the request body is empty');
  return { type, patch: parse(body.toString('utf8'), false) };
}

export const applyPatchType = 'application/apply-patch+yaml';

/** Whether a PATCH is a server-side apply. */
export function isApply(req: IncomingMessage): boolean {
  return mediaType(req) === applyPatchType;
}

/** The configuration a server-side apply carries (YAML, of which JSON is a part). */
export async function readApplyConfiguration(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req);
  if (body.length === 0) throw badRequest('the request body is empty');
  return parse(body.toString('utf8'), true);
}

/** DeleteOptions from the body (if any) and the query, the query winning as in Kubernetes. */
export async function readDeleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  let opts: Record<string, unknown> = {};
  if (body.length) {
    const parsed = mediaType(req) === protobufMediaType ? decodeProtobuf(body) : parse(body.toString('utf8'), false);
    if (mediaType(req) === protobufMediaType && (parsed as { kind?: unknown }).kind !== 'DeleteOptions') {
      throw badRequest(`the body must be a DeleteOptions, not a ${String((parsed as { kind?: unknown }).kind)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('DeleteOptions must be a JSON object');
    opts = parsed as Record<string, unknown>;
  }
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) {
    if (!/^-?\d+$/.test(grace)) throw badRequest(`invalid gracePeriodSeconds: ${JSON.stringify(grace)}`);
    opts.gracePeriodSeconds = Number(grace);
  }
  const policy = query.get('propagationPolicy');
  if (policy !== null) opts.propagationPolicy = policy;
  const orphan = query.get('orphanDependents');
  if (orphan !== null) {
    if (orphan !== 'true' && orphan !== 'false') throw badRequest(`invalid orphanDependents: ${JSON.stringify(orphan)}`);
    opts.orphanDependents = orphan === 'true';
  }
  checkDeleteOptions(opts);
  return opts;
}

/** Checks the shape of DeleteOptions, in a DELETE's body or inside another object (an Eviction's). */
export function checkDeleteOptions(opts: Record<string, unknown>): void {
  if (opts.gracePeriodSeconds !== undefined && typeof opts.gracePeriodSeconds !== 'number') {
    throw badRequest('DeleteOptions.gracePeriodSeconds must be an integer');
  }
  const pre = opts.preconditions;
  if (pre !== undefined && (typeof pre !== 'object' || pre === null || Array.isArray(pre))) {
    throw badRequest('DeleteOptions.preconditions must be an object');
  }
}
