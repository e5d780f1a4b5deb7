// Rules for what a pod says about its name resolution (spec.dnsConfig, spec.hostAliases),
// worded as Kubernetes words them (pkg/apis/core/validation): what the node writes into the
// pod's /etc/resolv.conf and /etc/hosts must be something a resolver can read.

import { isIP } from 'node:net';
import { asArray, asObject, asString, invalid, invalidIPMessage, required, type JsonObject, type ValidationCause } from './field-rules';
import { isDNS1123Subdomain } from './names';

/** The limits glibc's resolver and kubelet agree on. */
export const maxDNSNameservers = 3;
export const maxDNSSearchPaths = 32;
export const maxDNSSearchListChars = 2048;

export function validatePodDNS(spec: JsonObject, field: string, out: ValidationCause[]): void {
  const config = asObject(spec.dnsConfig);
  const nameservers = asArray(config?.nameservers);
  if (spec.dnsPolicy === 'None') {
    if (!config) {
      out.push(required(`${field}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
      return;
    }
    if (nameservers.length === 0) {
      out.push(required(`${field}.dnsConfig.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
    }
  }
  if (config) {
    const at = `${field}.dnsConfig`;
    if (nameservers.length > maxDNSNameservers) {
      out.push(invalid(`${at}.nameservers`, nameservers, `must not have more than ${maxDNSNameservers} nameservers`));
    }
    nameservers.forEach((ns, i) => {
      if (isIP(String(ns)) === 0) out.push(invalid(`${at}.nameservers[${i}]`, ns, invalidIPMessage));
    });
    const searches = asArray(config.searches).map((s) => String(s));
    if (searches.length > maxDNSSearchPaths) {
      out.push(invalid(`${at}.searches`, searches, `must not have more than ${maxDNSSearchPaths} search paths`));
    }
    if (searches.join(' ').length > maxDNSSearchListChars) {
      out.push(invalid(`${at}.searches`, searches, `must not have more than ${maxDNSSearchListChars} characters (including spaces) in the search list`));
    }
    searches.forEach((search, i) => {
      // A trailing dot is fine: it only says the name is absolute.
      const name = search.endsWith('.') ? search.slice(0, -1) : search;
      for (const msg of isDNS1123Subdomain(name)) out.push(invalid(`${at}.searches[${i}]`, name, msg));
    });
    asArray(config.options).forEach((option, i) => {
      if (!asString(asObject(option)?.name)) out.push(required(`${at}.options[${i}]`, 'Option.Name must not be empty'));
    });
  }
  asArray(spec.hostAliases).forEach((alias, i) => {
    const entry = asObject(alias);
    const ip = entry?.ip;
    if (isIP(String(ip ?? '')) === 0) out.push(invalid(`${field}.hostAliases[${i}].ip`, ip ?? '', invalidIPMessage));
    asArray(entry?.hostnames).forEach((hostname, j) => {
      for (const msg of isDNS1123Subdomain(String(hostname))) out.push(invalid(`${field}.hostAliases[${i}].hostnames[${j}]`, hostname, msg));
    });
  });
}
