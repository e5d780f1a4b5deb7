import { openapiV2, openapiV3, openapiV3Root } from './openapi';

type Json = Record<string, unknown>;

const v3 = openapiV3('api/v1')! as { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> } };
const v2 = openapiV2() as { paths: Record<string, Record<string, Json>>; definitions: Record<string, Json> };

/** kubectl's test for server-side field validation: the first PATCH for the GVK must take `fieldValidation`. */
function kubectlSupportsFieldValidation(doc: typeof v3, gvk: { group: string; version: string; kind: string }): boolean {
  for (const item of Object.values(doc.paths)) {
    const patch = item.patch as Json | undefined;
    if (!patch) continue;
    const ext = patch['x-kubernetes-group-version-kind'] as Json;
    if (ext.group !== gvk.group || ext.version !== gvk.version || ext.kind !== gvk.kind) continue;
    return (patch.parameters as Json[]).some((p) => p.name === 'fieldValidation' && p.in === 'query');
  }
  return false;
}

function refsIn(x: unknown): string[] {
  return (JSON.stringify(x).match(/"\$ref":"[^"]+"/g) ?? []).map((r) => r.slice(8, -1));
}

describe('openapiV3 of api/v1', () => {
  it('has the paths kubectl and clients use', () => {
    for (const p of [
      '/api/v1/namespaces/{namespace}/pods',
      '/api/v1/namespaces/{namespace}/pods/{name}',
      '/api/v1/namespaces/{namespace}/pods/{name}/status',
      '/api/v1/namespaces/{namespace}/pods/{name}/binding',
      '/api/v1/namespaces/{namespace}/pods/{name}/log',
      '/api/v1/pods',
      '/api/v1/nodes',
      '/api/v1/nodes/{name}',
      '/api/v1/nodes/{name}/status',
      '/api/v1/namespaces',
      '/api/v1/namespaces/{name}',
      '/api/v1/namespaces/{namespace}/events',
      '/api/v1/namespaces/{namespace}/events/{name}',
      '/api/v1/events',
      '/api/v1/namespaces/{namespace}/bindings',
    ]) {
      expect(v3.paths).toHaveProperty([p]);
    }
  });

  it('tells kubectl that every kind supports server-side field validation', () => {
    for (const kind of ['Pod', 'Node', 'Namespace', 'Event']) {
      expect(kubectlSupportsFieldValidation(v3, { group: '', version: 'v1', kind })).toBe(true);
    }
  });

  it('gives every write the dryRun, fieldManager and fieldValidation parameters', () => {
    for (const item of Object.values(v3.paths)) {
      for (const m of ['post', 'put', 'patch']) {
        const op = item[m] as Json | undefined;
        // connect (exec, attach, portforward) is upgraded to a stream: no object is written.
        if (!op || op['x-kubernetes-action'] === 'connect') continue;
        const names = (op.parameters as Json[]).map((p) => p.name);
        expect(names).toEqual(expect.arrayContaining(['dryRun', 'fieldManager', 'fieldValidation']));
        expect(op.requestBody).toBeDefined();
      }
    }
  });

  it('labels operations with their action and kind', () => {
    const pods = v3.paths['/api/v1/namespaces/{namespace}/pods'];
    expect((pods.get as Json)['x-kubernetes-action']).toBe('list');
    expect((pods.post as Json)['x-kubernetes-action']).toBe('post');
    expect((pods.delete as Json)['x-kubernetes-action']).toBe('deletecollection');
    const binding = v3.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding'].post as Json;
    expect(binding['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Binding' });
    const patch = v3.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch as Json;
    expect(Object.keys((patch.requestBody as { content: Json }).content)).toContain('application/strategic-merge-patch+json');
  });

  it('resolves every reference within the document', () => {
    for (const r of refsIn(v3)) {
      expect(r.startsWith('#/components/schemas/')).toBe(true);
      expect(v3.components.schemas).toHaveProperty([r.slice('#/components/schemas/'.length)]);
    }
  });

  it('carries kinds and patch strategies on the schemas', () => {
    const pod = v3.components.schemas['io.k8s.api.core.v1.Pod'];
    expect(pod['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
    const spec = v3.components.schemas['io.k8s.api.core.v1.PodSpec'] as { properties: Record<string, Json> };
    expect(spec.properties.containers['x-kubernetes-patch-merge-key']).toBe('name');
    expect(spec.properties.containers['x-kubernetes-patch-strategy']).toBe('merge');
    expect(spec.properties.tolerations['x-kubernetes-patch-merge-key']).toBeUndefined();
  });

  it('is memoized', () => {
    expect(openapiV3('api/v1')!).toBe(v3);
  });
});

describe('openapiV3Root', () => {
  it('points at each group-version document with a stable hash', () => {
    const root = openapiV3Root() as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(root.paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/coordination.k8s.io/v1']));
    expect(root.paths['api/v1'].serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{64}$/);
    expect(openapiV3Root()).toEqual(root);
  });
});

describe('openapiV3 of a named group', () => {
  it('describes leases under /apis/coordination.k8s.io/v1 with their group', () => {
    const doc = openapiV3('apis/coordination.k8s.io/v1') as { paths: Record<string, Record<string, Json>> };
    const item = doc.paths['/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}'];
    expect(item.get).toMatchObject({ operationId: 'readCoordinationV1NamespacedLease', tags: ['coordination_v1'] });
    expect(item.get['x-kubernetes-group-version-kind']).toEqual({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' });
    expect(Object.keys(doc.paths).every((p) => p.startsWith('/apis/coordination.k8s.io/v1/'))).toBe(true);
  });

  it('is undefined for a group that is not served', () => {
    expect(openapiV3('apis/example.com/v1')).toBeUndefined();
  });
});

describe('openapiV2', () => {
  it('is swagger 2.0 with definitions and resolvable references', () => {
    expect((v2 as unknown as Json).swagger).toBe('2.0');
    for (const r of refsIn(v2)) {
      expect(v2.definitions).toHaveProperty([r.slice('#/definitions/'.length)]);
    }
  });

  it('describes int-or-string without anyOf', () => {
    expect(v2.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ type: 'string', format: 'int-or-string' });
    expect(v2.definitions['io.k8s.apimachinery.pkg.api.resource.Quantity']).toMatchObject({ type: 'string' });
    expect(JSON.stringify(v2)).not.toContain('anyOf');
  });

  it('has body parameters and kinds on operations', () => {
    const op = v2.paths['/api/v1/nodes/{name}'].put as Json;
    expect(op.operationId).toBe('replaceCoreV1Node');
    expect((op.parameters as Json[])[0]).toMatchObject({ name: 'body', in: 'body', schema: { $ref: '#/definitions/io.k8s.api.core.v1.Node' } });
    expect(op['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Node' });
    const list = v2.paths['/api/v1/pods'].get as Json;
    expect(list.operationId).toBe('listCoreV1PodForAllNamespaces');
    expect((list.parameters as Json[]).map((p) => p.name)).toContain('labelSelector');
  });
});
