// peactl create configmap|secret generic|secret tls|serviceaccount NAME and create token SA,
// with kubectl's flags, checks and messages. The object is built here and sent once; with
// --dry-run=client it is only printed, with --dry-run=server the server checks it.

import crypto from 'crypto';
import fs from 'fs';
import type { ConfigMap, KubeObject, Secret, ServiceAccount, TokenRequest } from '@peapod/api';
import type { Context } from '../context';
import { CliError } from '../errors';
import { lastAppliedAnnotation } from '../annotations';
import { configMapData, secretData, SourceFlags } from '../config-sources';
import { formatObjects, parseOutputFormat } from '../printers/objects';
import { parseDuration } from '../flags';

export interface CreateFlags {
  dryRun?: string;
  output?: string;
  saveConfig?: boolean;
}

type DryRun = 'none' | 'client' | 'server';

function dryRunOf(value: string | undefined): DryRun {
  if (value === undefined || value === 'none') return 'none';
  if (value === 'client' || value === 'server') return value;
  throw new CliError(`Invalid dry-run value (${value}). Must be "none", "server", or "client".`);
}

/** Sends (or with --dry-run=client only prints) the object, then prints it as kubectl does. */
async function send(ctx: Context, resource: string, obj: KubeObject, flags: CreateFlags): Promise<void> {
  const dryRun = dryRunOf(flags.dryRun);
  const format = parseOutputFormat(flags.output);
  if (flags.saveConfig) {
    obj.metadata.annotations = { ...obj.metadata.annotations, [lastAppliedAnnotation]: JSON.stringify(obj) + '\n' };
  }
  let result = obj;
  if (dryRun !== 'client') {
    try {
      result = await ctx.client.create(resource, obj, { namespace: ctx.namespace, dryRun: dryRun === 'server' });
    } catch (err) {
      if (err instanceof Error && err.name === 'ApiError') {
        throw new CliError(`failed to create ${(obj.kind ?? '').toLowerCase()}${resource === 'secrets' ? '' : ':'} ${err.message}`);
      }
      throw err;
    }
  }
  if (format.kind !== 'table') {
    process.stdout.write(formatObjects([{ ...result, kind: obj.kind, apiVersion: obj.apiVersion }], format, true, obj.kind ?? ''));
    return;
  }
  const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
  process.stdout.write(`${(obj.kind ?? '').toLowerCase()}/${result.metadata.name ?? ''} created${suffix}\n`);
}

export async function createConfigMap(ctx: Context, name: string, flags: CreateFlags & SourceFlags): Promise<void> {
  const { data, binaryData } = configMapData(name, flags);
  const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data, binaryData };
  await send(ctx, 'configmaps', cm, flags);
}

export async function createGenericSecret(ctx: Context, name: string, flags: CreateFlags & SourceFlags & { type?: string }): Promise<void> {
  const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: secretData(flags) };
  if (flags.type) secret.type = flags.type;
  await send(ctx, 'secrets', secret, flags);
}

function readPem(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new CliError(`Cannot read file ${file}, ${(err as Error).message}`);
  }
}

/** A kubernetes.io/tls Secret from a certificate and its key, which must belong together. */
export async function createTLSSecret(ctx: Context, name: string, flags: CreateFlags & { cert?: string; key?: string }): Promise<void> {
  if (!flags.cert || !flags.key) throw new CliError('key and cert must be specified');
  const cert = readPem(flags.cert);
  const key = readPem(flags.key);
  try {
    if (!new crypto.X509Certificate(cert).checkPrivateKey(crypto.createPrivateKey(key))) throw new Error('private key does not match public key');
  } catch (err) {
    throw new CliError(`failed to load key pair tls: ${(err as Error).message}`);
  }
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': cert.toString('base64'), 'tls.key': key.toString('base64') },
  };
  await send(ctx, 'secrets', secret, flags);
}

export async function createServiceAccount(ctx: Context, name: string, flags: CreateFlags): Promise<void> {
  const sa: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } };
  await send(ctx, 'serviceaccounts', sa, flags);
}

export interface TokenFlags {
  audience?: string[];
  duration?: string;
  boundObjectKind?: string;
  boundObjectName?: string;
  boundObjectUid?: string;
  output?: string;
}

const boundKinds = ['Node', 'Pod', 'Secret'];

/** Requests a token for the service account and prints it (no newline unless on a terminal, as kubectl). */
export async function createToken(ctx: Context, serviceAccount: string, flags: TokenFlags): Promise<void> {
  const durationMs = flags.duration !== undefined ? parseDuration(flags.duration, 'duration') : 0;
  if (durationMs % 1000 !== 0) throw new CliError('--duration cannot be expressed in units less than seconds');
  if ((flags.audience ?? []).some((a) => a === '')) throw new CliError('--audience must not be an empty string');
  const request: TokenRequest = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: {} };
  if (flags.audience?.length) request.spec.audiences = flags.audience;
  if (durationMs > 0) request.spec.expirationSeconds = durationMs / 1000;
  if (!flags.boundObjectKind) {
    if (flags.boundObjectName) throw new CliError('--bound-object-name can only be set if --bound-object-kind is provided');
    if (flags.boundObjectUid) throw new CliError('--bound-object-uid can only be set if --bound-object-kind is provided');
  } else {
    if (!boundKinds.includes(flags.boundObjectKind)) throw new CliError(`supported --bound-object-kind values are ${boundKinds.join(', ')}`);
    if (!flags.boundObjectName) throw new CliError('--bound-object-name is required if --bound-object-kind is provided');
    request.spec.boundObjectRef = { kind: flags.boundObjectKind, apiVersion: 'v1', name: flags.boundObjectName, ...(flags.boundObjectUid ? { uid: flags.boundObjectUid } : {}) };
  }
  let response: TokenRequest;
  try {
    response = await ctx.client.createToken(ctx.namespace, serviceAccount, request);
  } catch (err) {
    if (err instanceof Error && err.name === 'ApiError') throw new CliError(`failed to create token: ${err.message}`);
    throw err;
  }
  const token = response.status?.token ?? '';
  if (!token) throw new CliError('failed to create token: no token in server response');
  if (flags.output) {
    process.stdout.write(formatObjects([response], parseOutputFormat(flags.output), true, 'TokenRequest'));
    return;
  }
  process.stdout.write(process.stdout.isTTY ? `${token}\n` : token);
}
