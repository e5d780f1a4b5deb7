// The resolver configuration file (resolv.conf(5)): what the node agent copies search
// domains from and the cluster DNS forwards other names to. Only the lines a stub resolver
// reads are kept; a later `search` or `domain` line replaces an earlier one, as glibc does.

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [keyword, ...values] = line.split(/\s+/);
    if (keyword === 'nameserver' && values[0]) conf.nameservers.push(values[0]);
    else if (keyword === 'search' || keyword === 'domain') conf.searches = values.filter((v) => v !== '');
    else if (keyword === 'options') conf.options.push(...values.filter((v) => v !== ''));
  }
  return conf;
}
