// Shell completion: the bash and zsh scripts are thin wrappers that ask
// `peactl __complete WORD...` for candidates, so both shells complete the same commands,
// flags, resource types and (from the server) object names.

// The resource table alone: the package's index would also load its validators.
import { resources } from '@peapod/api/resources';

export interface CommandSpec {
  name: string;
  /** Flags with their value hints; a flag taking a value ends with "=". */
  flags: string[];
  /** What the positional arguments are: resource types then names, or names of one type. */
  positional?: 'type-then-names' | 'pods' | 'nodes' | 'shells';
}

export const globalFlags = ['--server=', '-s=', '--token=', '--namespace=', '-n=', '--kubeconfig=', '--context='];

export const commandSpecs: CommandSpec[] = [
  { name: 'get', flags: ['--output=', '-o=', '--selector=', '-l=', '--field-selector=', '--all-namespaces', '-A', '--show-labels', '--show-managed-fields', '--watch', '-w', '--no-headers'], positional: 'type-then-names' },
  { name: 'describe', flags: ['--selector=', '-l='], positional: 'type-then-names' },
  { name: 'create', flags: ['--filename=', '-f=', '--save-config'] },
  { name: 'apply', flags: ['--filename=', '-f=', '--server-side', '--field-manager=', '--force-conflicts'] },
  {
    name: 'delete',
    flags: ['--filename=', '-f=', '--selector=', '-l=', '--all', '--all-namespaces', '-A', '--grace-period=', '--force', '--now', '--wait=', '--timeout=', '--ignore-not-found', '--cascade='],
    positional: 'type-then-names',
  },
  { name: 'scale', flags: ['--replicas=', '--current-replicas=', '--resource-version=', '--filename=', '-f=', '--selector=', '-l=', '--all'], positional: 'type-then-names' },
  { name: 'run', flags: ['--image=', '--restart=', '--command', '--labels=', '-l=', '--env=', '--port=', '--dry-run=', '--output=', '-o='] },
  { name: 'wait', flags: ['--for=', '--timeout=', '--selector=', '-l=', '--all'], positional: 'type-then-names' },
  { name: 'logs', flags: ['--container=', '-c=', '--follow', '-f', '--tail=', '--previous', '-p', '--timestamps'], positional: 'pods' },
  { name: 'exec', flags: ['--container=', '-c=', '--stdin', '-i', '--tty', '-t'], positional: 'pods' },
  { name: 'attach', flags: ['--container=', '-c=', '--stdin', '-i', '--tty', '-t'], positional: 'pods' },
  { name: 'port-forward', flags: ['--address='], positional: 'pods' },
  { name: 'cp', flags: ['--container=', '-c='] },
  { name: 'cordon', flags: [], positional: 'nodes' },
  { name: 'uncordon', flags: [], positional: 'nodes' },
  { name: 'drain', flags: ['--grace-period=', '--timeout='], positional: 'nodes' },
  { name: 'version', flags: ['--client', '--output=', '-o='] },
  { name: 'cluster-info', flags: [] },
  { name: 'api-resources', flags: ['--output=', '-o=', '--namespaced='] },
  { name: 'completion', flags: [], positional: 'shells' },
];

const flagValues: Record<string, string[]> = {
  '--output': ['json', 'yaml', 'wide', 'name', 'jsonpath='],
  '-o': ['json', 'yaml', 'wide', 'name', 'jsonpath='],
  '--restart': ['Always', 'OnFailure', 'Never'],
  '--for': ['delete', 'condition=Ready'],
  '--wait': ['true', 'false'],
  '--dry-run': ['none', 'client', 'server'],
};

/** Asks the server for names; given the connection flags found on the command line. */
export type NameLister = (type: string, connection: string[]) => Promise<string[]>;

function takesValue(flag: string, spec: CommandSpec | undefined): boolean {
  return [...globalFlags, ...(spec?.flags ?? [])].includes(`${flag}=`);
}

/** Candidates for the last word of `words` (the words after `peactl`). */
export async function complete(words: string[], listNames: NameLister): Promise<string[]> {
  // bash splits `--flag=value` at "="; put such words back together.
  const joined: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '=' && joined.length > 0) joined[joined.length - 1] += '=' + (words[i + 1] ?? '');
    else {
      joined.push(words[i]);
      continue;
    }
    i++;
  }
  const current = joined.length > 0 ? joined[joined.length - 1] : '';
  const before = joined.slice(0, -1);
  const positional: string[] = [];
  const connection: string[] = [];
  let spec: CommandSpec | undefined;
  for (let i = 0; i < before.length; i++) {
    const w = before[i];
    if (w.startsWith('-')) {
      const name = w.split('=')[0];
      const hasValue = takesValue(name, spec) && !w.includes('=');
      if (globalFlags.includes(`${name}=`)) connection.push(w, ...(hasValue && i + 1 < before.length ? [before[i + 1]] : []));
      if (hasValue) i++;
      continue;
    }
    if (spec === undefined) spec = commandSpecs.find((c) => c.name === w);
    else positional.push(w);
  }
  const filter = (xs: string[], prefix = current): string[] => xs.filter((x) => x.startsWith(prefix));

  const previous = before[before.length - 1];
  if (previous !== undefined && previous.startsWith('-') && !previous.includes('=') && takesValue(previous, spec)) {
    if (previous === '-n' || previous === '--namespace') return filter(await listNames('namespaces', connection));
    return filter(flagValues[previous] ?? []);
  }
  if (current.startsWith('-')) {
    const eq = current.indexOf('=');
    if (eq > 0) {
      const flag = current.slice(0, eq);
      const values = flag === '-n' || flag === '--namespace' ? await listNames('namespaces', connection) : (flagValues[flag] ?? []);
      return filter(values.map((v) => `${flag}=${v}`));
    }
    return filter([...(spec?.flags ?? []), ...globalFlags].map((f) => (f.endsWith('=') ? f.slice(0, -1) : f)));
  }
  if (spec === undefined) return filter(commandSpecs.map((c) => c.name));
  switch (spec.positional) {
    case 'shells':
      return positional.length === 0 ? filter(['bash', 'zsh']) : [];
    case 'pods':
      return positional.length === 0 ? filter(await listNames('pods', connection)) : [];
    case 'nodes':
      return filter(await listNames('nodes', connection));
    case 'type-then-names':
      if (positional.length === 0) return filter(resources.filter((r) => r.verbs.includes('get')).map((r) => r.name));
      return filter(await listNames(positional[0], connection));
    default:
      return [];
  }
}

export function completionScript(shell: string): string {
  if (shell === 'bash') {
    return `# bash completion for peactl: source <(peactl completion bash)
_peactl() {
  local IFS=$'\\n'
  COMPREPLY=( $(peactl __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
  if [[ \${#COMPREPLY[@]} -eq 1 && \${COMPREPLY[0]} == *= ]]; then
    compopt -o nospace 2>/dev/null
  fi
}
complete -o default -F _peactl peactl
`;
  }
  if (shell === 'zsh') {
    return `#compdef peactl
# zsh completion for peactl: source <(peactl completion zsh), with compinit loaded
_peactl() {
  local -a candidates
  candidates=("\${(@f)$(peactl __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=("\${(@)candidates:#}")
  (( \${#candidates} )) || return 1
  local c
  for c in "\${candidates[@]}"; do
    if [[ $c == *= ]]; then compadd -S '' -- "$c"; else compadd -- "$c"; fi
  done
}
compdef _peactl peactl
`;
  }
  throw new Error(`Unsupported shell type "${shell}".`);
}
