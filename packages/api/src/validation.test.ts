import { definitions, resolveSchema, schemaFor } from './schemas';
import type { Pod } from './types';
import { invalidObjectMessage, invalidStatus, pruneUnknownFields, unknownFields, validateObject, type ValidationCause } from './validation';

function goodPod(): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, annotations: { 'example.com/note': 'x' } },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'busybox',
          command: ['sleep', '3600'],
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'A', value: '1' }],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } }, postStart: { httpGet: { port: 'http', path: '/' } } },
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5 },
          securityContext: { privileged: true },
        },
      ],
      initContainers: [{ name: 'init', image: 'busybox' }],
      volumes: [
        { name: 'data', emptyDir: {} },
        { name: 'host', hostPath: { path: '/tmp' } },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      nodeSelector: { 'kubernetes.io/hostname': 'n1' },
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
          },
        },
      },
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-01-01T00:00:00Z' }],
      containerStatuses: [
        { name: 'app', ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: { startedAt: '2024-01-01T00:00:00Z' } } },
      ],
    },
  };
}

function fields(causes: ValidationCause[]): string[] {
  return causes.map((c) => `${c.field} ${c.reason}`);
}

describe('schemas', () => {
  it('resolves every reference', () => {
    const refs = JSON.stringify(definitions).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(50);
    for (const r of refs) expect(() => resolveSchema({ $ref: r.slice(8, -1) })).not.toThrow();
  });

  it('finds schemas by kind and definition name', () => {
    expect(schemaFor('Pod')).toBe(definitions['io.k8s.api.core.v1.Pod']);
    expect(schemaFor('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')).toBeDefined();
    expect(schemaFor('DeleteOptions')).toBe(definitions['io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']);
    expect(schemaFor('Scale')).toBe(definitions['io.k8s.api.autoscaling.v1.Scale']);
    expect(schemaFor('Nope')).toBeUndefined();
  });

  it('compiles every top-level kind', () => {
    for (const kind of ['Pod', 'Node', 'Namespace', 'Event', 'Binding', 'DeleteOptions', 'ReplicationController', 'Scale', 'Status']) {
      expect(Array.isArray(validateObject(kind, {}))).toBe(true);
    }
  });
});

describe('validateObject: pods', () => {
  it('accepts a full, valid pod', () => {
    expect(validateObject('Pod', goodPod())).toEqual([]);
  });

  it('accepts nulls where Go would (kubectl sends creationTimestamp: null)', () => {
    const p = goodPod() as unknown as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    p.metadata.creationTimestamp = null;
    p.spec.nodeSelector = null;
    expect(validateObject('Pod', p)).toEqual([]);
  });

  it('reports a bad name like Kubernetes', () => {
    const p = goodPod();
    p.metadata.name = 'Web_1';
    const causes = validateObject('Pod', p);
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: expect.stringMatching(
          /^Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '\.', and must start and end with an alphanumeric character \(e\.g\. 'example\.com', regex used for validation is/,
        ),
      },
    ]);
    expect(invalidObjectMessage('Pod', 'Web_1', causes)).toMatch(/^Pod "Web_1" is invalid: metadata\.name: Invalid value: "Web_1": a lowercase/);
  });

  it('requires a name or generateName, and checks generateName with its trailing dash', () => {
    const p = goodPod();
    delete p.metadata.name;
    expect(validateObject('Pod', p)).toEqual([
      { reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' },
    ]);
    p.metadata.generateName = 'web-';
    expect(validateObject('Pod', p)).toEqual([]);
    p.metadata.generateName = 'Web-';
    expect(fields(validateObject('Pod', p))).toEqual(['metadata.generateName FieldValueInvalid']);
  });

  it('reports every problem, not just the first', () => {
    const p = goodPod();
    const c = p.spec.containers[0];
    delete c.image;
    c.ports = [{ containerPort: 70000 }, { containerPort: 80, hostPort: -1 }];
    c.resources = { requests: { cpu: '2', memory: 'lots' }, limits: { cpu: '1' } };
    c.volumeMounts = [{ name: 'nope', mountPath: '/x' }, { name: 'data', mountPath: '/x' }];
    p.spec.containers.push({ name: 'app', image: 'x' });
    p.spec.volumes!.push({ name: 'data', emptyDir: {} });
    p.spec.terminationGracePeriodSeconds = -1;
    p.metadata.labels = { 'bad key!': 'v', ok: '-bad-' };
    expect(fields(validateObject('Pod', p)).sort()).toEqual(
      [
        'metadata.labels FieldValueInvalid',
        'metadata.labels FieldValueInvalid',
        'spec.containers[0].image FieldValueRequired',
        'spec.containers[0].ports[0].containerPort FieldValueInvalid',
        'spec.containers[0].ports[1].hostPort FieldValueInvalid',
        'spec.containers[0].resources.requests FieldValueInvalid',
        'spec.containers[0].resources.requests[memory] FieldValueInvalid',
        'spec.containers[0].volumeMounts[0].name FieldValueNotFound',
        'spec.containers[0].volumeMounts[1].mountPath FieldValueInvalid',
        'spec.containers[1].name FieldValueDuplicate',
        'spec.terminationGracePeriodSeconds FieldValueInvalid',
        'spec.volumes[2].name FieldValueDuplicate',
      ].sort(),
    );
  });

  it('words the request/limit and port causes like Kubernetes', () => {
    const p = goodPod();
    p.spec.containers[0].resources = { requests: { cpu: '2' }, limits: { cpu: '1' } };
    p.spec.containers[0].ports = [{ containerPort: 0 }];
    const msgs = validateObject('Pod', p).map((c) => `${c.field}: ${c.message}`);
    expect(msgs).toContain('spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1');
    expect(msgs).toContain('spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive');
  });

  it('requires at least one container', () => {
    const p = goodPod();
    p.spec.containers = [];
    expect(fields(validateObject('Pod', p))).toEqual(['spec.containers FieldValueRequired']);
    expect(fields(validateObject('Pod', { metadata: { name: 'x' } }))).toEqual(['spec.containers FieldValueRequired']);
  });

  it('checks enums through the schema', () => {
    const p = goodPod() as unknown as { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
    p.spec.restartPolicy = 'Sometimes';
    p.spec.dnsPolicy = 'Magic';
    p.spec.containers[0].imagePullPolicy = 'Maybe';
    (p.spec.containers[0].ports as Record<string, unknown>[])[0].protocol = 'ICMP';
    const causes = validateObject('Pod', p);
    expect(fields(causes)).toEqual([
      'spec.containers[0].ports[0].protocol FieldValueNotSupported',
      'spec.containers[0].imagePullPolicy FieldValueNotSupported',
      'spec.restartPolicy FieldValueNotSupported',
      'spec.dnsPolicy FieldValueNotSupported',
    ]);
    expect(causes[2].message).toBe('Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
  });

  it('reports type errors with field paths', () => {
    const p = goodPod() as unknown as { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
    p.spec.containers[0].ports = [{ containerPort: '80' }];
    p.spec.containers[0].command = 'sleep 1';
    (p.spec.containers[0].lifecycle as Record<string, Record<string, Record<string, unknown>>>).postStart.httpGet.port = true;
    const causes = validateObject('Pod', p);
    expect(causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.containers[0].command', message: 'Invalid value: "sleep 1": must be of type array' },
      { reason: 'FieldValueInvalid', field: 'spec.containers[0].ports[0].containerPort', message: 'Invalid value: "80": must be of type integer' },
      {
        reason: 'FieldValueInvalid',
        field: 'spec.containers[0].lifecycle.postStart.httpGet.port',
        message: 'Invalid value: true: must be of type integer or string',
      },
    ]);
  });

  it('forbids privileged containers when the cluster disallows them', () => {
    const p = goodPod();
    p.spec.initContainers![0].securityContext = { privileged: true };
    expect(validateObject('Pod', p, { allowPrivileged: true })).toEqual([]);
    expect(validateObject('Pod', p, { allowPrivileged: false })).toEqual([
      { reason: 'FieldValueForbidden', field: 'spec.containers[0].securityContext.privileged', message: 'Forbidden: disallowed by cluster policy' },
      { reason: 'FieldValueForbidden', field: 'spec.initContainers[0].securityContext.privileged', message: 'Forbidden: disallowed by cluster policy' },
    ]);
  });

  it('checks handlers, tolerations and affinity', () => {
    const p = goodPod();
    p.spec.containers[0].lifecycle = { preStop: {}, postStart: { exec: { command: ['x'] }, sleep: { seconds: 1 } } };
    p.spec.tolerations = [{ operator: 'Equal', value: 'x' }, { key: 'a', operator: 'Exists', value: 'v' }, { key: 'b', tolerationSeconds: 5 }];
    p.spec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'a', operator: 'In' },
                { key: 'b', operator: 'Exists', values: ['x'] },
                { key: 'c', operator: 'Gt', values: ['x'] },
              ],
              matchFields: [{ key: 'spec.nodeName', operator: 'In', values: ['n'] }],
            },
          ],
        },
      },
    };
    expect(fields(validateObject('Pod', p))).toEqual([
      'spec.containers[0].lifecycle.postStart.sleep FieldValueForbidden',
      'spec.containers[0].lifecycle.preStop FieldValueRequired',
      'spec.tolerations[0].operator FieldValueInvalid',
      'spec.tolerations[1].operator FieldValueInvalid',
      'spec.tolerations[2].effect FieldValueInvalid',
      'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values FieldValueRequired',
      'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values FieldValueForbidden',
      'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[2].values FieldValueRequired',
      'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key FieldValueNotSupported',
    ]);
  });

  it('checks probes as Kubernetes does: one handler, no negative numbers, liveness and startup succeed once', () => {
    const p = goodPod();
    const c = p.spec.containers[0];
    c.readinessProbe = { exec: { command: ['true'] }, periodSeconds: 0, failureThreshold: -1, terminationGracePeriodSeconds: 5 };
    c.livenessProbe = { httpGet: { port: 80, httpHeaders: [{ name: 'Bad Header', value: 'x' }] }, successThreshold: 2, terminationGracePeriodSeconds: 0 };
    c.startupProbe = { tcpSocket: { port: 'http' }, exec: { command: ['x'] }, initialDelaySeconds: -3 };
    expect(validateObject('Pod', p)).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.containers[0].livenessProbe.httpGet.httpHeaders[0].name',
        message:
          "Invalid value: \"Bad Header\": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')",
      },
      { reason: 'FieldValueInvalid', field: 'spec.containers[0].livenessProbe.terminationGracePeriodSeconds', message: 'Invalid value: 0: must be greater than 0' },
      { reason: 'FieldValueInvalid', field: 'spec.containers[0].livenessProbe.successThreshold', message: 'Invalid value: 2: must be 1' },
      { reason: 'FieldValueInvalid', field: 'spec.containers[0].readinessProbe.failureThreshold', message: 'Invalid value: -1: must be greater than or equal to 0' },
      {
        reason: 'FieldValueInvalid',
        field: 'spec.containers[0].readinessProbe.terminationGracePeriodSeconds',
        message: 'Invalid value: 5: must not be set for readinessProbes',
      },
      { reason: 'FieldValueForbidden', field: 'spec.containers[0].startupProbe.tcpSocket', message: 'Forbidden: may not specify more than 1 handler type' },
      { reason: 'FieldValueInvalid', field: 'spec.containers[0].startupProbe.initialDelaySeconds', message: 'Invalid value: -3: must be greater than or equal to 0' },
    ]);
  });

  it('forbids hooks and probes on init containers', () => {
    const p = goodPod();
    p.spec.initContainers![0].readinessProbe = { exec: { command: ['true'] } };
    p.spec.initContainers![0].lifecycle = { postStart: { exec: { command: ['true'] } } };
    expect(validateObject('Pod', p)).toEqual([
      {
        reason: 'FieldValueForbidden',
        field: 'spec.initContainers[0].lifecycle',
        message: 'Forbidden: may not be set for init containers without restartPolicy=Always',
      },
      {
        reason: 'FieldValueForbidden',
        field: 'spec.initContainers[0].readinessProbe',
        message: 'Forbidden: may not be set for init containers without restartPolicy=Always',
      },
    ]);
  });

  it('requires a volume source and checks container names as DNS labels', () => {
    const p = goodPod();
    p.spec.volumes = [{ name: 'data' }, { name: 'host', hostPath: { path: '/x' }, emptyDir: {} }];
    p.spec.containers[0].name = 'app.v1';
    expect(fields(validateObject('Pod', p))).toEqual([
      'spec.volumes[0] FieldValueRequired',
      'spec.volumes[1].hostPath FieldValueForbidden',
      'spec.containers[0].name FieldValueInvalid',
    ]);
  });

  it('checks dnsConfig and hostAliases as Kubernetes does', () => {
    const p = goodPod();
    p.spec.dnsPolicy = 'None';
    expect(validateObject('Pod', p).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None',
    ]);
    p.spec.dnsConfig = { searches: ['ns.svc.cluster.local.', 'Bad_Name'], options: [{ name: 'ndots', value: '2' }, { value: '1' }] };
    p.spec.hostAliases = [{ ip: '10.0.0.300', hostnames: ['db.local', 'DB'] }];
    expect(fields(validateObject('Pod', p))).toEqual([
      'spec.dnsConfig.nameservers FieldValueRequired',
      'spec.dnsConfig.searches[1] FieldValueInvalid',
      'spec.dnsConfig.options[1] FieldValueRequired',
      'spec.hostAliases[0].ip FieldValueInvalid',
      'spec.hostAliases[0].hostnames[1] FieldValueInvalid',
    ]);
    p.spec.dnsConfig = { nameservers: ['1.1.1.1', '8.8.8.8', '9.9.9.9', 'x'] };
    p.spec.hostAliases = [{ ip: '10.0.0.3', hostnames: ['db.local'] }];
    const causes = validateObject('Pod', p);
    expect(causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.dnsConfig.nameservers: Invalid value: ["1.1.1.1","8.8.8.8","9.9.9.9","x"]: must not have more than 3 nameservers',
      'spec.dnsConfig.nameservers[3]: Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    p.spec.dnsConfig = { nameservers: ['10.96.0.10'], searches: ['svc.cluster.local'] };
    expect(validateObject('Pod', p)).toEqual([]);
  });

  it('accepts numeric quantities (YAML "cpu: 1")', () => {
    const p = goodPod();
    p.spec.containers[0].resources = { requests: { cpu: 0.5 as unknown as string }, limits: { cpu: 1 as unknown as string } };
    expect(validateObject('Pod', p)).toEqual([]);
  });
});

describe('validateObject: pod volumes of files', () => {
  const fields = (causes: ValidationCause[]) => causes.map((c) => `${c.field} ${c.reason}`);

  it('accepts configMap, secret, downwardAPI and projected volumes as the ServiceAccount admission writes them', () => {
    const p = goodPod();
    p.spec.volumes = [
      { name: 'cfg', configMap: { name: 'app', items: [{ key: 'a', path: 'conf/a' }], defaultMode: 0o644 } },
      { name: 'sec', secret: { secretName: 'creds', optional: true } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      {
        name: 'kube-api-access-abcde',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ];
    p.spec.containers[0].volumeMounts = [{ name: 'cfg', mountPath: '/cfg' }];
    expect(validateObject('Pod', p)).toEqual([]);
  });

  it("reports what Kubernetes reports about them", () => {
    const p = goodPod();
    p.spec.containers[0].volumeMounts = [];
    p.spec.volumes = [
      { name: 'cfg', configMap: { items: [{ key: '', path: '../x' }], defaultMode: 0o1000 } },
      { name: 'sec', secret: {}, emptyDir: {} },
      { name: 'info', downwardAPI: { items: [{ path: '/abs' }] } },
      { name: 'proj', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 60, path: 'token' }, secret: { name: 's' } }] } },
    ];
    expect(fields(validateObject('Pod', p))).toEqual([
      'spec.volumes[0].configMap.name FieldValueRequired',
      'spec.volumes[0].configMap.items[0].key FieldValueRequired',
      'spec.volumes[0].configMap.items[0].path FieldValueInvalid',
      'spec.volumes[0].configMap.defaultMode FieldValueInvalid',
      'spec.volumes[1].secret FieldValueForbidden',
      'spec.volumes[1].secret.secretName FieldValueRequired',
      'spec.volumes[2].downwardAPI.items[0].path FieldValueInvalid',
      'spec.volumes[2].downwardAPI.items[0] FieldValueRequired',
      'spec.volumes[3].projected.sources[0] FieldValueForbidden',
      'spec.volumes[3].projected.sources[0].serviceAccountToken.expirationSeconds FieldValueInvalid',
    ]);
    const token = validateObject('Pod', p).find((c) => c.field.endsWith('expirationSeconds'));
    expect(token?.message).toBe('Invalid value: 60: may not specify a duration less than 10 minutes');
  });
});

describe('validateObject: other kinds', () => {
  it('checks namespace names as DNS labels', () => {
    expect(validateObject('Namespace', { metadata: { name: 'team-a' } })).toEqual([]);
    expect(fields(validateObject('Namespace', { metadata: { name: 'team.a' } }))).toEqual(['metadata.name FieldValueInvalid']);
  });

  it('checks node names and taints', () => {
    expect(validateObject('Node', { metadata: { name: 'node-1.example.com' } })).toEqual([]);
    expect(fields(validateObject('Node', { metadata: {} }))).toEqual(['metadata.name FieldValueRequired']);
    const dup = { metadata: { name: 'n' }, spec: { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', effect: 'NoSchedule' }] } };
    expect(fields(validateObject('Node', dup))).toEqual(['spec.taints[1] FieldValueDuplicate']);
    const bad = { metadata: { name: 'n' }, spec: { taints: [{ key: 'a', effect: 'Sometimes' }] } };
    expect(fields(validateObject('Node', bad))).toEqual(['spec.taints[0].effect FieldValueNotSupported']);
  });

  it('requires an event involvedObject', () => {
    expect(fields(validateObject('Event', { metadata: { name: 'e.1' } }))).toEqual(['involvedObject FieldValueRequired']);
    expect(validateObject('Event', { metadata: { name: 'e.1' }, involvedObject: { kind: 'Pod', name: 'p' }, eventTime: null })).toEqual([]);
  });

  it('requires a binding target name', () => {
    expect(fields(validateObject('Binding', { metadata: { name: 'p' }, target: {} }))).toEqual(['target.name FieldValueRequired']);
    expect(fields(validateObject('Binding', { metadata: { name: 'p' } }))).toEqual(['target FieldValueRequired']);
    expect(validateObject('Binding', { metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } })).toEqual([]);
  });

  it('checks replication controllers', () => {
    const rc = {
      metadata: { name: 'rc' },
      spec: {
        replicas: 2,
        selector: { app: 'web' },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
    };
    expect(validateObject('ReplicationController', rc)).toEqual([]);
    const bad = structuredClone(rc);
    bad.spec.replicas = -1;
    bad.spec.template.metadata.labels = { app: 'db' };
    (bad.spec.template.spec as Record<string, unknown>).restartPolicy = 'Never';
    const causes = validateObject('ReplicationController', bad);
    expect(causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.metadata.labels: Invalid value: {"app":"db"}: selector does not match template labels',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
    const noTemplate = { metadata: { name: 'rc' }, spec: { selector: { app: 'x' } } };
    expect(fields(validateObject('ReplicationController', noTemplate))).toEqual(['spec.template FieldValueRequired']);
  });

  it('checks scale and delete options', () => {
    expect(fields(validateObject('Scale', { metadata: { name: 'x' }, spec: { replicas: -2 } }))).toEqual(['spec.replicas FieldValueInvalid']);
    expect(validateObject('DeleteOptions', { gracePeriodSeconds: 0, preconditions: { uid: 'u' } })).toEqual([]);
    expect(fields(validateObject('DeleteOptions', { propagationPolicy: 'Orphan', orphanDependents: true, dryRun: ['Some'] }))).toEqual([
      'propagationPolicy FieldValueInvalid',
      'dryRun[0] FieldValueNotSupported',
    ]);
  });

  it('names an unknown kind as the problem', () => {
    expect(fields(validateObject('Widget', {}))).toEqual(['kind FieldValueNotSupported']);
  });
});

describe('invalidStatus', () => {
  it('builds a 422 Status listing every cause', () => {
    const causes = [
      { reason: 'FieldValueRequired', field: 'spec.containers[0].image', message: 'Required value' },
      { reason: 'FieldValueRequired', field: 'spec.containers[1].image', message: 'Required value' },
    ];
    const s = invalidStatus('Pod', 'p', causes);
    expect(s.code).toBe(422);
    expect(s.reason).toBe('Invalid');
    expect(s.message).toBe('Pod "p" is invalid: [spec.containers[0].image: Required value, spec.containers[1].image: Required value]');
    expect(s.details).toEqual({ name: 'p', group: '', kind: 'Pod', causes });
  });
});

describe('unknownFields', () => {
  it('finds nothing in a known object, including status, managedFields, apiVersion and kind', () => {
    const p = goodPod();
    p.metadata.managedFields = [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }];
    expect(unknownFields('Pod', p)).toEqual([]);
  });

  it('lists unknown fields with Kubernetes paths', () => {
    const p = goodPod() as unknown as Record<string, unknown> & { spec: { containers: Record<string, unknown>[] } };
    p.spec.containers[0].imagePullPolice = 'Always';
    (p.spec.containers[0].resources as Record<string, unknown>).limitz = {};
    p.extra = 1;
    (p.metadata as Record<string, unknown>).nam = 'x';
    expect(unknownFields('Pod', p)).toEqual(['.metadata.nam', '.spec.containers[0].resources.limitz', '.spec.containers[0].imagePullPolice', '.extra']);
  });

  it('passes over strategic merge patch directives', () => {
    const patch = {
      spec: {
        '$setElementOrder/containers': [{ name: 'a' }],
        containers: [{ name: 'a', env: [{ name: 'B', $patch: 'delete' }], '$deleteFromPrimitiveList/args': ['x'] }],
      },
    };
    expect(unknownFields('Pod', patch)).toEqual([]);
  });

  it('does not look inside maps of strings or quantities', () => {
    expect(unknownFields('Node', { metadata: { name: 'n', labels: { anything: 'x' } }, status: { capacity: { 'example.com/gpu': '1' } } })).toEqual([]);
  });
});

describe('pruneUnknownFields', () => {
  test('removes unknown fields in place, whatever their names, and keeps known ones', () => {
    const pod = {
      metadata: { name: 'p', labels: { 'app.kubernetes.io/name': 'x' }, '.': 1, ']': 2 },
      spec: { containers: [{ name: 'c', image: 'i', 'a.b[0]': true }] },
      bogus: { nested: 1 },
      gone: null,
    };
    // What it removed, as unknownFields() names it (a null field is absent: removed, not named).
    expect(pruneUnknownFields('Pod', pod)).toEqual(['.metadata..', '.metadata.]', '.spec.containers[0].a.b[0]', '.bogus']);
    expect(pod).toEqual({ metadata: { name: 'p', labels: { 'app.kubernetes.io/name': 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
  });
});
