import { renderJsonPath } from './jsonpath';
import { alignTabs, describeLayout, GrowingTable } from './tabwriter';
import { Writable } from 'stream';
import type { KubeObject } from '@peapod/api';
import { asList, formatObjects, objectPieces, parseOutputFormat, toJson, toYaml, writePieces } from './objects';
import { TablePrinter } from './table';
import type { ServerTable } from './table';

const list = {
  kind: 'List',
  items: [
    { metadata: { name: 'a' }, status: { podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] } },
    { metadata: { name: 'b' }, status: { podIP: '10.0.0.2', conditions: [{ type: 'Ready', status: 'False' }] } },
  ],
};

describe('jsonpath', () => {
  it('prints fields, wildcards, indexes, ranges, filters and literals', () => {
    expect(renderJsonPath('{.items[0].metadata.name}', list)).toBe('a');
    expect(renderJsonPath('{.items[*].metadata.name}', list)).toBe('a b');
    expect(renderJsonPath('{.items[-1].status.podIP}', list)).toBe('10.0.0.2');
    expect(renderJsonPath('{range .items[*]}{.metadata.name}{"\\n"}{end}', list)).toBe('a\nb\n');
    expect(renderJsonPath('names: {.items[*].metadata.name}!', list)).toBe('names: a b!');
    expect(renderJsonPath('{.items[?(@.status.podIP=="10.0.0.2")].metadata.name}', list)).toBe('b');
    expect(renderJsonPath('{.items[0].status.conditions[?(@.type=="Ready")].status}', list)).toBe('True');
    expect(renderJsonPath('{.items[0:1].metadata.name}', list)).toBe('a');
    expect(renderJsonPath('{.items[0].metadata}', list)).toBe('{"name":"a"}');
  });

  it('prints nothing for missing fields and rejects broken templates', () => {
    expect(renderJsonPath('{.items[5].metadata.name}{.nope}', list)).toBe('');
    expect(() => renderJsonPath('{.items[*]', list)).toThrow(/unclosed action/);
    expect(() => renderJsonPath('{range .items[*]}x', list)).toThrow(/unclosed range/);
    expect(() => renderJsonPath('{end}', list)).toThrow(/not in range/);
  });
});

describe('tabwriter', () => {
  it('aligns columns in blocks of lines that have them, as Go tabwriter does', () => {
    const text = 'Name:\tweb\nNamespace:\tdefault\nContainers:\n  c:\n    Image:\tbusybox\n    Port:\t<none>\n';
    expect(alignTabs(text, describeLayout)).toBe('Name:       web\nNamespace:  default\nContainers:\n  c:\n    Image:  busybox\n    Port:   <none>\n');
  });

  it('keeps widths growing across batches (get -w)', () => {
    const t = new GrowingTable();
    expect(t.format([['NAME', 'STATUS', 'AGE'], ['a', 'Running', '1s']])).toBe('NAME   STATUS    AGE\na      Running   1s\n');
    expect(t.format([['longer-name', 'Pending', '0s']])).toBe('longer-name   Pending   0s\n');
    expect(t.format([['b', 'Running', '0s']])).toBe('b             Running   0s\n');
  });
});

describe('table printer', () => {
  const table: ServerTable = {
    kind: 'Table',
    columnDefinitions: [
      { name: 'Name', priority: 0 },
      { name: 'Status', priority: 0 },
      { name: 'IP', priority: 1 },
    ],
    rows: [{ cells: ['web', 'Running', '10.0.0.5'], object: { metadata: { namespace: 'ns1', labels: { b: '2', a: '1' } } } }],
  };

  it('prints priority-0 columns, and all of them when wide', () => {
    const opts = { wide: false, withNamespace: false, showLabels: false, noHeaders: false };
    expect(new TablePrinter(opts).print(table)).toBe('NAME   STATUS\nweb    Running\n');
    expect(new TablePrinter({ ...opts, wide: true }).print(table)).toBe('NAME   STATUS    IP\nweb    Running   10.0.0.5\n');
  });

  it('adds NAMESPACE and LABELS columns, and drops the header on request', () => {
    const p = new TablePrinter({ wide: false, withNamespace: true, showLabels: true, noHeaders: true });
    expect(p.print(table)).toBe('ns1   web   Running   a=1,b=2\n');
  });
});

describe('object output', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z', resourceVersion: '6' }, spec: { containers: [{ name: 'c', image: 'x' }] } };

  it('prints one object as itself, several as a v1 List, with sorted keys', () => {
    expect(formatObjects([pod], { kind: 'json' }, true, 'Pod')).toBe(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { creationTimestamp: '2026-01-01T00:00:00Z', name: 'web', resourceVersion: '6' }, spec: { containers: [{ image: 'x', name: 'c' }] } }, null, 4) + '\n');
    const several = JSON.parse(formatObjects([pod, pod], { kind: 'json' }, false, 'Pod')) as { kind: string; items: unknown[] };
    expect(several.kind).toBe('List');
    expect(several.items).toHaveLength(2);
    expect(formatObjects([pod], { kind: 'name' }, true, 'Pod')).toBe('pod/web\n');
  });

  it('writes YAML as kubectl does: sorted keys, quoted timestamps, unindented sequences', () => {
    expect(toYaml(pod)).toBe(
      'apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: "2026-01-01T00:00:00Z"\n  name: web\n  resourceVersion: "6"\nspec:\n  containers:\n  - image: x\n    name: c\n',
    );
  });

  it('prints a List in pieces, one an object, that join to the List printed whole', () => {
    const configMap = (name: string, data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { 'app.kubernetes.io/name': 'x: y' } }, data } as KubeObject);
    const objects: KubeObject[] = [
      pod,
      configMap('script', { 'run.sh': '#!/bin/sh\n\necho "hi"\n\n\nexit 0\n', empty: '', 'trailing ': 'ends with spaces   ', json: '{"a": [1, 2]}' }),
      configMap('kept', { keep: 'two blank lines after\n\n\n', unicode: 'żółw 🐢', yes: 'y', on: 'on' }),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nested' }, spec: { containers: [{ name: 'c', image: 'x', args: [], env: [{ name: 'A', value: '1' }] }], volumes: [{ name: 'v', emptyDir: {} }] } } as unknown as KubeObject,
    ];
    for (const items of [objects, objects.slice(0, 1), []]) {
      const json = [...objectPieces(items, { kind: 'json' }, false, 'Pod')];
      expect(json.join('')).toBe(toJson(asList(items)));
      const yaml = [...objectPieces(items, { kind: 'yaml' }, false, 'Pod')];
      expect(yaml.join('')).toBe(toYaml(asList(items)));
      if (items.length > 1) expect(json.length).toBe(items.length + 2);
    }
  });

  it('writes pieces in order, waiting for a slow stream to drain', async () => {
    const written: string[] = [];
    let drains = 0;
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, done) {
        written.push(chunk.toString());
        setImmediate(done);
      },
    });
    slow.on('drain', () => drains++);
    const pieces = Array.from({ length: 3000 }, (_, i) => `${'x'.repeat(1000)} ${i}\n`);
    await writePieces(slow, pieces);
    expect(written.join('')).toBe(pieces.join(''));
    expect(written.length).toBeGreaterThan(2);
    expect(drains).toBe(written.length);
  });

  it('rejects unknown output formats with kubectl-like wording', () => {
    expect(() => parseOutputFormat('xml')).toThrow(/unable to match a printer suitable for the output format "xml"/);
    expect(parseOutputFormat('jsonpath={.a}')).toEqual({ kind: 'jsonpath', template: '{.a}' });
  });
});
