// Sets of fields of an object, as server-side apply tracks ownership of them (Kubernetes'
// structured-merge-diff, in our own terms), read from the schemas (./schemas):
// - a struct field is a member when it holds a scalar, an atomic list, null or an empty
//   object; a struct holding fields is only the sum of them;
// - an entry of a map (labels, data) is a member itself, and so is its content;
// - an item of an associative list (x-kubernetes-list-type: map) is a member, named by its
//   key fields ("k:{"name":"app"}"), and so is its content; an item of a set list is a
//   member named by its value ("v:"a""); a list of any other type is atomic: one member.
// A path is its elements joined by '\n' ("f:spec\nf:containers\nk:{"name":"app"}\nf:image");
// metadata.managedFields keeps a set as a tree of those elements (FieldsV1), where "." marks
// a member that also has members below it.

import { resolveSchema, schemaFor, type JSONSchema } from './schemas';

type Json = Record<string, unknown>;

const sep = '\n';

interface Member {
  value: unknown;
  /** its value is compared as a whole (a scalar, an atomic list, an empty object, a set item) */
  leaf: boolean;
}

/** Every member of an object, with its value. */
export type FieldMap = Map<string, Member>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Field {
  /** its schema, or undefined for a field the schema does not describe (treated as atomic) */
  schema: JSONSchema | undefined;
  /** its path element ("f:name"): one string for every write, which a tree keeps as a property name */
  element: string;
}

// Resolved fields, looked up once per schema and field: every write walks objects.
const fields = new WeakMap<JSONSchema, Map<string, Field>>();

function field(schema: JSONSchema, key: string): Field {
  let known = fields.get(schema);
  if (!known) fields.set(schema, (known = new Map()));
  let found = known.get(key);
  if (found) return found;
  const props = schema.properties as Record<string, JSONSchema> | undefined;
  const extra = schema.additionalProperties;
  const fieldSchema = props && Object.hasOwn(props, key) ? resolveSchema(props[key]) : isObject(extra) ? resolveSchema(extra) : undefined;
  known.set(key, (found = { schema: fieldSchema, element: `f:${key}` }));
  return found;
}

/** A field's schema, or undefined for a field the schema does not describe (treated as atomic). */
function fieldSchema(schema: JSONSchema | undefined, key: string): JSONSchema | undefined {
  return schema && field(schema, key).schema;
}

function isStruct(schema: JSONSchema | undefined): boolean {
  return !!schema && isObject(schema.properties);
}

function isMap(schema: JSONSchema | undefined): boolean {
  return !!schema && !isStruct(schema) && isObject(schema.additionalProperties);
}

/** The element naming an item of an associative list (`keys` sorted), or undefined when the item lacks a key field. */
function keyElement(item: unknown, keys: string[]): string | undefined {
  if (!isObject(item)) return undefined;
  // The JSON of an object of those fields, written without making the object: one per list item of every write.
  let element = 'k:{';
  for (let i = 0; i < keys.length; i++) {
    const value = item[keys[i]];
    if (value === undefined || value === null) return undefined;
    element += `${i ? ',' : ''}${JSON.stringify(keys[i])}:${JSON.stringify(value)}`;
  }
  return `${element}}`;
}

/** Whether no two of a list's item elements are the same (compared pairwise when they are few: a list of every write is checked). */
function allDifferent(elements: string[]): boolean {
  if (elements.length > 16) return new Set(elements).size === elements.length;
  for (let i = 1; i < elements.length; i++) for (let j = 0; j < i; j++) if (elements[i] === elements[j]) return false;
  return true;
}

const sortedListKeys = new WeakMap<JSONSchema, string[] | null>();

/** The key fields of an associative list, sorted (as items are named by them), or undefined for other lists. */
function listKeys(schema: JSONSchema): string[] | undefined {
  let keys = sortedListKeys.get(schema);
  if (keys === undefined) {
    const declared = schema['x-kubernetes-list-map-keys'];
    keys = schema['x-kubernetes-list-type'] === 'map' && Array.isArray(declared) && declared.length ? [...(declared as string[])].sort() : null;
    sortedListKeys.set(schema, keys);
  }
  return keys ?? undefined;
}

/** Whether an object has a field (found without listing them all: every value of every write is asked). */
function hasKeys(v: Json): boolean {
  for (const _ in v) return true;
  return false;
}

/** Whether a value has members of its own below it (then it is a member only as a map entry or list item). */
function hasMembers(v: unknown, schema: JSONSchema | undefined): boolean {
  if (isObject(v)) return hasKeys(v) && (isStruct(schema) || isMap(schema));
  if (Array.isArray(v)) return !!schema && schema.type === 'array' && (schema['x-kubernetes-list-type'] === 'set' || listKeys(schema) !== undefined);
  return false;
}

function walk(value: unknown, s: JSONSchema | undefined, path: string, out: FieldMap): void {
  if (isObject(value) && (isStruct(s) || isMap(s))) {
    const entriesAreMembers = isMap(s);
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const child = path ? `${path}${sep}f:${key}` : `f:${key}`;
      const cs = fieldSchema(s, key);
      const below = hasMembers(v, cs);
      if (entriesAreMembers || !below) out.set(child, { value: v, leaf: !below });
      if (below) walk(v, cs, child, out);
    }
    return;
  }
  if (Array.isArray(value) && s && s.type === 'array') {
    const items = s.items ? resolveSchema(s.items as JSONSchema) : undefined;
    if (s['x-kubernetes-list-type'] === 'set') {
      for (const v of value) out.set(`${path}${sep}v:${JSON.stringify(v)}`, { value: v, leaf: true });
      return;
    }
    const keys = listKeys(s);
    if (!keys) return;
    const elements = value.map((item) => keyElement(item, keys));
    if (elements.every((e) => e !== undefined) && allDifferent(elements as string[])) {
      value.forEach((item, i) => {
        const p = `${path}${sep}${elements[i]}`;
        out.set(p, { value: item, leaf: false });
        walk(item, items, p, out);
      });
    } else {
      // An item without its key (or two with one key) cannot be told apart: the list is owned as a whole.
      out.set(path, { value, leaf: true });
    }
  }
}

/**
 * How a FieldsV1 tree is put together as the walk finds its nodes, children first: as plain
 * objects (fieldsV1Of), or straight into a store of shared nodes, so that no tree is built
 * only to be copied.
 */
export interface FieldsTreeBuilder<N> {
  /** a member with no members below it */
  leaf(): N;
  /** a node of these elements (in the object's order) and their nodes; `member`: "." is one too (after them) */
  node(elements: string[], children: N[], member: boolean): N;
}

/** What walkTree returns for a keyed list whose items cannot be told apart: it is one member, owned whole. */
const ownedWhole = null;

/**
 * The node of the members below `value` (undefined when there are none), as walk names
 * them; `member`: `value` is a member itself, so the node holds ".".
 */
function walkTree<N>(value: unknown, s: JSONSchema | undefined, b: FieldsTreeBuilder<N>, member: boolean): N | undefined | typeof ownedWhole {
  const elements: string[] = [];
  const children: N[] = [];
  if (isObject(value) && (isStruct(s) || isMap(s))) {
    const entriesAreMembers = isMap(s);
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (v === undefined) continue;
      const f = field(s!, key);
      const cs = f.schema;
      const below = hasMembers(v, cs);
      const isMember = entriesAreMembers || !below;
      const child = below ? walkTree(v, cs, b, isMember) : undefined;
      if (child !== undefined && child !== ownedWhole) {
        elements.push(f.element);
        children.push(child);
      } else if (isMember || child === ownedWhole) {
        elements.push(f.element);
        children.push(b.leaf());
      }
    }
  } else if (Array.isArray(value) && s && s.type === 'array') {
    const items = s.items ? resolveSchema(s.items as JSONSchema) : undefined;
    if (s['x-kubernetes-list-type'] === 'set') {
      for (const v of new Set(value.map((v) => `v:${JSON.stringify(v)}`))) {
        elements.push(v);
        children.push(b.leaf());
      }
    } else {
      const keys = listKeys(s);
      if (!keys) return undefined;
      for (const item of value) {
        const element = keyElement(item, keys);
        if (element === undefined) return ownedWhole;
        elements.push(element);
      }
      if (!allDifferent(elements)) return ownedWhole;
      for (const item of value) children.push(walkTree(item, items, b, true) ?? b.leaf());
    }
  }
  return elements.length ? b.node(elements, children, member) : undefined;
}

const plainTrees: FieldsTreeBuilder<Json> = {
  leaf: () => ({}),
  node(elements, children, member) {
    const node: Json = {};
    for (let i = 0; i < elements.length; i++) node[elements[i]] = children[i];
    if (member) node['.'] = {};
    return node;
  },
};

/**
 * The FieldsV1 tree of every member of `obj` (of `kind`), built by `b` (undefined when
 * it has none): what toFieldsV1 makes of fieldMap's paths, built in one walk without them
 * (elements in the object's order), for a write that owns every field, such as a create.
 */
export function buildFieldsV1<N>(kind: string, obj: unknown, b: FieldsTreeBuilder<N>): N | undefined {
  const schema = schemaFor(kind);
  return walkTree(obj, schema ? resolveSchema(schema) : undefined, b, false) ?? undefined;
}

/** buildFieldsV1 as plain objects. */
export function fieldsV1Of(kind: string, obj: unknown): Json {
  return buildFieldsV1(kind, obj, plainTrees) ?? {};
}

/** Every member of `obj` (of `kind`) with its value. */
export function fieldMap(kind: string, obj: unknown): FieldMap {
  const out: FieldMap = new Map();
  const schema = schemaFor(kind);
  walk(obj, schema ? resolveSchema(schema) : undefined, '', out);
  return out;
}

/** Deep equality of JSON values, whatever the key order of objects. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameValue(a[k], b[k]));
  }
  return false;
}

export interface Comparison {
  added: Set<string>;
  modified: Set<string>;
  removed: Set<string>;
}

/**
 * What changed from `before` to `after` (objects of `kind`, either undefined for none): what
 * comparing their fieldMaps says (members in one only, and leaves whose values differ), found in one walk of both that names only the
 * members that changed (every write compares its object with the stored one).
 */
export function compareFields(kind: string, before: unknown, after: unknown): Comparison {
  const schema = schemaFor(kind);
  const walk = new ComparingWalk();
  walk.objects(before, after, schema ? resolveSchema(schema) : undefined);
  return walk.result;
}

/** The elements naming the items of a keyed list, or null when they cannot be told apart (it is owned whole); undefined for other values. */
function itemElements(v: unknown, s: JSONSchema | undefined): string[] | null | undefined {
  const keys = Array.isArray(v) && s ? listKeys(s) : undefined;
  if (!keys) return undefined;
  const elements: string[] = [];
  for (const item of v as unknown[]) {
    const element = keyElement(item, keys);
    if (element === undefined) return null;
    elements.push(element);
  }
  return allDifferent(elements) ? elements : null;
}

class ComparingWalk {
  readonly result: Comparison = { added: new Set(), modified: new Set(), removed: new Set() };
  /** the elements of the path being walked */
  private readonly path: string[] = [];

  private add(into: Set<string>): void {
    into.add(this.path.join(sep));
  }

  /** The members below two values of schema s (either undefined: none on that side) that hold fields. */
  objects(b: unknown, a: unknown, s: JSONSchema | undefined): void {
    if (!isStruct(s) && !isMap(s)) return;
    const bo = isObject(b) ? b : undefined;
    const ao = isObject(a) ? a : undefined;
    const entries = isMap(s);
    // for-in, not Object.keys: JSON objects have no inherited keys, and it reads the keys their
    // shape keeps rather than copying them out.
    if (ao) {
      for (const key in ao) {
        const av = ao[key];
        if (av !== undefined) this.member(s!, key, entries, bo && Object.hasOwn(bo, key) ? bo[key] : undefined, av);
      }
    }
    if (bo) {
      for (const key in bo) {
        const bv = bo[key];
        if (bv !== undefined && (!ao || !Object.hasOwn(ao, key) || ao[key] === undefined)) this.member(s!, key, entries, bv, undefined);
      }
    }
  }

  /** A field (or map entry) on either side: the member it is, and those below it. */
  private member(s: JSONSchema, key: string, entries: boolean, bv: unknown, av: unknown): void {
    const f = field(s, key);
    const cs = f.schema;
    this.path.push(f.element);
    const bElements = bv !== undefined && hasMembers(bv, cs) ? itemElements(bv, cs) : null;
    const aElements = av !== undefined && hasMembers(av, cs) ? itemElements(av, cs) : null;
    // Members below: null elements are none (a value without, or a keyed list owned whole, which is a member itself).
    const bBelow = bElements !== null;
    const aBelow = aElements !== null;
    const bMember = bv !== undefined && (entries || !bBelow);
    const aMember = av !== undefined && (entries || !aBelow);
    if (aMember && bMember) {
      if ((!aBelow || !bBelow) && !sameValue(av, bv)) this.add(this.result.modified);
    } else if (aMember) this.add(this.result.added);
    else if (bMember) this.add(this.result.removed);
    if (aBelow || bBelow) {
      const b = bBelow ? bv : undefined;
      const a = aBelow ? av : undefined;
      if (!cs || cs.type !== 'array') this.objects(b, a, cs);
      else if (cs['x-kubernetes-list-type'] === 'set') this.setItems(b as unknown[] | undefined, a as unknown[] | undefined);
      else this.keyedItems(b as unknown[] | undefined, a as unknown[] | undefined, cs.items ? resolveSchema(cs.items as JSONSchema) : undefined, bElements ?? [], aElements ?? []);
    }
    this.path.pop();
  }

  private setItems(b: unknown[] | undefined, a: unknown[] | undefined): void {
    const bItems = new Set(b?.map((v) => `v:${JSON.stringify(v)}`));
    const aItems = new Set(a?.map((v) => `v:${JSON.stringify(v)}`));
    for (const el of aItems) if (!bItems.has(el)) this.result.added.add(this.path.concat(el).join(sep));
    for (const el of bItems) if (!aItems.has(el)) this.result.removed.add(this.path.concat(el).join(sep));
  }

  private keyedItems(b: unknown[] | undefined, a: unknown[] | undefined, items: JSONSchema | undefined, bElements: string[], aElements: string[]): void {
    const bAt = new Map<string, number>();
    for (let j = 0; j < bElements.length; j++) bAt.set(bElements[j], j);
    for (let i = 0; i < aElements.length; i++) {
      const j = bAt.get(aElements[i]);
      this.path.push(aElements[i]);
      if (j === undefined) this.add(this.result.added);
      this.objects(j === undefined ? undefined : b![j], a![i], items);
      this.path.pop();
    }
    for (let j = 0; j < bElements.length; j++) {
      if (aElements.includes(bElements[j])) continue;
      this.path.push(bElements[j]);
      this.add(this.result.removed);
      this.objects(b![j], undefined, items);
      this.path.pop();
    }
  }
}

// ---------- applying a configuration ----------

/** `live` with `config` merged in, field by field as the schema says (associative lists item by item). */
export function mergeApplied(kind: string, live: unknown, config: unknown): unknown {
  const schema = schemaFor(kind);
  return merge(live, config, schema ? resolveSchema(schema) : undefined);
}

function merge(live: unknown, config: unknown, s: JSONSchema | undefined): unknown {
  if (config === undefined) return live;
  if (isObject(config) && isObject(live) && (isStruct(s) || isMap(s))) {
    const out: Json = { ...live };
    for (const [key, v] of Object.entries(config)) {
      if (v === null) delete out[key];
      else out[key] = merge(live[key], v, fieldSchema(s, key));
    }
    return out;
  }
  if (Array.isArray(config) && Array.isArray(live) && s && s.type === 'array') {
    const items = s.items ? resolveSchema(s.items as JSONSchema) : undefined;
    if (s['x-kubernetes-list-type'] === 'set') {
      const out = [...live];
      for (const v of config) if (!out.some((x) => sameValue(x, v))) out.push(v);
      return out;
    }
    const keys = listKeys(s);
    if (keys) {
      const liveKeys = live.map((i) => keyElement(i, keys));
      const configKeys = config.map((i) => keyElement(i, keys));
      if ([...liveKeys, ...configKeys].every((k) => k !== undefined)) {
        const out = [...live];
        config.forEach((item, i) => {
          const at = liveKeys.indexOf(configKeys[i]);
          if (at >= 0) out[at] = merge(live[at], item, items);
          else out.push(item);
        });
        return out;
      }
    }
  }
  return config;
}

/**
 * Removes the members at `paths` from `obj` (in place); a path whose parent is gone is
 * skipped. A map, struct or list emptied by a removal goes too, as Go's omitempty drops it.
 */
export function removeMembers(kind: string, obj: Json, paths: Iterable<string>): void {
  const schema = schemaFor(kind);
  const root = schema ? resolveSchema(schema) : undefined;
  // Deepest first, so that removing an item does not move the ones named after it.
  for (const path of [...paths].sort((a, b) => b.split(sep).length - a.split(sep).length)) {
    const elements = path.split(sep);
    const chain: { node: unknown; schema: JSONSchema | undefined }[] = [{ node: obj, schema: root }];
    for (let i = 0; i < elements.length - 1 && chain[i].node !== undefined; i++) {
      const [node, s] = descend(chain[i].node, chain[i].schema, elements[i]);
      chain.push({ node, schema: s });
    }
    if (chain.length !== elements.length) continue;
    for (let i = elements.length - 1; i >= 0; i--) {
      if (!removeChild(chain[i].node, chain[i].schema, elements[i])) break;
      const left = chain[i].node;
      // only what this removal emptied, never the object itself
      if (i === 0 || !(Array.isArray(left) ? left.length === 0 : isObject(left) && Object.keys(left).length === 0)) break;
    }
  }
}

function removeChild(node: unknown, s: JSONSchema | undefined, el: string): boolean {
  if (isObject(node) && el.startsWith('f:')) {
    const key = el.slice(2);
    if (!Object.hasOwn(node, key)) return false;
    delete node[key];
    return true;
  }
  if (Array.isArray(node)) {
    const at = node.findIndex((item) => element(item, s) === el);
    if (at >= 0) node.splice(at, 1);
    return at >= 0;
  }
  return false;
}

/** The element naming a list item, by its list's type. */
function element(item: unknown, list: JSONSchema | undefined): string | undefined {
  if (list?.['x-kubernetes-list-type'] === 'set') return `v:${JSON.stringify(item)}`;
  const keys = list ? listKeys(list) : undefined;
  return keys ? keyElement(item, keys) : undefined;
}

function descend(node: unknown, s: JSONSchema | undefined, el: string): [unknown, JSONSchema | undefined] {
  if (el.startsWith('f:') && isObject(node)) {
    const key = el.slice(2);
    return [node[key], fieldSchema(s, key)];
  }
  if (Array.isArray(node) && s) {
    const items = s.items ? resolveSchema(s.items as JSONSchema) : undefined;
    return [node.find((item) => element(item, s) === el), items];
  }
  return [undefined, undefined];
}

// ---------- FieldsV1 and printing ----------

type Tree = { [element: string]: Tree };

/** A set as FieldsV1: a tree of elements, "." marking members with members below them. */
export function toFieldsV1(paths: Iterable<string>): Json {
  const root: Tree = {};
  const members: Tree[] = [];
  for (const path of paths) {
    let node = root;
    for (const el of path.split(sep)) node = node[el] ??= {};
    members.push(node);
  }
  for (const node of members) if (Object.keys(node).some((k) => k !== '.')) node['.'] = {};
  return sortTree(root);
}

/** A copy of a FieldsV1 tree with its elements in order, as Kubernetes writes them. */
export function sortTree(t: Json): Json {
  const out: Json = {};
  for (const k of Object.keys(t).sort()) out[k] = sortTree(t[k] as Json);
  return out;
}

/** The members of a FieldsV1 tree; throws on anything that is not one. */
export function fromFieldsV1(fields: unknown): Set<string> {
  const out = new Set<string>();
  const visit = (node: unknown, path: string) => {
    if (!isObject(node)) throw new Error(`not a FieldsV1 tree at ${path || 'the root'}`);
    const keys = Object.keys(node);
    if (path && (keys.length === 0 || keys.includes('.'))) out.add(path);
    for (const k of keys) {
      if (k === '.') continue;
      if (!/^[fkvi]:/.test(k)) throw new Error(`not a FieldsV1 element: ${JSON.stringify(k)}`);
      visit(node[k], path ? `${path}${sep}${k}` : k);
    }
  };
  visit(fields, '');
  return out;
}

/** A path as Kubernetes prints it in conflicts: ".spec.containers[name="app"].image". */
export function formatFieldPath(path: string): string {
  return path
    .split(sep)
    .map((el) => {
      const body = el.slice(2);
      if (el.startsWith('f:')) return `.${body}`;
      if (el.startsWith('k:')) {
        const key = JSON.parse(body) as Json;
        return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
      }
      if (el.startsWith('v:')) return `[=${body}]`;
      return `[${body}]`;
    })
    .join('');
}

/** The first element of a path. */
export function topField(path: string): string {
  const end = path.indexOf(sep);
  return end < 0 ? path : path.slice(0, end);
}

/** Whether `path` is `prefix` or below it. */
export function pathWithin(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix + sep);
}

// ---------- sets kept as FieldsV1 trees ----------
// Managers' sets are kept in the form they are stored in, and read and changed there: an
// update looks up a few paths in each other manager's tree rather than reading them all.

/**
 * The node of a path in a tree, if any (the path or something below it is in the set). The
 * path is read an element at a time, as far as the tree goes: an update looks up each path
 * it changed in every other manager's tree, and most are not there.
 */
function nodeAt(tree: Json, path: string): Json | undefined {
  let node: unknown = tree;
  for (let at = 0; ; ) {
    const end = path.indexOf(sep, at);
    node = isObject(node) ? node[end < 0 ? path.slice(at) : path.slice(at, end)] : undefined;
    if (node === undefined) return undefined;
    if (end < 0) return isObject(node) ? node : undefined;
    at = end + 1;
  }
}

/** Whether a path is a member of a FieldsV1 tree. */
export function treeHas(tree: Json, path: string): boolean {
  const node = nodeAt(tree, path);
  return !!node && (Object.keys(node).length === 0 || Object.hasOwn(node, '.'));
}

/** Whether a FieldsV1 tree holds the path or anything below it. */
export function treeHasWithin(tree: Json, path: string): boolean {
  return nodeAt(tree, path) !== undefined;
}

/** Adds a member to a FieldsV1 tree (in place). */
export function treeAdd(tree: Json, path: string): void {
  let node = tree;
  let existed = false;
  for (const el of path.split(sep)) {
    // an existing member that gets members below it keeps its own membership as "."
    if (existed && Object.keys(node).length === 0) node['.'] = {};
    existed = isObject(node[el]);
    if (!existed) node[el] = {};
    node = node[el] as Json;
  }
  if (Object.keys(node).length > 0) node['.'] = {};
}

/** Removes a member from a FieldsV1 tree (in place), and what that leaves empty. */
export function treeDelete(tree: Json, path: string): void {
  const elements = path.split(sep);
  const chain: Json[] = [tree];
  for (const el of elements) {
    const next = chain[chain.length - 1][el];
    if (!isObject(next)) return;
    chain.push(next);
  }
  const node = chain[chain.length - 1];
  if (Object.keys(node).some((k) => k !== '.')) {
    delete node['.'];
    return;
  }
  // Going up: a node left with nothing was only a way down; one left with only "." is a member without members below.
  for (let i = elements.length - 1; i >= 0; i--) {
    const parent = chain[i];
    delete parent[elements[i]];
    if (i === 0) break;
    const keys = Object.keys(parent);
    if (keys.length === 1 && keys[0] === '.') {
      delete parent['.'];
      break;
    }
    if (keys.length > 0) break;
  }
}
