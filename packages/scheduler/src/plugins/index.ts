// The default plugin set, filters in the order kube-scheduler runs the equivalent ones:
// cheap node-state checks first, then constraints, then resources.

import type { Framework } from '../framework';
import { balancedAllocation } from './balanced-allocation';
import { leastAllocated } from './least-allocated';
import { nodePorts } from './node-ports';
import { nodeReadyUnschedulable } from './node-ready-unschedulable';
import { nodeSelectorAffinity } from './node-selector-affinity';
import { ownerSpread } from './owner-spread';
import { resourcesFit } from './resources-fit';
import { taintToleration } from './taint-toleration';

export function defaultFramework(): Framework {
  return {
    filters: [nodeReadyUnschedulable, taintToleration, nodeSelectorAffinity, nodePorts, resourcesFit],
    scorers: [leastAllocated(1), balancedAllocation(1), ownerSpread(2)],
  };
}

export {
  balancedAllocation,
  leastAllocated,
  nodePorts,
  nodeReadyUnschedulable,
  nodeSelectorAffinity,
  ownerSpread,
  resourcesFit,
  taintToleration,
};
