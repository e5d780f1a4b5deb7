// What a pod's /etc/resolv.conf and /etc/hosts say, as kubelet writes them: the resolver
// follows spec.dnsPolicy (ClusterFirst: the cluster DNS and the pod's search domains;
// Default: the node's resolvers; None: spec.dnsConfig alone) with spec.dnsConfig merged on
// top, and the hosts file names the pod itself and its spec.hostAliases. Pure: the runtime
// writes the result into the pod's infra container, whose files every container shares.

import type { Pod, PodDNSConfig, ResolvConf } from '@peapod/api';
import { maxDNSNameservers, maxDNSSearchListChars, maxDNSSearchPaths } from '@peapod/api';
import { podIdentity } from './labels';

export interface NodeDNS {
  /** The cluster DNS service's addresses (--cluster-dns); none: ClusterFirst pods get Default, as kubelet does. */
  clusterDNS: string[];
  /** --cluster-domain, e.g. cluster.local */
  clusterDomain: string;
  /** The node's resolver configuration (--resolv-conf). */
  host: ResolvConf;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Options by name, later ones replacing earlier ones of the same name (ndots:5 then ndots:2 gives ndots:2). */
function mergeOptions(base: string[], extra: PodDNSConfig['options']): string[] {
  const byName = new Map<string, string>();
  const put = (option: string) => byName.set(option.split(':')[0], option);
  base.forEach(put);
  for (const o of extra ?? []) if (o.name) put(o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  return [...byName.values()];
}

/** Search domains past the resolver's limits are dropped, as kubelet drops them. */
function withinLimits(searches: string[]): string[] {
  const kept: string[] = [];
  let chars = 0;
  for (const s of searches.slice(0, maxDNSSearchPaths)) {
    chars += (kept.length > 0 ? 1 : 0) + s.length;
    if (chars > maxDNSSearchListChars) break;
    kept.push(s);
  }
  return kept;
}

function format(conf: ResolvConf): string {
  const lines = conf.nameservers.slice(0, maxDNSNameservers).map((ns) => `nameserver ${ns}`);
  if (conf.searches.length > 0) lines.push(`search ${withinLimits(conf.searches).join(' ')}`);
  if (conf.options.length > 0) lines.push(`options ${conf.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The pod's resolv.conf, or undefined when Docker's own file is right: policy Default
 * without dnsConfig gets the node's resolvers, which Docker already gives every container
 * (replacing loopback resolvers a container cannot reach).
 */
export function podResolvConf(pod: Pod, node: NodeDNS): string | undefined {
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  const extra = pod.spec.dnsConfig;
  let base: ResolvConf;
  if (policy === 'None') {
    base = { nameservers: [], searches: [], options: [] };
  } else if (policy !== 'Default' && node.clusterDNS.length > 0) {
    const ns = podIdentity(pod).namespace;
    const domain = node.clusterDomain;
    base = {
      nameservers: node.clusterDNS,
      searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...node.host.searches],
      options: ['ndots:5'],
    };
  } else {
    if (!extra) return undefined;
    base = node.host;
  }
  return format({
    nameservers: unique([...base.nameservers, ...(extra?.nameservers ?? [])]),
    searches: unique([...base.searches, ...(extra?.searches ?? [])]),
    options: mergeOptions(base.options, extra?.options),
  });
}

/** The pod's /etc/hosts: loopback names, the pod's own name at its IP (with its FQDN under a subdomain), its host aliases. */
export function podHostsFile(pod: Pod, podIP: string, clusterDomain: string): string {
  const lines = [
    '# Managed by peapod-agent.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  const hostname = (pod.spec.hostname ?? podIdentity(pod).name).slice(0, 63);
  if (podIP) {
    const { subdomain } = pod.spec;
    lines.push(subdomain ? `${podIP}\t${hostname}.${subdomain}.${podIdentity(pod).namespace}.svc.${clusterDomain}\t${hostname}` : `${podIP}\t${hostname}`);
  }
  const aliases = (pod.spec.hostAliases ?? []).filter((a) => (a.hostnames ?? []).length > 0);
  if (aliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${(a.hostnames ?? []).join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}
