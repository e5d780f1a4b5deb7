// FieldsV1 trees kept once in memory. Objects written by one manager from one template own
// the same fields, so their managedFields trees are equal, or equal but for a branch (a
// pod's service account volume has a name of its own). Every node of a tree a stored
// object keeps is frozen and shared, through a table of recently seen nodes, with the equal
// nodes of other objects: what a stored object costs changes, not what goes on the wire.

import { buildFieldsV1, pathElements, type FieldsTreeBuilder } from '@peapod/api';

type Tree = { [element: string]: Tree };

/** A set of paths on its way to a tree: built in Maps, so that a write that finds its nodes in the table makes no objects. */
interface Draft {
  children: Map<string, Draft>;
  /** the path ending here is in the set ("." when it has members below it) */
  member: boolean;
}

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
    return this.node(tree as Tree).tree;
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
      // Sorted in place, elements and their nodes together: a node has a few elements.
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
      return this.intern(elements, nodes);
    },
  };

  /** The FieldsV1 tree of a set of paths (as toFieldsV1 makes it), made of frozen shared nodes. */
  fromPaths(paths: Iterable<string>): Record<string, unknown> {
    const root: Draft = { children: new Map(), member: false };
    for (const path of paths) {
      let node = root;
      for (const el of pathElements(path)) {
        let next = node.children.get(el);
        if (!next) node.children.set(el, (next = { children: new Map(), member: false }));
        node = next;
      }
      node.member = true;
    }
    return this.fromDraft(root).tree;
  }

  private fromDraft(d: Draft): Shared {
    if (d.children.size === 0) return this.leaf;
    const elements = [...d.children.keys()];
    if (d.member) elements.push('.');
    sortElements(elements);
    return this.intern(elements, elements.map((el) => (el === '.' ? this.leaf : this.fromDraft(d.children.get(el)!))));
  }

  private node(t: Tree): Shared {
    const known = this.known.get(t);
    if (known !== undefined) return this.found(known);
    const elements = Object.keys(t);
    if (elements.length === 0) return this.leaf;
    sortElements(elements);
    return this.intern(elements, elements.map((el) => this.node(t[el])));
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

/**
 * Sorts a node's elements in place. A tree read back from stored JSON has them in order
 * already, and a node has a few: Array.prototype.sort copies the array to sort it, on every
 * node of every manager's tree of every write.
 */
function sortElements(elements: string[]): void {
  if (elements.length > 32) {
    elements.sort();
    return;
  }
  for (let i = 1; i < elements.length; i++) {
    const el = elements[i];
    let j = i - 1;
    for (; j >= 0 && elements[j] > el; j--) elements[j + 1] = elements[j];
    elements[j + 1] = el;
  }
}

/** FNV-1a over the elements' characters and their nodes' numbers. */
function hashNode(elements: string[], nodes: Shared[]): number {
  let h = 0x811c9dc5 ^ elements.length;
  for (let i = 0; i < elements.length; i++) {
    const el = elements[i];
    for (let c = 0; c < el.length; c++) h = Math.imul(h ^ el.charCodeAt(c), 0x01000193);
    h = Math.imul(h ^ nodes[i].id, 0x01000193);
  }
  return h;
}

function sameNode(shared: Shared, elements: string[], nodes: Shared[]): boolean {
  if (shared.elements.length !== elements.length) return false;
  for (let i = 0; i < elements.length; i++) if (shared.nodes[i] !== nodes[i] || shared.elements[i] !== elements[i]) return false;
  return true;
}
