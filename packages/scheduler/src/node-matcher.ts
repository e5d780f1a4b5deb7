// A pod's node constraints (spec.nodeSelector and required node affinity) compiled once per
// scheduling attempt into one predicate, so checking each node is a few map lookups.

import type { NodeSelectorRequirement, NodeSelectorTerm, Pod } from '@peapod/api';

export interface MatchableNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export type NodeMatcher = (node: MatchableNode) => boolean;

type Predicate = (value: string | undefined) => boolean;

const integerRe = /^[+-]?\d+$/;

function labelOf(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/** The predicate a requirement puts on one value (a label's, or the node's name); undefined if the requirement is invalid. */
function valuePredicate(r: NodeSelectorRequirement): Predicate | undefined {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': {
      const set = new Set(values);
      return (v) => v !== undefined && set.has(v);
    }
    case 'NotIn': {
      const set = new Set(values);
      return (v) => v === undefined || !set.has(v);
    }
    case 'Exists':
      return (v) => v !== undefined;
    case 'DoesNotExist':
      return (v) => v === undefined;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1 || !integerRe.test(values[0])) return undefined;
      const bound = Number(values[0]);
      const greater = r.operator === 'Gt';
      return (v) => v !== undefined && integerRe.test(v) && (greater ? Number(v) > bound : Number(v) < bound);
    }
    default:
      return undefined;
  }
}

const never: NodeMatcher = () => false;

/** A term matches when all its requirements do; an empty or invalid term matches no node, as in Kubernetes. */
function compileTerm(term: NodeSelectorTerm): NodeMatcher {
  const checks: NodeMatcher[] = [];
  for (const r of term.matchExpressions ?? []) {
    const p = valuePredicate(r);
    if (!p) return never;
    const key = r.key;
    checks.push((node) => p(labelOf(node.labels, key)));
  }
  for (const r of term.matchFields ?? []) {
    // metadata.name is the only field a node selector term may match, with In or NotIn.
    if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return never;
    const p = valuePredicate(r);
    if (!p) return never;
    checks.push((node) => p(node.name));
  }
  if (checks.length === 0) return never;
  return (node) => {
    for (let i = 0; i < checks.length; i++) if (!checks[i](node)) return false;
    return true;
  };
}

/**
 * The pod's node constraints as one predicate, or null when it has none. nodeSelector and
 * the required affinity must both hold; the affinity's terms are alternatives.
 */
export function compileNodeMatcher(pod: Pod): NodeMatcher | null {
  const selector = Object.entries(pod.spec.nodeSelector ?? {});
  const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (selector.length === 0 && terms === undefined) return null;
  const termMatchers = terms?.map(compileTerm);
  return (node) => {
    for (let i = 0; i < selector.length; i++) {
      if (labelOf(node.labels, selector[i][0]) !== selector[i][1]) return false;
    }
    if (termMatchers === undefined) return true;
    for (let i = 0; i < termMatchers.length; i++) if (termMatchers[i](node)) return true;
    return false;
  };
}
