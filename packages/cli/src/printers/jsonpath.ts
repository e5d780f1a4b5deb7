// The part of kubectl's JSONPath templates that people type: literal text, `{.a.b}`,
// `{.items[*].metadata.name}`, `{.items[0].status.podIP}`, `{.a[-1]}`, `{.a[1:3]}`,
// `{.conditions[?(@.type=="Ready")].status}`, `{"\n"}`, `{range .items[*]}...{end}`.
// Missing fields print nothing, as in `kubectl get -o jsonpath`.

import { CliError } from '../errors';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'filter'; path: Step[]; op: '==' | '!='; value: string | number | boolean }
  | { kind: 'exists'; path: Step[] };

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'path'; steps: Step[] }
  | { kind: 'range'; steps: Step[]; body: Node[] };

function parseLiteral(s: string): string | number | boolean {
  const t = s.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  if (t === 'true' || t === 'false') return t === 'true';
  if (t !== '' && !Number.isNaN(Number(t))) return Number(t);
  return t;
}

function parsePath(expr: string, template: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('$')) s = s.slice(1);
  if (s.startsWith('@')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  const bad = (): never => {
    throw new CliError(`error parsing jsonpath ${template}, unrecognized identifier in ${expr}`);
  };
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      i++;
      let name = '';
      while (i < s.length && s[i] !== '.' && s[i] !== '[') {
        if (s[i] === '\\') i++;
        name += s[i];
        i++;
      }
      if (name === '*') steps.push({ kind: 'wildcard' });
      else if (name !== '') steps.push({ kind: 'field', name });
    } else if (c === '[') {
      const close = s.indexOf(']', s[i + 1] === '?' ? s.indexOf(')', i) : i);
      if (close < 0) bad();
      const inner = s.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^-?\d*:-?\d*$/.test(inner)) {
        const [a, b] = inner.split(':');
        steps.push({ kind: 'slice', start: a === '' ? undefined : Number(a), end: b === '' ? undefined : Number(b) });
      } else if (inner.startsWith('?(') && inner.endsWith(')')) {
        const cond = inner.slice(2, -1);
        const m = /^(@[^=!<>]*?)\s*(==|!=)\s*(.+)$/.exec(cond);
        if (m) steps.push({ kind: 'filter', path: parsePath(m[1], template), op: m[2] as '==' | '!=', value: parseLiteral(m[3]) });
        else if (cond.trim().startsWith('@')) steps.push({ kind: 'exists', path: parsePath(cond, template) });
        else bad();
      } else if (/^['"].*['"]$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else bad();
    } else {
      bad();
    }
  }
  return steps;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch === 't' ? '\t' : ch === 'r' ? '\r' : ch));
}

export function parseJsonPath(template: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    const top = stack[stack.length - 1];
    if (open < 0) {
      top.push({ kind: 'text', text: template.slice(i) });
      break;
    }
    if (open > i) top.push({ kind: 'text', text: template.slice(i, open) });
    const close = closingBrace(template, open);
    if (close < 0) throw new CliError(`error parsing jsonpath ${template}, unclosed action`);
    const action = template.slice(open + 1, close).trim();
    i = close + 1;
    if (action.startsWith('range ')) {
      const node: Node = { kind: 'range', steps: parsePath(action.slice(6), template), body: [] };
      top.push(node);
      stack.push(node.body);
    } else if (action === 'end') {
      if (stack.length === 1) throw new CliError(`error parsing jsonpath ${template}, not in range, nothing to end`);
      stack.pop();
    } else if (/^".*"$/s.test(action) || /^'.*'$/s.test(action)) {
      top.push({ kind: 'text', text: unescape(action.slice(1, -1)) });
    } else {
      top.push({ kind: 'path', steps: parsePath(action, template) });
    }
  }
  if (stack.length !== 1) throw new CliError(`error parsing jsonpath ${template}, unclosed range`);
  return root;
}

function closingBrace(s: string, open: number): number {
  let quote = '';
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i];
    if (quote !== '') {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}') return i;
  }
  return -1;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function evaluate(steps: Step[], input: unknown[]): unknown[] {
  let values = input;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of values) {
      switch (step.kind) {
        case 'field':
          if (isRecord(v) && v[step.name] !== undefined) next.push(v[step.name]);
          break;
        case 'wildcard':
          if (Array.isArray(v)) next.push(...v);
          else if (isRecord(v)) next.push(...Object.values(v));
          break;
        case 'index':
          if (Array.isArray(v)) {
            const at = step.index < 0 ? v.length + step.index : step.index;
            if (at >= 0 && at < v.length) next.push(v[at]);
          }
          break;
        case 'slice':
          if (Array.isArray(v)) next.push(...v.slice(step.start, step.end));
          break;
        case 'filter':
        case 'exists':
          if (Array.isArray(v)) {
            for (const item of v) {
              const found = evaluate(step.path, [item]);
              if (step.kind === 'exists' ? found.length > 0 : found.some((f) => f === step.value) === (step.op === '==')) next.push(item);
            }
          }
          break;
      }
    }
    values = next;
  }
  return values;
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

function run(nodes: Node[], data: unknown): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'path') out += evaluate(node.steps, [data]).map(show).join(' ');
    else for (const item of evaluate(node.steps, [data])) out += run(node.body, item);
  }
  return out;
}

/** Renders a template against one object (or a List of them). */
export function renderJsonPath(template: string, data: unknown): string {
  return run(parseJsonPath(template), data);
}
