import { sameJson, defaultHttpGet, defaultImagePullPolicy, defaultProbe, defaultTerminationGracePeriodSeconds, unreachableTaintKey, volumeSourceKinds } from '@peapod/api';
import type { Container, DownwardAPIVolumeFile, Pod, StatusCause, Toleration, Volume } from '@peapod/api';

function defaultContainer(c: Container): void {
  if (typeof c !== 'object' || c === null) return;
  c.imagePullPolicy ??= defaultImagePullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  // Requests default to limits, as the API server does when only limits are given.
  if (c.resources.limits && typeof c.resources.limits === 'object') {
    for (const [k, v] of Object.entries(c.resources.limits)) {
      c.resources.requests ??= {};
      c.resources.requests[k] ??= v;
    }
  }
  if (Array.isArray(c.ports)) for (const p of c.ports) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (typeof c.lifecycle === 'object' && c.lifecycle !== null) {
    defaultHttpGet(c.lifecycle.postStart?.httpGet);
    defaultHttpGet(c.lifecycle.preStop?.httpGet);
  }
}

/** The tolerations the DefaultTolerationSeconds admission adds: 5 minutes on a lost node. */
const defaultTolerations: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: unreachableTaintKey, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

/** Fills the defaults Kubernetes fills on a pod; tolerant of bad input (validation reports that). */
export function defaultPod(pod: Pod): void {
  if (typeof pod.spec !== 'object' || pod.spec === null) return;
  const spec = pod.spec;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= defaultTerminationGracePeriodSeconds;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  if (Array.isArray(spec.containers)) spec.containers.forEach(defaultContainer);
  if (Array.isArray(spec.initContainers)) spec.initContainers.forEach(defaultContainer);
  if (Array.isArray(spec.ephemeralContainers)) spec.ephemeralContainers.forEach(defaultContainer);
  if (Array.isArray(spec.volumes)) for (const v of spec.volumes) if (v && typeof v === 'object') defaultVolume(v);
}

/** Kubernetes' file mode default for volumes of files (0644). */
const defaultFileMode = 0o644;

function defaultFieldRefs(items: DownwardAPIVolumeFile[] | undefined): void {
  if (Array.isArray(items)) for (const i of items) if (i?.fieldRef && typeof i.fieldRef === 'object') i.fieldRef.apiVersion ??= 'v1';
}

/** A volume naming no source is an emptyDir; volumes of files get their default mode. */
function defaultVolume(v: Volume): void {
  if (!volumeSourceKinds.some((k) => v[k] !== undefined)) v.emptyDir = {};
  if (v.configMap && typeof v.configMap === 'object') v.configMap.defaultMode ??= defaultFileMode;
  if (v.secret && typeof v.secret === 'object') v.secret.defaultMode ??= defaultFileMode;
  if (v.downwardAPI && typeof v.downwardAPI === 'object') {
    v.downwardAPI.defaultMode ??= defaultFileMode;
    defaultFieldRefs(v.downwardAPI.items);
  }
  if (v.projected && typeof v.projected === 'object') {
    v.projected.defaultMode ??= defaultFileMode;
    if (Array.isArray(v.projected.sources)) {
      for (const src of v.projected.sources) {
        if (src?.serviceAccountToken && typeof src.serviceAccountToken === 'object') src.serviceAccountToken.expirationSeconds ??= 3600;
        if (src?.downwardAPI && typeof src.downwardAPI === 'object') defaultFieldRefs(src.downwardAPI.items);
      }
    }
  }
}

/** Adds the DefaultTolerationSeconds tolerations to a pod (not to templates: pods made from them get them here). */
export function addDefaultTolerations(pod: Pod): void {
  if (typeof pod.spec !== 'object' || pod.spec === null) return;
  const tolerations = Array.isArray(pod.spec.tolerations) ? pod.spec.tolerations : [];
  for (const t of defaultTolerations) {
    if (!tolerations.some((x) => x && x.key === t.key && (x.effect === t.effect || !x.effect))) tolerations.push({ ...t });
  }
  pod.spec.tolerations = tolerations;
}

function objects<T>(list: unknown): T[] {
  return Array.isArray(list) ? list.filter((x): x is T => typeof x === 'object' && x !== null) : [];
}

/** The QoS class; runs before validation, so it must not trust the shape of what it reads. */
export function podQosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...objects<Container>(pod.spec?.containers), ...objects<Container>(pod.spec?.initContainers)];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const resources = typeof c.resources === 'object' && c.resources !== null ? c.resources : {};
    const req = typeof resources.requests === 'object' && resources.requests !== null ? resources.requests : {};
    const lim = typeof resources.limits === 'object' && resources.limits !== null ? resources.limits : {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (!lim[r] || (req[r] !== undefined && req[r] !== lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** The parts of a pod's spec an update may change (besides container images). */
function mutableView(pod: Pod): unknown {
  const spec = { ...pod.spec } as Record<string, unknown>;
  delete spec.activeDeadlineSeconds;
  delete spec.tolerations;
  delete spec.terminationGracePeriodSeconds;
  // Changed through pods/ephemeralcontainers only; checked apart (validateEphemeralContainers).
  delete spec.ephemeralContainers;
  const strip = (list: unknown) =>
    Array.isArray(list) ? list.map((c: Record<string, unknown>) => ({ ...c, image: undefined })) : list;
  spec.containers = strip(spec.containers);
  spec.initContainers = strip(spec.initContainers);
  return spec;
}

export function validatePodUpdate(pod: Pod, old: Pod): StatusCause[] {
  const causes: StatusCause[] = validateEphemeralContainers(pod, old);
  if (!sameJson(mutableView(pod), mutableView(old))) {
    causes.push({
      reason: 'FieldValueForbidden',
      field: 'spec',
      message:
        'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds`',
    });
  }
  const oldTolerations = old.spec.tolerations ?? [];
  const newTolerations = pod.spec.tolerations ?? [];
  for (const t of oldTolerations) {
    if (!newTolerations.some((n) => sameJson(n, t))) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'spec.tolerations',
        message: 'Forbidden: existing toleration can not be modified except its tolerationSeconds',
      });
      break;
    }
  }
  return causes;
}

/** Ephemeral containers are only ever added: one that exists may be neither changed nor removed. */
function validateEphemeralContainers(pod: Pod, old: Pod): StatusCause[] {
  const now = new Map((pod.spec.ephemeralContainers ?? []).map((c) => [c.name, c]));
  for (const c of old.spec.ephemeralContainers ?? []) {
    const current = now.get(c.name);
    if (!current || !sameJson(current, c)) {
      const what = current ? 'changed' : 'removed';
      return [{ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: `Forbidden: existing ephemeral containers "${c.name}" may not be ${what}` }];
    }
  }
  return [];
}
