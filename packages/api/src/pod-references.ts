// The ConfigMaps and Secrets a pod names (env, envFrom, volumes, projected sources): what its
// node may read, and what the agent watches for its volumes.
import type { Container, Pod } from './types';

function containersOf(pod: Pod): Container[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
}

interface EnvRefs {
  configMapKeyRef?: { name?: string };
  secretKeyRef?: { name?: string };
}

function named(names: (string | undefined)[]): string[] {
  return [...new Set(names.filter((n): n is string => typeof n === 'string' && n !== ''))];
}

/** Names of the ConfigMaps the pod refers to. */
export function configMapsOf(pod: Pod): string[] {
  const names: (string | undefined)[] = [];
  for (const c of containersOf(pod)) {
    for (const from of c.envFrom ?? []) names.push(from.configMapRef?.name);
    for (const env of c.env ?? []) names.push((env.valueFrom as EnvRefs | undefined)?.configMapKeyRef?.name);
  }
  for (const v of pod.spec.volumes ?? []) {
    names.push(v.configMap?.name);
    for (const source of v.projected?.sources ?? []) names.push(source.configMap?.name);
  }
  return named(names);
}

/** Names of the Secrets the pod refers to. */
export function secretsOf(pod: Pod): string[] {
  const names: (string | undefined)[] = [];
  for (const c of containersOf(pod)) {
    for (const from of c.envFrom ?? []) names.push(from.secretRef?.name);
    for (const env of c.env ?? []) names.push((env.valueFrom as EnvRefs | undefined)?.secretKeyRef?.name);
  }
  for (const v of pod.spec.volumes ?? []) {
    names.push(v.secret?.secretName);
    for (const source of v.projected?.sources ?? []) names.push(source.secret?.name);
  }
  return named(names);
}
