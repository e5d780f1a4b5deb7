// A @kubernetes/client-node configuration for a server URL without credentials, and its CoreV1Api.
import * as k8s from '@kubernetes/client-node';

export function clientNodeFor(server) {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'peapod', server, skipTLSVerify: true }],
    users: [{ name: 'peapod' }],
    contexts: [{ name: 'peapod', cluster: 'peapod', user: 'peapod' }],
    currentContext: 'peapod',
  });
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api) };
}
