// FieldsV1 trees kept once in memory. Objects written by one manager from one template own
// the same fields, so their managedFields trees are equal, or equal but for a branch (a
// pod's service account volume has a name of its own). Every node of a tree a stored
// object keeps is frozen and shared, through a table of recently seen nodes, with the equal
// nodes of other objects: what a stored object costs changes, not what goes on the wire.

import { buildFieldsV1, type FieldsTreeBuilder } from '@peapod/api';

type Tree = { [element: string]: Tree };

interface Shared {
  tree: Tree;
  /** its elements in order, and their nodes: what it is compared by when found in the table */
  elements: string[];
  nodes: Shared[];
  /** where it is in the table: a hash of its elements and their nodes' numbers */
  hash: number;
  /** a number of its own: equal nodes are one node, so a parent is hashed with its children's numbers */
  id: number;
  /** the generation it was last added to */
  generation: number;
}

export class SharedTrees {
  // Two generations: nodes seen since the last turn, and those seen in the turn before (found
  // there, a node moves up). A turn drops the older one: nodes no write has seen for a
  // generation leave the table, and a cache this simple never reorders entries. The table is
  // keyed by a number, not by a name made of the elements: a write looks up a few dozen
  // nodes, and building and hashing a string for each cost more than the rest of the walk.
  private current = new Map<number, Shared>();
  private previous = new Map<number, Shared>();
  /** the nodes in the table → their elements and numbers (only those: an object's own root must not hold them as long as it lives) */
  private readonly known = new WeakMap<Tree, Shared>();
  private lastId = 0;
  private turns = 0;
  /** the children of the nodes being walked by node(), an array for each depth */
  private readonly children: Shared[][] = [];
  /** `{}`, most nodes of every tree: one for all, never looked up */
  private readonly leaf: Shared = { tree: Object.freeze({}), elements: [], nodes: [], hash: 0, id: 0, generation: -1 };

  /** `generation`: nodes per generation (the table holds at most twice as many). */
  constructor(private readonly generation = 1024) {
    if (!(generation >= 1)) throw new Error(`a generation must hold at least one node, got ${generation}`);
  }

  /** Nodes in the table. */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** An equal tree with its elements in order (as Kubernetes writes them), made of frozen shared nodes. */
  share(tree: Record<string, unknown>): Record<string, unknown> {
    return this.node(tree as Tree, 0).tree;
  }

  /**
   * The FieldsV1 tree of every member of `obj` (of `kind`), as fieldsV1Of makes it, made of
   * frozen shared nodes as the walk finds them; undefined when it has no members.
   */
  fieldsOf(kind: string, obj: unknown): Record<string, unknown> | undefined {
    return buildFieldsV1(kind, obj, this.builder)?.tree;
  }

  private readonly builder: FieldsTreeBuilder<Shared> = {
    leaf: () => this.leaf,
    node: (elements, nodes, member) => {
      if (member) {
        elements.push('.');
        nodes.push(this.leaf);
      }
      sortTogether(elements, nodes);
      return this.intern(elements, nodes);
    },
  };

  /**
   * The FieldsV1 tree of a set of paths (as toFieldsV1 makes it), made of frozen shared nodes.
   * Sorted as their elements are, the paths below each node come together: each node is made
   * from its run of them, its elements read in place (a write's paths are dozens).
   */
  fromPaths(paths: Iterable<string>): Record<string, unknown> {
    const sorted = [...paths].sort(byElements);
    return this.fromSorted(sorted, 0, sorted.length, 0).tree;
  }

  /** The node of sorted[from..to), the paths below it, whose elements start at `at` (one of them may be the node's own path, before `at`). */
  private fromSorted(sorted: string[], from: number, to: number, at: number): Shared {
    const elements: string[] = [];
    const nodes: Shared[] = [];
    let i = from;
    let member = false;
    for (; i < to && sorted[i].length < at; i++) member = true;
    while (i < to) {
      const path = sorted[i];
      let end = path.indexOf(pathSeparator, at);
      if (end < 0) end = path.length;
      let j = i + 1;
      while (j < to && sameElement(sorted[j], path, at, end)) j++;
      const leaf = j === i + 1 && path.length === end;
      elements.push(path.slice(at, end));
      nodes.push(leaf ? this.leaf : this.fromSorted(sorted, i, j, end + 1));
      i = j;
    }
    if (elements.length === 0) return this.leaf;
    if (member) {
      elements.push('.');
      nodes.push(this.leaf);
    }
    sortTogether(elements, nodes);
    return this.intern(elements, nodes);
  }

  /**
   * The shared node equal to t. A tree read back from a stored object (every write reads
   * every manager's) has its elements in order and its nodes in the table mostly: such a node
   * is found without an array of its own, its children held in the walk's arrays, one for
   * each depth, reused.
   */
  private node(t: Tree, depth: number): Shared {
    const known = this.known.get(t);
    if (known !== undefined) return this.found(known);
    const children = (this.children[depth] ??= []);
    let count = 0;
    let inOrder = true;
    let last: string | undefined;
    for (const el in t) {
      if (last !== undefined && last >= el) inOrder = false;
      last = el;
      children[count++] = this.node(t[el], depth + 1);
    }
    if (count === 0) return this.leaf;
    if (inOrder) {
      const existing = this.lookUp(t, children, count);
      if (existing !== undefined) return this.found(existing);
    }
    const elements = Object.keys(t);
    const nodes = children.slice(0, count);
    sortTogether(elements, nodes);
    return this.intern(elements, nodes);
  }

  /** The node of the table with t's elements (in order) and these children, if any. */
  private lookUp(t: Tree, children: Shared[], count: number): Shared | undefined {
    let h = 0x811c9dc5 ^ count;
    let i = 0;
    for (const el in t) h = hashStep(h, el, children[i++].id);
    const existing = this.current.get(h) ?? this.previous.get(h);
    if (existing === undefined || existing.elements.length !== count) return undefined;
    i = 0;
    for (const el in t) {
      if (existing.elements[i] !== el || existing.nodes[i] !== children[i]) return undefined;
      i++;
    }
    return existing;
  }

  /** The shared node with these elements (in order) and children. */
  private intern(elements: string[], nodes: Shared[]): Shared {
    const hash = hashNode(elements, nodes);
    const existing = this.current.get(hash) ?? this.previous.get(hash);
    if (existing && sameNode(existing, elements, nodes)) return this.found(existing);
    const tree: Tree = {};
    for (let i = 0; i < elements.length; i++) tree[elements[i]] = nodes[i].tree;
    Object.freeze(tree);
    // A node of another shape with the same hash gives the table up to this one: both stay
    // valid for the objects holding them, only the newer is found.
    const shared = { tree, elements, nodes, hash, id: ++this.lastId, generation: this.turns };
    this.known.set(tree, shared);
    this.add(shared);
    return shared;
  }

  /** A node of the table, used again: it stays for another generation. */
  private found(shared: Shared): Shared {
    if (shared.generation !== this.turns) this.add(shared);
    return shared;
  }

  private add(shared: Shared): void {
    shared.generation = this.turns;
    this.current.set(shared.hash, shared);
    if (this.current.size < this.generation) return;
    for (const old of this.previous.values()) if (old.generation !== this.turns) this.known.delete(old.tree);
    this.previous = this.current;
    this.current = new Map();
    this.turns++;
  }
}

/** Paths' elements are joined by a newline, which no element holds (as @peapod/api's field sets write them). */
const pathSeparator = '\n';
const separatorCode = 10;

/** Paths in the order of their elements: the separator before any character. */
function byElements(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (x === separatorCode ? -1 : x) - (y === separatorCode ? -1 : y);
  }
  return a.length - b.length;
}

/** Whether `path` has the element that `of` has from `at` to `end` (the paths share what comes before `at`). */
function sameElement(path: string, of: string, at: number, end: number): boolean {
  if (path.length < end || (path.length > end && path.charCodeAt(end) !== separatorCode)) return false;
  for (let i = at; i < end; i++) if (path.charCodeAt(i) !== of.charCodeAt(i)) return false;
  return true;
}

/**
 * Sorts a node's elements in place, and their nodes with them: by insertion, without copying,
 * as a node has a few elements (and one read back from storage has them in order already).
 */
function sortTogether(elements: string[], nodes: Shared[]): void {
  if (elements.length > 32) {
    const pairs = elements.map((element, i) => ({ element, node: nodes[i] })).sort((a, b) => (a.element < b.element ? -1 : a.element > b.element ? 1 : 0));
    pairs.forEach((p, i) => {
      elements[i] = p.element;
      nodes[i] = p.node;
    });
    return;
  }
  for (let i = 1; i < elements.length; i++) {
    const el = elements[i];
    const node = nodes[i];
    let j = i - 1;
    for (; j >= 0 && elements[j] > el; j--) {
      elements[j + 1] = elements[j];
      nodes[j + 1] = nodes[j];
    }
    elements[j + 1] = el;
    nodes[j + 1] = node;
  }
}

/** FNV-1a over the elements' characters and their nodes' numbers. */
function hashNode(elements: string[], nodes: Shared[]): number {
  let h = 0x811c9dc5 ^ elements.length;
  for (let i = 0; i < elements.length; i++) h = hashStep(h, elements[i], nodes[i].id);
  return h;
}

function hashStep(h: number, element: string, id: number): number {
  for (let c = 0; c < element.length; c++) h = Math.imul(h ^ element.charCodeAt(c), 0x01000193);
  return Math.imul(h ^ id, 0x01000193);
}

function sameNode(shared: Shared, elements: string[], nodes: Shared[]): boolean {
  if (shared.elements.length !== elements.length) return false;
  for (let i = 0; i < elements.length; i++) if (shared.nodes[i] !== nodes[i] || shared.elements[i] !== elements[i]) return false;
  return true;
}
