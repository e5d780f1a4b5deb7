// Pods grouped by node, with phase colours, readiness, restarts, age, and for a pod being
// deleted the time left of its grace period. Selecting a pod opens its panel.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type { PodRecord } from '../state/records';
import type { Store } from '../state/store';
import { countdown, podRows, unscheduled } from '../state/views';
import { DeletePodDialog } from './DeletePodDialog';
import { Chip, Note, age, podTone } from './common';
import { VirtualList } from './VirtualList';

let marked = false;

export function PodsView({ store, now, selected, onSelect }: { store: Store; now: number; selected?: string; onSelect: (key: string) => void }) {
  const [text, setText] = useState('');
  const rows = useMemo(() => podRows(store.pods.values(), store.nodes, { text }), [store.versions.pods, store.versions.nodes, text]);
  const [deleting, setDeleting] = useState<PodRecord | undefined>();
  const state = store.state.pods;

  // The benchmark's mark: the first time the whole pod list is on screen.
  useEffect(() => {
    if (!marked && state.phase === 'ready') {
      marked = true;
      performance.mark('peapod:pods-rendered', { detail: store.pods.size });
    }
  }, [state.phase]);

  const row = (i: number) => {
    const r = rows[i];
    if (r.type === 'node') {
      return (
        <div class="group" data-group={r.name}>
          <strong>{r.name === unscheduled ? 'Not scheduled' : r.name}</strong>
          {r.node && <Chip tone={r.node.ready === 'True' ? 'running' : 'failed'}>{r.node.status}</Chip>}
          <span class="muted">{r.pods} pods</span>
        </div>
      );
    }
    const p = r.pod;
    const terminating = p.deletionMs !== undefined;
    return (
      <div class={`grid pods ${selected === p.key ? 'selected' : ''}`} data-pod={p.key} onClick={() => onSelect(p.key)}>
        <span class="name">{p.name}</span>
        <span class="muted">{p.namespace}</span>
        <span>
          <Chip tone={podTone(p.status, p.phase)}>{p.status}</Chip>
          {terminating && (
            <span class="countdown" data-countdown={p.key}>
              {countdown(p.deletionMs as number, now)}
            </span>
          )}
        </span>
        <span>{p.ready}</span>
        <span class={p.restarts > 0 ? 'warn-text' : ''}>{p.restarts}</span>
        <span>{age(p.createdMs, now)}</span>
        <span class="muted">{p.podIP}</span>
        <span class="actions">
          <button
            onClick={(e) => {
              e.stopPropagation();
              setDeleting(p);
            }}
          >
            Delete
          </button>
        </span>
      </div>
    );
  };

  return (
    <section class="view" data-view="pods" data-pod-count={store.pods.size}>
      <div class="toolbar">
        <strong>{store.pods.size} pods</strong>
        <input placeholder="filter: name, namespace, node, status" value={text} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} />
      </div>
      {state.phase === 'loading' && <Note>Loading pods…</Note>}
      {state.phase === 'error' && <Note tone="error">{state.message}</Note>}
      <div class="grid pods head">
        <span>NAME</span>
        <span>NAMESPACE</span>
        <span>STATUS</span>
        <span>READY</span>
        <span>RESTARTS</span>
        <span>AGE</span>
        <span>IP</span>
        <span />
      </div>
      <VirtualList count={rows.length} rowHeight={30} row={row} />
      {deleting && <DeletePodDialog pod={deleting} onClose={() => setDeleting(undefined)} />}
    </section>
  );
}
