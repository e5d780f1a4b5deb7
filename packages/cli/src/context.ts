// What every command starts from: the connection (global flags over the kubeconfig) and
// the namespace to work in.

import { Client, optionsFromFlags } from '@peapod/client';
import type { ClientOptions } from '@peapod/client';
import { parseBool } from './flags';

export interface GlobalFlags {
  server?: string;
  token?: string;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  insecureSkipTlsVerify?: string | boolean;
}

export interface Context {
  client: Client;
  options: ClientOptions;
  /** --namespace, else the kubeconfig context's, else "default". */
  namespace: string;
}

export const userAgent = 'peactl/0.1.0';

export function connect(flags: GlobalFlags): Context {
  const { insecureSkipTlsVerify, ...rest } = flags;
  const insecure = insecureSkipTlsVerify === undefined ? undefined : parseBool(insecureSkipTlsVerify, 'insecure-skip-tls-verify');
  const { options, namespace } = optionsFromFlags({ ...rest, insecureSkipTlsVerify: insecure });
  options.userAgent = userAgent;
  // One command makes a few requests: loading undici would cost more than it saves.
  options.requestTransport = 'http';
  options.onWarning = (message) => process.stderr.write(`Warning: ${message}\n`);
  return { client: new Client(options), options, namespace };
}
