// Nodes: Ready and cordoned, what their pods request against what they can hold (cpu,
// memory, pods), how long ago their lease was renewed; cordon, uncordon and drain.

import { useMemo, useState } from 'preact/hooks';
import { formatDuration } from '@peapod/api/pod';
import { drainNode, evictionServed, setUnschedulable } from '../actions';
import { request } from '../api';
import type { NodeRecord } from '../state/records';
import type { Store } from '../state/store';
import { nodeUsage } from '../state/views';
import { ActionDialog } from './ActionDialog';
import { Bar, Chip, Note, age, bytes, cpu } from './common';
import { VirtualList } from './VirtualList';

type Pending = { kind: 'cordon' | 'uncordon' | 'drain'; node: string };

export function NodesView({ store, now }: { store: Store; now: number }) {
  const nodes = useMemo(() => [...store.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1)), [store.versions.nodes]);
  const usage = useMemo(() => nodeUsage(store.pods.values()), [store.versions.pods]);
  const [pending, setPending] = useState<Pending | undefined>();
  const state = store.state.nodes;

  const lease = (n: NodeRecord): { text: string; stale: boolean } => {
    const l = store.leases.get(n.name);
    if (l?.renewMs === undefined) return { text: store.state.leases.phase === 'ready' ? 'no lease' : '', stale: false };
    const ageMs = now - l.renewMs;
    return { text: `${formatDuration(ageMs)} ago`, stale: ageMs > (l.durationSeconds ?? 40) * 1000 };
  };

  const row = (i: number) => {
    const n = nodes[i];
    const u = usage.get(n.name) ?? { cpuMillis: 0, memoryBytes: 0, pods: 0 };
    const l = lease(n);
    return (
      <div class="grid nodes" data-node={n.name}>
        <span class="name" title={n.taints.join('\n')}>
          {n.name}
        </span>
        <span>
          <Chip tone={n.ready === 'True' ? 'running' : n.ready === 'False' ? 'failed' : 'unknown'}>{n.ready === 'True' ? 'Ready' : n.ready === 'False' ? 'NotReady' : 'Unknown'}</Chip>
          {n.unschedulable && <Chip tone="cordoned">cordoned</Chip>}
        </span>
        <Bar used={u.cpuMillis} capacity={n.cpuMillis} label={`${cpu(u.cpuMillis)} / ${cpu(n.cpuMillis)} cpu`} />
        <Bar used={u.memoryBytes} capacity={n.memoryBytes} label={`${bytes(u.memoryBytes)} / ${bytes(n.memoryBytes)}`} />
        <Bar used={u.pods} capacity={n.pods} label={`${u.pods} / ${n.pods} pods`} />
        <span class={l.stale ? 'stale' : ''} title="renewal of its Lease in kube-node-lease">
          {l.text}
        </span>
        <span>{age(n.createdMs, now)}</span>
        <span class="actions">
          {n.unschedulable ? (
            <button onClick={() => setPending({ kind: 'uncordon', node: n.name })}>Uncordon</button>
          ) : (
            <button onClick={() => setPending({ kind: 'cordon', node: n.name })}>Cordon</button>
          )}
          <button onClick={() => setPending({ kind: 'drain', node: n.name })}>Drain</button>
        </span>
      </div>
    );
  };

  const podsOn = (node: string) => [...store.pods.values()].filter((p) => p.node === node);
  return (
    <section class="view" data-view="nodes">
      <div class="toolbar">
        <strong>{nodes.length} nodes</strong>
      </div>
      {state.phase === 'error' && <Note tone="error">{state.message}</Note>}
      <div class="grid nodes head">
        <span>NAME</span>
        <span>STATUS</span>
        <span>CPU REQUESTED</span>
        <span>MEMORY REQUESTED</span>
        <span>PODS</span>
        <span>LEASE RENEWED</span>
        <span>AGE</span>
        <span />
      </div>
      <VirtualList count={nodes.length} rowHeight={34} row={row} />
      {pending && (
        <ActionDialog
          title={`${pending.kind[0].toUpperCase()}${pending.kind.slice(1)} node ${pending.node}`}
          applyLabel={pending.kind[0].toUpperCase() + pending.kind.slice(1)}
          onClose={() => setPending(undefined)}
          run={async (dryRun) => {
            if (pending.kind !== 'drain') return setUnschedulable(request, pending.node, pending.kind === 'cordon', dryRun);
            return drainNode(request, pending.node, podsOn(pending.node), await evictionServed(request), dryRun);
          }}
        >
          {pending.kind === 'drain' && (
            <p>
              Cordons the node, then evicts each of its {podsOn(pending.node).length} pods (a graceful delete where the API does not serve pods/eviction); each pod
              keeps its own grace period.
            </p>
          )}
        </ActionDialog>
      )}
    </section>
  );
}
