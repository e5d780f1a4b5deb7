// peactl cp SRC DEST [-c C], one side being [NAMESPACE/]POD:PATH. As kubectl does it: a tar
// stream through pods/exec, made or read here, read or made by `tar` in the container.
// DEST names the copy itself (a directory is copied as DEST, not into it).

import fs from 'fs';
import path from 'path';
import { PassThrough } from 'stream';
import tarfs from 'tar-fs';
import type { Context } from '../context';
import { CliError } from '../errors';
import { finish } from './exec';

export interface CpFlags {
  container?: string;
}

interface RemotePath {
  namespace?: string;
  pod: string;
  path: string;
}

/** POD:PATH or NAMESPACE/POD:PATH; a path that exists locally is never taken for one. */
export function parseRemote(spec: string): RemotePath | undefined {
  const m = /^(?:([^/:]+)\/)?([^/:]+):(.+)$/.exec(spec);
  if (!m || fs.existsSync(spec)) return undefined;
  return { namespace: m[1], pod: m[2], path: m[3] };
}

/**
 * Renames the leading path component of tar entries (from → to). On extraction anything else
 * is skipped (tar-fs itself keeps every entry inside the target directory).
 */
function renamer(from: string, to: string) {
  const under = (name: string, top: string): boolean => name === top || name.startsWith(`${top}/`);
  return {
    map: <H extends { name: string }>(header: H): H => ({ ...header, name: under(header.name, from) ? to + header.name.slice(from.length) : header.name }),
    ignore: (_name: string, header?: { name: string }) => !header || !under(header.name, to),
  };
}

export async function cp(ctx: Context, args: string[], flags: CpFlags): Promise<void> {
  if (args.length !== 2) throw new CliError('expected SRC DEST, one of them [NAMESPACE/]POD:PATH');
  const [src, dest] = args.map(parseRemote);
  if (src && dest) throw new CliError('one of src or dest must be a local file specification');
  if (!src && !dest) throw new CliError('one of src or dest must be a remote file specification (POD:PATH)');
  if (dest) await toPod(ctx, args[0], dest, flags);
  else await fromPod(ctx, src!, args[1], flags);
}

async function toPod(ctx: Context, local: string, remote: RemotePath, flags: CpFlags): Promise<void> {
  const full = path.resolve(local);
  if (!fs.existsSync(full)) throw new CliError(`${local} doesn't exist in local filesystem`);
  const base = path.basename(full);
  const names = renamer(base, path.posix.basename(remote.path));
  const pack = tarfs.pack(path.dirname(full), { entries: [base], map: names.map });
  const status = await ctx.client.exec(remote.namespace ?? ctx.namespace, remote.pod, ['tar', 'xmf', '-', '-C', path.posix.dirname(remote.path)], {
    container: flags.container,
    stdin: pack,
    stderr: process.stderr,
  });
  finish(status);
}

async function fromPod(ctx: Context, remote: RemotePath, local: string, flags: CpFlags): Promise<void> {
  const full = path.resolve(local);
  const names = renamer(path.posix.basename(remote.path), path.basename(full));
  const extract = tarfs.extract(path.dirname(full), { ignore: names.ignore, map: names.map });
  const tarStream = new PassThrough();
  tarStream.pipe(extract);
  const extracted = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  const status = await ctx.client.exec(remote.namespace ?? ctx.namespace, remote.pod, ['tar', 'cf', '-', '-C', path.posix.dirname(remote.path), path.posix.basename(remote.path)], {
    container: flags.container,
    stdout: tarStream,
    stderr: process.stderr,
  });
  tarStream.end();
  finish(status);
  await extracted;
}
