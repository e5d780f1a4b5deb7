// The nft command: applies a transaction read from stdin (atomically, all or nothing) and
// lists a table's named objects from its JSON output.

import { spawn } from 'child_process';
import type { TableObjects } from './ruleset';

export class NftError extends Error {}

export interface Nft {
  /** Applies the script as one transaction. */
  apply(script: string): Promise<void>;
  /** The table's chains, sets and maps; undefined when the table does not exist. */
  listTable(table: string): Promise<TableObjects | undefined>;
}

function run(binary: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (err) => reject(new NftError(`${binary}: ${err.message}`)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // nft that fails early closes its stdin: its exit status and stderr say why, not EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

interface NftJsonObject {
  chain?: { name: string };
  set?: { name: string };
  map?: { name: string };
}

export function nftCommand(binary = 'nft'): Nft {
  return {
    async apply(script) {
      const r = await run(binary, ['-f', '-'], script);
      if (r.code !== 0) throw new NftError(`nft -f failed: ${r.stderr.trim()}`);
    },
    async listTable(table) {
      const r = await run(binary, ['-j', 'list', 'table', 'ip', table]);
      if (r.code !== 0) {
        if (/No such file or directory/.test(r.stderr)) return undefined;
        throw new NftError(`nft list table ip ${table} failed: ${r.stderr.trim()}`);
      }
      const objects: TableObjects = { chains: [], sets: [], maps: [] };
      for (const o of (JSON.parse(r.stdout) as { nftables: NftJsonObject[] }).nftables) {
        if (o.chain) objects.chains.push(o.chain.name);
        else if (o.set) objects.sets.push(o.set.name);
        else if (o.map) objects.maps.push(o.map.name);
      }
      return objects;
    },
  };
}
