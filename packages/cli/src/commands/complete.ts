// peactl __complete WORD...: the candidates the completion scripts offer, one per line.

import { complete } from '../completion';
import { connect } from '../context';
import type { GlobalFlags } from '../context';

function connectionFlags(words: string[]): GlobalFlags {
  const flags: GlobalFlags = {};
  const names: Record<string, keyof GlobalFlags> = {
    '--server': 'server',
    '-s': 'server',
    '--token': 'token',
    '--namespace': 'namespace',
    '-n': 'namespace',
    '--kubeconfig': 'kubeconfig',
    '--context': 'context',
  };
  for (let i = 0; i < words.length; i++) {
    const [name, value] = words[i].includes('=') ? [words[i].slice(0, words[i].indexOf('=')), words[i].slice(words[i].indexOf('=') + 1)] : [words[i], words[i + 1]];
    const key = names[name];
    if (key !== undefined && value !== undefined) flags[key] = value;
  }
  return flags;
}

export async function completeCommand(words: string[]): Promise<void> {
  const candidates = await complete(words, async (type, connection) => {
    try {
      const ctx = connect(connectionFlags(connection));
      try {
        const { resolveType } = await import('../resources');
        const resolved = await resolveType(ctx.client, type);
        const list = await ctx.client.listAll(resolved.name, { namespace: resolved.namespaced ? ctx.namespace : undefined });
        return list.items.map((o) => o.metadata.name ?? '');
      } finally {
        ctx.client.close();
      }
    } catch {
      // No server or no kubeconfig: complete without names.
      return [];
    }
  });
  process.stdout.write(candidates.map((c) => c + '\n').join(''));
}
