// Label selectors: the string form used in `?labelSelector=` and `kubectl -l`, and the
// structured form found in objects (matchLabels / matchExpressions). Both compile to a list
// of predicates so that matches() does no parsing or allocation per object.

import { validateLabelKey, validateLabelValue } from './names';

export type SelectorOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: SelectorOperator;
  /** one value for = == != gt lt; a sorted set for in/notin; none for exists and ! */
  values: string[];
}

export interface LabelSelector {
  matches(labels: Record<string, string> | undefined): boolean;
  /** true when the selector has no requirements and so matches everything */
  empty: boolean;
  toString(): string;
  requirements: Requirement[];
}

export class SelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorParseError';
  }
}

type Labels = Record<string, string>;

function labelOf(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function predicateFor(r: Requirement): (labels: Labels) => boolean {
  const { key } = r;
  switch (r.operator) {
    case '=':
    case '==': {
      const want = r.values[0];
      return (l) => labelOf(l, key) === want;
    }
    case '!=': {
      const unwanted = r.values[0];
      return (l) => labelOf(l, key) !== unwanted;
    }
    case 'in': {
      const set = new Set(r.values);
      return (l) => {
        const v = labelOf(l, key);
        return v !== undefined && set.has(v);
      };
    }
    case 'notin': {
      const set = new Set(r.values);
      return (l) => {
        const v = labelOf(l, key);
        return v === undefined || !set.has(v);
      };
    }
    case 'exists':
      return (l) => Object.hasOwn(l, key);
    case '!':
      return (l) => !Object.hasOwn(l, key);
    case 'gt':
    case 'lt': {
      const bound = Number(r.values[0]);
      const greater = r.operator === 'gt';
      return (l) => {
        const v = labelOf(l, key);
        if (v === undefined || !/^-?\d+$/.test(v)) return false;
        return greater ? Number(v) > bound : Number(v) < bound;
      };
    }
  }
}

function requirementString(r: Requirement): string {
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${r.values.join(',')})`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
    default:
      return `${r.key}${r.operator}${r.values[0]}`;
  }
}

const emptyLabels: Labels = {};

/** Builds a selector from requirements that are already valid; sorts them by key, as Kubernetes does. */
function buildSelector(reqs: Requirement[]): LabelSelector {
  const requirements = reqs
    .map((r) => ({ ...r, values: r.operator === 'in' || r.operator === 'notin' ? [...new Set(r.values)].sort() : r.values }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const predicates = requirements.map(predicateFor);
  const text = requirements.map(requirementString).join(',');
  return {
    requirements,
    empty: requirements.length === 0,
    toString: () => text,
    matches(labels) {
      const l = labels ?? emptyLabels;
      for (const p of predicates) if (!p(l)) return false;
      return true;
    },
  };
}

/** A selector that matches no object (what an absent structured selector means). */
export const nothingSelector: LabelSelector = {
  requirements: [],
  empty: false,
  toString: () => '',
  matches: () => false,
};

function checkKey(key: string): void {
  const errs = validateLabelKey(key);
  if (errs.length) throw new SelectorParseError(`invalid label key "${key}": ${errs.join('; ')}`);
}

function checkValue(key: string, value: string): void {
  const errs = validateLabelValue(value);
  if (errs.length) throw new SelectorParseError(`invalid label value: "${value}": at key: "${key}": ${errs.join('; ')}`);
}

function checkRequirement(r: Requirement): Requirement {
  checkKey(r.key);
  switch (r.operator) {
    case 'in':
    case 'notin':
      if (r.values.length === 0) {
        throw new SelectorParseError(`for 'in', 'notin' operators, values set can't be empty (key "${r.key}")`);
      }
      break;
    case 'exists':
    case '!':
      if (r.values.length !== 0) {
        throw new SelectorParseError(`values set must be empty for exists and does not exist (key "${r.key}")`);
      }
      break;
    case 'gt':
    case 'lt':
      if (r.values.length !== 1 || !/^-?\d+$/.test(r.values[0])) {
        throw new SelectorParseError(`for 'Gt', 'Lt' operators, exactly one integer value is required (key "${r.key}")`);
      }
      return r;
    default:
      if (r.values.length !== 1) {
        throw new SelectorParseError(`exact-match compatibility requires one single value (key "${r.key}")`);
      }
  }
  for (const v of r.values) checkValue(r.key, v);
  return r;
}

// --- string form ---

type TokenKind = 'ident' | '(' | ')' | ',' | '=' | '==' | '!=' | '!' | '>' | '<' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
}

const specialChars = new Set(['!', '=', ',', '(', ')', '<', '>']);

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '=' || c === '!') {
      if (s[i + 1] === '=') {
        tokens.push({ kind: c === '=' ? '==' : '!=', text: `${c}=` });
        i += 2;
      } else {
        tokens.push({ kind: c, text: c });
        i++;
      }
    } else if (specialChars.has(c)) {
      tokens.push({ kind: c as TokenKind, text: c });
      i++;
    } else {
      let j = i;
      while (j < s.length && !specialChars.has(s[j]) && !/\s/.test(s[j])) j++;
      tokens.push({ kind: 'ident', text: s.slice(i, j) });
      i = j;
    }
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'end of string' : `'${t.text}'`;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    const t = this.tokens[this.pos];
    if (t.kind !== 'end') this.pos++;
    return t;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    if (this.peek().kind === 'end') return reqs;
    for (;;) {
      reqs.push(checkRequirement(this.requirement()));
      const t = this.next();
      if (t.kind === 'end') return reqs;
      if (t.kind !== ',') throw new SelectorParseError(`found ${describe(t)}, expected: ',' or end of string`);
    }
  }

  private requirement(): Requirement {
    const first = this.next();
    if (first.kind === '!') {
      const key = this.next();
      if (key.kind !== 'ident') throw new SelectorParseError(`found ${describe(key)}, expected: identifier after '!'`);
      return { key: key.text, operator: '!', values: [] };
    }
    if (first.kind !== 'ident') throw new SelectorParseError(`found ${describe(first)}, expected: '!' or identifier`);
    const key = first.text;
    const op = this.peek();
    if (op.kind === 'end' || op.kind === ',') return { key, operator: 'exists', values: [] };
    this.next();
    switch (op.kind) {
      case '=':
      case '==':
      case '!=':
        return { key, operator: op.kind, values: [this.singleValue()] };
      case '>':
      case '<':
        return { key, operator: op.kind === '>' ? 'gt' : 'lt', values: [this.singleValue()] };
      case 'ident':
        if (op.text === 'in' || op.text === 'notin') return { key, operator: op.text, values: this.valueSet() };
        break;
      default:
        break;
    }
    throw new SelectorParseError(`found ${describe(op)}, expected: in, notin, =, ==, !=, gt, lt after key "${key}"`);
  }

  /** The value after = == != > <; absent (end or ',') means the empty string. */
  private singleValue(): string {
    const t = this.peek();
    if (t.kind === 'end' || t.kind === ',') return '';
    if (t.kind !== 'ident') throw new SelectorParseError(`found ${describe(t)}, expected: identifier as value`);
    this.next();
    return t.text;
  }

  private valueSet(): string[] {
    const open = this.next();
    if (open.kind !== '(') throw new SelectorParseError(`found ${describe(open)}, expected: '('`);
    const values: string[] = [];
    if (this.peek().kind === ')') {
      this.next();
      return values;
    }
    for (;;) {
      const t = this.peek();
      if (t.kind === 'ident') {
        this.next();
        values.push(t.text);
      } else if (t.kind === ',' || t.kind === ')') {
        values.push('');
      } else {
        throw new SelectorParseError(`found ${describe(t)}, expected: identifier, ',' or ')' in value set`);
      }
      const sep = this.next();
      if (sep.kind === ')') return values;
      if (sep.kind !== ',') throw new SelectorParseError(`found ${describe(sep)}, expected: ',' or ')' in value set`);
    }
  }
}

/** Parses "a=b,c!=d,e in (f,g),h notin (i),j,!k"; throws SelectorParseError saying what is wrong. */
export function parseLabelSelector(s: string): LabelSelector {
  return buildSelector(new Parser(tokenize(s)).parse());
}

/** A selector requiring every key of the map to have that value (empty map: everything). */
export function selectorFromSet(map: Record<string, string> | undefined): LabelSelector {
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(map ?? {})) {
    reqs.push(checkRequirement({ key, operator: '=', values: [value] }));
  }
  return buildSelector(reqs);
}

export interface LabelSelectorRequirementObject {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirementObject[];
}

const structuredOperators: Record<string, SelectorOperator> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
  Gt: 'gt',
  Lt: 'lt',
};

/**
 * The structured selector of an object. An absent selector (null/undefined) matches nothing,
 * an empty one matches everything, as in Kubernetes. Gt/Lt are accepted for node selector terms.
 */
export function selectorFromLabelSelector(obj: LabelSelectorObject | null | undefined): LabelSelector {
  if (obj === null || obj === undefined) return nothingSelector;
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(obj.matchLabels ?? {})) {
    reqs.push(checkRequirement({ key, operator: '=', values: [value] }));
  }
  for (const e of obj.matchExpressions ?? []) {
    const operator = structuredOperators[e.operator];
    if (operator === undefined) throw new SelectorParseError(`"${e.operator}" is not a valid label selector operator`);
    reqs.push(checkRequirement({ key: e.key, operator, values: [...(e.values ?? [])] }));
  }
  return buildSelector(reqs);
}
