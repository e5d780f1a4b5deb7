// A @kubernetes/client-node configuration for a server URL, with a bearer token or without credentials, and its CoreV1Api.
import * as k8s from '@kubernetes/client-node';

export function clientNodeFor(server, token) {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'peapod', server, skipTLSVerify: true }],
    users: [{ name: 'peapod', ...(token ? { token } : {}) }],
    contexts: [{ name: 'peapod', cluster: 'peapod', user: 'peapod' }],
    currentContext: 'peapod',
  });
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api) };
}
