import {
  DeleteOptions,
  EndpointSlice,
  Endpoints,
  fieldInvalid,
  findResource,
  isPodTerminal,
  specGracePeriodSeconds,
  KubeObject,
  Namespace,
  Node,
  Pod,
  ReplicationController,
  ResourceInfo,
  Service,
  StatusCause,
  validateObject,
} from '@peapod/api';
import type { FinishWrite, NamespaceContents, ObjectReader, Strategy, StrategyOptions } from './strategy';
import { admitNamespaceContent } from './namespace-lifecycle';
import { addDefaultTolerations, defaultPod, podQosClass, validatePodUpdate } from './pod-defaults';
import { defaultService, initIPFamilies, keepAllocatedValues, validateServiceUpdate } from './service-defaults';
import { forbidden, invalid } from '../errors';
import { admitServiceAccount } from './service-account-admission';

function info(name: string): ResourceInfo {
  const r = findResource(name);
  if (!r) throw new Error(`unknown resource ${name}`);
  return r;
}

/** Keeps status from the old object and everything else from the new one. */
function keepStatus(obj: KubeObject, old: KubeObject): void {
  const o = obj as KubeObject & { status?: unknown };
  const prev = (old as KubeObject & { status?: unknown }).status;
  if (prev === undefined) delete o.status;
  else o.status = prev;
}

/** Keeps everything but status (and labels/annotations, which status writers may set). */
function keepAllButStatus(obj: KubeObject, old: KubeObject): void {
  const o = obj as unknown as Record<string, unknown>;
  const prev = old as unknown as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'status' && k !== 'metadata') delete o[k];
  for (const k of Object.keys(prev)) if (k !== 'status' && k !== 'metadata') o[k] = prev[k];
  obj.metadata = {
    ...old.metadata,
    labels: obj.metadata.labels ?? old.metadata.labels,
    annotations: obj.metadata.annotations ?? old.metadata.annotations,
    resourceVersion: obj.metadata.resourceVersion,
  };
}

export class BaseStrategy implements Strategy {
  readonly resource: ResourceInfo;
  readonly tracksGeneration: boolean = false;
  readonly garbageCollectionPolicy: Strategy['garbageCollectionPolicy'] = 'Background';
  constructor(
    resource: string,
    protected readonly opts: StrategyOptions,
  ) {
    this.resource = info(resource);
  }
  applyDefaults(_obj: KubeObject): void {}
  async admitCreate(obj: KubeObject, read: ObjectReader): Promise<void> {
    if (this.resource.namespaced) await admitNamespaceContent(this.resource, obj, read);
  }
  prepareForCreate(_obj: KubeObject): void {}
  prepareForUpdate(_obj: KubeObject, _old: KubeObject): void {}
  prepareForStatusUpdate(obj: KubeObject, old: KubeObject): void {
    keepAllButStatus(obj, old);
  }
  validate(obj: KubeObject): StatusCause[] {
    return validateObject(this.resource.kind, obj, { allowPrivileged: this.opts.allowPrivileged });
  }
  validateUpdate(obj: KubeObject, _old: KubeObject): StatusCause[] {
    return this.validate(obj);
  }
  deleteGracePeriod(_obj: KubeObject, _opts: DeleteOptions): number | undefined {
    return undefined;
  }
  prepareForDelete(_obj: KubeObject): void {}
  awaitsFinalization(obj: KubeObject): boolean {
    return (obj.metadata.finalizers?.length ?? 0) > 0;
  }
}

class PodStrategy extends BaseStrategy {
  override readonly tracksGeneration = true;
  override applyDefaults(obj: KubeObject): void {
    defaultPod(obj as Pod);
    addDefaultTolerations(obj as Pod);
  }
  admit(obj: KubeObject): void {
    if (this.opts.lookup) admitServiceAccount(obj as Pod, this.opts.lookup);
  }
  override prepareForCreate(obj: KubeObject): void {
    const pod = obj as Pod;
    pod.status = { phase: 'Pending', qosClass: podQosClass(pod) };
  }
  override prepareForUpdate(obj: KubeObject, old: KubeObject): void {
    keepStatus(obj, old);
    // Ephemeral containers change through their own subresource only.
    const previous = (old as Pod).spec?.ephemeralContainers;
    const spec = (obj as Pod).spec;
    if (spec && typeof spec === 'object') {
      if (previous) spec.ephemeralContainers = previous;
      else delete spec.ephemeralContainers;
    }
  }
  /** pods/ephemeralcontainers: the stored pod with the request's spec.ephemeralContainers. */
  prepareForEphemeralContainersUpdate(obj: KubeObject, old: KubeObject): void {
    const wanted = (obj as Pod).spec?.ephemeralContainers;
    const resourceVersion = obj.metadata.resourceVersion;
    for (const k of Object.keys(obj)) delete (obj as unknown as Record<string, unknown>)[k];
    Object.assign(obj, old);
    obj.metadata = { ...old.metadata, resourceVersion };
    const pod = obj as Pod;
    pod.spec = { ...pod.spec };
    if (wanted) pod.spec.ephemeralContainers = wanted;
    else delete pod.spec.ephemeralContainers;
  }
  /** On create: no ephemeral containers yet (they are added to a running pod). */
  override validate(obj: KubeObject): StatusCause[] {
    const causes = super.validate(obj);
    if ((obj as Pod).spec?.ephemeralContainers?.length) {
      causes.push({ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: cannot be set on create' });
    }
    return causes;
  }
  override validateUpdate(obj: KubeObject, old: KubeObject): StatusCause[] {
    // The comparison with the old pod assumes a well-formed new one.
    const causes = super.validate(obj);
    return causes.length ? causes : validatePodUpdate(obj as Pod, old as Pod);
  }
  /** Graceful deletion (docs/architecture.md, a pod's path, step 12): a pod with no node to stop it, or finished, goes at once. */
  override deleteGracePeriod(obj: KubeObject, opts: DeleteOptions): number {
    const pod = obj as Pod;
    if (!pod.spec.nodeName || isPodTerminal(pod)) return 0;
    return opts.gracePeriodSeconds ?? specGracePeriodSeconds(pod);
  }
}

class NodeStrategy extends BaseStrategy {
  override prepareForCreate(obj: KubeObject): void {
    const node = obj as Node;
    node.spec ??= {};
  }
  override applyDefaults(obj: KubeObject): void {
    (obj as Node).spec ??= {};
  }
  // Nodes register with their status (as kubelets do), so create keeps it; updates of
  // the main resource keep the stored status.
  override prepareForUpdate(obj: KubeObject, old: KubeObject): void {
    keepStatus(obj, old);
  }
}

/** The namespaces the server makes at start-up and never lets go. */
export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

class NamespaceStrategy extends BaseStrategy {
  override applyDefaults(obj: KubeObject): void {
    const ns = obj as Namespace;
    ns.spec ??= {};
    ns.spec.finalizers ??= ['kubernetes'];
    if (ns.metadata.name) ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name };
  }
  override prepareForCreate(obj: KubeObject): void {
    (obj as Namespace).status = { phase: 'Active' };
  }
  override prepareForUpdate(obj: KubeObject, old: KubeObject): void {
    keepStatus(obj, old);
  }
  override prepareForDelete(obj: KubeObject): void {
    const name = obj.metadata.name ?? '';
    if (systemNamespaces.includes(name)) throw forbidden('namespaces', name, 'this namespace may not be deleted');
    const ns = obj as Namespace;
    ns.status = { ...ns.status, phase: 'Terminating' };
  }
  /** A namespace stays Terminating until the server has emptied it (spec.finalizers: kubernetes). */
  override awaitsFinalization(obj: KubeObject): boolean {
    return super.awaitsFinalization(obj) || ((obj as Namespace).spec?.finalizers?.length ?? 0) > 0;
  }
  /** The server removes a terminating namespace once nothing is left in it and no other finalizer holds it. */
  async finalizedByServer(obj: KubeObject, contents: NamespaceContents): Promise<boolean> {
    return obj.metadata.deletionTimestamp !== undefined && !obj.metadata.finalizers?.length && (await contents(obj.metadata.name ?? '')) === 0;
  }
}

class EventStrategy extends BaseStrategy {
  // Events own nothing: deleting one never concerns the garbage collector.
  override readonly garbageCollectionPolicy = 'Unsupported';
  ttlSeconds(): number | undefined {
    return this.opts.eventTtlSeconds;
  }
}

class ReplicationControllerStrategy extends BaseStrategy {
  override readonly tracksGeneration = true;
  // Kubernetes keeps v1 replication controllers' pre-garbage-collector default: a delete that
  // names no policy orphans the pods.
  override readonly garbageCollectionPolicy = 'Orphan';
  override applyDefaults(obj: KubeObject): void {
    const rc = obj as ReplicationController;
    if (typeof rc.spec !== 'object' || rc.spec === null) return;
    const spec = rc.spec;
    spec.replicas ??= 1;
    spec.minReadySeconds ??= 0;
    const template = spec.template;
    if (template && typeof template === 'object') {
      // As Kubernetes does: a missing selector is the template's labels, and missing template labels are the selector.
      if (!spec.selector && template.metadata?.labels) spec.selector = { ...template.metadata.labels };
      if (spec.selector && !template.metadata?.labels) template.metadata = { ...template.metadata, labels: { ...spec.selector } };
      // The controller's own labels, when it has none, are its pods' (Kubernetes' API reference says so).
      const podLabels = template.metadata?.labels;
      if (podLabels && Object.keys(podLabels).length > 0 && rc.metadata && Object.keys(rc.metadata.labels ?? {}).length === 0) {
        rc.metadata.labels = { ...podLabels };
      }
      if (template.spec && typeof template.spec === 'object') defaultPod({ metadata: {}, spec: template.spec } as Pod);
    }
  }
  override prepareForCreate(obj: KubeObject): void {
    (obj as ReplicationController).status = { replicas: 0 };
  }
  override prepareForUpdate(obj: KubeObject, old: KubeObject): void {
    keepStatus(obj, old);
  }
}

/**
 * Services: defaults, the cluster IP and node ports from the allocator (kept on updates that
 * leave them out, immutable once set), and freed on delete.
 */
class ServiceStrategy extends BaseStrategy {
  override applyDefaults(obj: KubeObject): void {
    defaultService(obj as Service);
  }
  override prepareForCreate(obj: KubeObject): void {
    (obj as Service).status = { loadBalancer: {} };
  }
  override prepareForUpdate(obj: KubeObject, old: KubeObject): void {
    keepStatus(obj, old);
    keepAllocatedValues(obj as Service, old as Service);
  }
  override validateUpdate(obj: KubeObject, old: KubeObject): StatusCause[] {
    return [...validateServiceUpdate(obj as Service, old as Service), ...this.validate(obj)];
  }
  async beginWrite(obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<FinishWrite> {
    const svc = obj as Service;
    const causes = initIPFamilies(svc, old as Service | undefined);
    if (causes.length) throw invalid('Service', svc.metadata.name ?? '', causes);
    return this.opts.serviceAllocator.allocate(svc, old as Service | undefined, dryRun);
  }
  afterDelete(obj: KubeObject): Promise<void> {
    return this.opts.serviceAllocator.release(obj as Service);
  }
}

type PortList = { protocol?: string }[] | undefined;

/** Ports without a protocol are TCP, in Endpoints and EndpointSlices alike. */
function defaultProtocols(ports: PortList): void {
  if (Array.isArray(ports)) for (const p of ports) if (p && typeof p === 'object') p.protocol ??= 'TCP';
}

class EndpointsStrategy extends BaseStrategy {
  override applyDefaults(obj: KubeObject): void {
    const subsets = (obj as Endpoints).subsets;
    if (Array.isArray(subsets)) for (const s of subsets) if (s && typeof s === 'object') defaultProtocols(s.ports);
  }
}

/** EndpointSlices: ports default to TCP; the address type is fixed at creation. */
class EndpointSliceStrategy extends BaseStrategy {
  override applyDefaults(obj: KubeObject): void {
    defaultProtocols((obj as EndpointSlice).ports);
  }

  override validateUpdate(obj: KubeObject, old: KubeObject): StatusCause[] {
    const causes = this.validate(obj);
    const type = (obj as EndpointSlice).addressType;
    if (type !== (old as EndpointSlice).addressType) causes.push(fieldInvalid('addressType', type, 'field is immutable'));
    return causes;
  }
}

export function makeStrategies(opts: StrategyOptions): Map<string, Strategy> {
  const list: Strategy[] = [
    new PodStrategy('pods', opts),
    new NodeStrategy('nodes', opts),
    new NamespaceStrategy('namespaces', opts),
    new EventStrategy('events', opts),
    new ReplicationControllerStrategy('replicationcontrollers', opts),
    new BaseStrategy('bindings', opts),
    new BaseStrategy('leases', opts),
    new ServiceStrategy('services', opts),
    new EndpointsStrategy('endpoints', opts),
    new EndpointSliceStrategy('endpointslices', opts),
  ];
  return new Map(list.map((s) => [s.resource.name, s]));
}
