import { openapiV2, openapiV3 } from './openapi';
import { openapiV2Protobuf } from './openapi-protobuf';
import { typeNamed } from './protobuf/messages';
import { definitions } from './schemas';
import { authenticationDescriptions, autoscalingDescriptions, coordinationDescriptions, coreDescriptions, discoveryDescriptions, metaDescriptions, rbacDescriptions } from './schema-descriptions';

type Json = Record<string, any>; // decoded protobuf messages and documents, walked by the assertions

const doc = typeNamed('openapi.v2.Document').toObject(typeNamed('openapi.v2.Document').decode(openapiV2Protobuf()), { longs: Number, defaults: false }) as Json;
const json = openapiV2() as Json;

function named(list: Json[] | undefined, name: string): Json | undefined {
  return list?.find((e) => e.name === name)?.value;
}

describe('/openapi/v2 as a gnostic protobuf Document', () => {
  test('carries every definition and path of the JSON document', () => {
    expect(doc.swagger).toBe('2.0');
    expect(doc.definitions.additional_properties.map((d: Json) => d.name)).toEqual(Object.keys(json.definitions));
    expect(doc.paths.path.map((p: Json) => p.name)).toEqual(Object.keys(json.paths));
  });

  test('schemas: types, references, required fields, enums, descriptions and vendor extensions as kubectl reads them', () => {
    const pod = named(doc.definitions.additional_properties, 'io.k8s.api.core.v1.Pod')!;
    expect(pod.type.value).toEqual(['object']);
    expect(pod.description).toBe(json.definitions['io.k8s.api.core.v1.Pod'].description);
    const gvk = named(pod.vendor_extension, 'x-kubernetes-group-version-kind')!;
    // kubectl reads the value as YAML; JSON text is YAML.
    expect(JSON.parse(gvk.yaml)).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
    const spec = named(pod.properties.additional_properties, 'spec')!;
    expect(spec._ref).toBe('#/definitions/io.k8s.api.core.v1.PodSpec');
    const podSpec = named(doc.definitions.additional_properties, 'io.k8s.api.core.v1.PodSpec')!;
    expect(podSpec.required).toEqual(['containers']);
    const containers = named(podSpec.properties.additional_properties, 'containers')!;
    expect(containers.type.value).toEqual(['array']);
    expect(containers.items.schema[0]._ref).toBe('#/definitions/io.k8s.api.core.v1.Container');
    expect(JSON.parse(named(containers.vendor_extension, 'x-kubernetes-patch-merge-key')!.yaml)).toBe('name');
    const restart = named(podSpec.properties.additional_properties, 'restartPolicy')!;
    expect(restart.enum.map((e: Json) => JSON.parse(e.yaml))).toEqual(['Always', 'OnFailure', 'Never']);
    const labels = named(named(doc.definitions.additional_properties, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')!.properties.additional_properties, 'labels')!;
    expect(labels.additional_properties.schema.type.value).toEqual(['string']);
  });

  test('operations: parameters, responses and the action of each', () => {
    const item = named(doc.paths.path, '/api/v1/namespaces/{namespace}/pods')!;
    expect(item.parameters.map((p: Json) => p.parameter.non_body_parameter.path_parameter_sub_schema?.name ?? p.parameter.non_body_parameter.query_parameter_sub_schema?.name)).toEqual(['namespace', 'pretty']);
    const post = item.post;
    expect(post.operation_id).toBe('createCoreV1NamespacedPod');
    expect(post.parameters[0].parameter.body_parameter.schema._ref).toBe('#/definitions/io.k8s.api.core.v1.Pod');
    expect(post.parameters.some((p: Json) => p.parameter.non_body_parameter?.query_parameter_sub_schema?.name === 'fieldValidation')).toBe(true);
    expect(named(post.responses.response_code, '201')!.response.schema.schema._ref).toBe('#/definitions/io.k8s.api.core.v1.Pod');
    expect(JSON.parse(named(post.vendor_extension, 'x-kubernetes-action')!.yaml)).toBe('post');
  });
});

describe('field descriptions (kubectl explain)', () => {
  const sets: [string, Record<string, Record<string, string>>][] = [
    ['io.k8s.apimachinery.pkg.apis.meta.v1.', metaDescriptions],
    ['io.k8s.api.core.v1.', coreDescriptions],
    ['io.k8s.api.autoscaling.v1.', autoscalingDescriptions],
    ['io.k8s.api.coordination.v1.', coordinationDescriptions],
    ['io.k8s.api.discovery.v1.', discoveryDescriptions],
    ['io.k8s.api.authentication.v1.', authenticationDescriptions],
    ['io.k8s.api.rbac.v1.', rbacDescriptions],
  ];

  test('describe only types and fields that exist', () => {
    for (const [prefix, texts] of sets) {
      for (const [type, fields] of Object.entries(texts)) {
        const schema = definitions[prefix + type];
        expect([type, schema !== undefined]).toEqual([type, true]);
        const props = Object.keys((schema.properties ?? {}) as Json);
        for (const field of Object.keys(fields)) if (field) expect([type, field, props.includes(field)]).toEqual([type, field, true]);
      }
    }
  });

  test('every kind, its spec and status, and the pod spec down to container lifecycles: every field described', () => {
    const seen = new Set<string>();
    const visit = (name: string, depth: number) => {
      if (seen.has(name)) return;
      seen.add(name);
      const schema = definitions[name];
      expect([name, typeof schema.description]).toEqual([name, 'string']);
      for (const [field, p] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
        expect([name, field, typeof p.description]).toEqual([name, field, 'string']);
        const ref = (p.$ref ?? p.items?.$ref) as string | undefined;
        if (ref && depth > 0) visit(ref.slice('#/definitions/'.length), depth - 1);
      }
    };
    for (const [name, schema] of Object.entries(definitions)) if (schema['x-kubernetes-group-version-kind']) visit(name, 1);
    for (const name of ['PodSpec', 'Container', 'Lifecycle', 'LifecycleHandler', 'Probe', 'ObjectMeta']) visit(name === 'ObjectMeta' ? `io.k8s.apimachinery.pkg.apis.meta.v1.${name}` : `io.k8s.api.core.v1.${name}`, 1);
    expect(seen.size).toBeGreaterThan(30);
  });

  test('a described reference stays a reference: $ref beside its description in v2, allOf in v3', () => {
    const v2 = (openapiV2() as Json).definitions['io.k8s.api.core.v1.Container'].properties.lifecycle;
    expect(v2).toEqual({ $ref: '#/definitions/io.k8s.api.core.v1.Lifecycle', description: coreDescriptions.Container.lifecycle });
    const v3 = (openapiV3('api/v1') as Json).components.schemas['io.k8s.api.core.v1.Container'].properties.lifecycle;
    expect(v3).toEqual({ allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Lifecycle' }], description: coreDescriptions.Container.lifecycle });
  });
});
