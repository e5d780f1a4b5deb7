// The data of `create configmap` and `create secret generic`, read as kubectl reads it:
// --from-file=[key=]path (a directory gives each regular file in it), --from-literal=key=value,
// and --from-env-file (KEY=value lines; '#' comments; a bare KEY takes the value from the
// environment). Errors are worded as kubectl's.

import fs from 'fs';
import path from 'path';
import { isConfigMapKey, isEnvVarName } from '@peapod/api';
import { CliError } from './errors';

export interface SourceFlags {
  fromFile?: string[];
  fromLiteral?: string[];
  fromEnvFile?: string[];
}

/** Where the values go: a ConfigMap's data (text) and binaryData, or a Secret's data. */
interface Sink {
  add(key: string, value: Buffer, fromFile: boolean): void;
  /** "env config file" or "env secret file" */
  envFileNoun: string;
}

/** kubectl's --from-file=[key=]path: the file's base name is the key unless one is given. */
export function parseFileSource(source: string): { key: string; file: string } {
  const separators = source.split('=').length - 1;
  if (separators === 0) return { key: path.basename(source), file: source };
  if (separators > 1) throw new CliError("key names or file paths cannot contain '='");
  if (source.startsWith('=')) throw new CliError(`key name for file path ${source.slice(1)} missing`);
  if (source.endsWith('=')) throw new CliError(`file path for key name ${source.slice(0, -1)} missing`);
  const [key, file] = source.split('=');
  return { key, file };
}

/** kubectl's --from-literal=key=value (the value may hold '='). */
export function parseLiteralSource(source: string): { key: string; value: string } {
  const eq = source.indexOf('=');
  if (eq <= 0) throw new CliError(`invalid literal source ${source}, expected key=value`);
  return { key: source.slice(0, eq), value: source.slice(eq + 1) };
}

function statOrFail(file: string): fs.Stats {
  try {
    return fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`error reading ${file}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

function addFiles(sources: string[], sink: Sink): void {
  for (const source of sources) {
    const { key, file } = parseFileSource(source);
    if (!statOrFail(file).isDirectory()) {
      sink.add(key, fs.readFileSync(file), true);
      continue;
    }
    if (source.includes('=')) throw new CliError('cannot give a key name for a directory path');
    for (const entry of fs.readdirSync(file, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.isFile()) sink.add(entry.name, fs.readFileSync(path.join(file, entry.name)), true);
    }
  }
}

function addEnvFiles(sources: string[], sink: Sink): void {
  for (const file of sources) {
    if (statOrFail(file).isDirectory()) throw new CliError(`${sink.envFileNoun} cannot be a directory`);
    const lines = fs.readFileSync(file).toString('utf8').split(/\r?\n/);
    lines.forEach((raw, i) => {
      const line = (i === 0 ? raw.replace(/^\uFEFF/, '') : raw).trimStart();
      if (line === '' || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const key = eq < 0 ? line : line.slice(0, eq);
      const errs = isEnvVarName(key);
      if (errs.length) throw new CliError(`${JSON.stringify(key)} is not a valid key name: ${errs.join(';')}`);
      sink.add(key, Buffer.from(eq < 0 ? (process.env[key] ?? '') : line.slice(eq + 1), 'utf8'), false);
    });
  }
}

function readSources(flags: SourceFlags, sink: Sink): void {
  if (flags.fromEnvFile?.length && (flags.fromFile?.length || flags.fromLiteral?.length)) {
    throw new CliError('from-env-file cannot be combined with from-file or from-literal');
  }
  addFiles(flags.fromFile ?? [], sink);
  for (const literal of flags.fromLiteral ?? []) {
    const { key, value } = parseLiteralSource(literal);
    sink.add(key, Buffer.from(value, 'utf8'), false);
  }
  addEnvFiles(flags.fromEnvFile ?? [], sink);
}

/** A ConfigMap's data and binaryData (files that are not UTF-8 go to binaryData, base64). */
export function configMapData(name: string, flags: SourceFlags): { data: Record<string, string>; binaryData: Record<string, string> } {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  const decoder = new TextDecoder('utf-8', { fatal: true });
  readSources(flags, {
    envFileNoun: 'env config file',
    add(key, value, fromFile) {
      const errs = isConfigMapKey(key);
      if (errs.length) throw new CliError(`${JSON.stringify(key)} is not a valid key name for a ConfigMap: ${errs.join(',')}`);
      if (Object.hasOwn(data, key)) throw new CliError(`cannot add key ${JSON.stringify(key)}, another key by that name already exists in Data for ConfigMap ${JSON.stringify(name)}`);
      if (Object.hasOwn(binaryData, key)) throw new CliError(`cannot add key ${JSON.stringify(key)}, another key by that name already exists in BinaryData for ConfigMap ${JSON.stringify(name)}`);
      if (!fromFile) {
        data[key] = value.toString('utf8');
        return;
      }
      try {
        data[key] = decoder.decode(value);
      } catch {
        binaryData[key] = value.toString('base64');
      }
    },
  });
  return { data, binaryData };
}

/** A Secret's data, base64. */
export function secretData(flags: SourceFlags): Record<string, string> {
  const data: Record<string, string> = {};
  readSources(flags, {
    envFileNoun: 'env secret file',
    add(key, value) {
      const errs = isConfigMapKey(key);
      if (errs.length) throw new CliError(`${JSON.stringify(key)} is not valid key name for a Secret ${errs.join(';')}`);
      if (Object.hasOwn(data, key)) throw new CliError(`cannot add key ${key}, another key by that name already exists`);
      data[key] = value.toString('base64');
    },
  });
  return data;
}
