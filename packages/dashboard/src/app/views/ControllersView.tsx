// Replication controllers: desired, current and ready replicas; scale.

import { useMemo, useState } from 'preact/hooks';
import { scaleController } from '../actions';
import { request } from '../api';
import type { ControllerRecord } from '../state/records';
import type { Store } from '../state/store';
import { ActionDialog } from './ActionDialog';
import { Note, age } from './common';
import { VirtualList } from './VirtualList';

export function ControllersView({ store, now }: { store: Store; now: number }) {
  const rcs = useMemo(() => [...store.controllers.values()].sort((a, b) => (a.key < b.key ? -1 : 1)), [store.versions.controllers]);
  const [scaling, setScaling] = useState<ControllerRecord | undefined>();
  const state = store.state.controllers;
  const row = (i: number) => {
    const rc = rcs[i];
    const settled = rc.desired === rc.current && rc.current === rc.ready;
    return (
      <div class="grid rcs" data-rc={rc.key}>
        <span class="name">{rc.name}</span>
        <span class="muted">{rc.namespace}</span>
        <span data-desired>{rc.desired}</span>
        <span data-current>{rc.current}</span>
        <span data-ready class={settled ? '' : 'warn-text'}>
          {rc.ready}
        </span>
        <span class="muted">{rc.selector}</span>
        <span>{age(rc.createdMs, now)}</span>
        <span class="actions">
          <button onClick={() => setScaling(rc)}>Scale</button>
        </span>
      </div>
    );
  };
  return (
    <section class="view" data-view="controllers">
      <div class="toolbar">
        <strong>{rcs.length} replication controllers</strong>
      </div>
      {state.phase === 'error' && <Note tone="error">{state.message}</Note>}
      {state.phase === 'unavailable' && <Note>Replication controllers are not served by this cluster.</Note>}
      <div class="grid rcs head">
        <span>NAME</span>
        <span>NAMESPACE</span>
        <span>DESIRED</span>
        <span>CURRENT</span>
        <span>READY</span>
        <span>SELECTOR</span>
        <span>AGE</span>
        <span />
      </div>
      <VirtualList count={rcs.length} rowHeight={32} row={row} />
      {scaling && <ScaleDialog rc={scaling} onClose={() => setScaling(undefined)} />}
    </section>
  );
}

function ScaleDialog({ rc, onClose }: { rc: ControllerRecord; onClose: () => void }) {
  const [replicas, setReplicas] = useState(String(rc.desired));
  const n = Number(replicas);
  return (
    <ActionDialog
      title={`Scale ${rc.namespace}/${rc.name}`}
      applyLabel="Scale"
      onClose={onClose}
      run={(dryRun) => {
        if (replicas.trim() === '' || !Number.isInteger(n) || n < 0) return Promise.reject(new Error('replicas must be a whole number, 0 or more'));
        return scaleController(request, rc, n, dryRun);
      }}
    >
      <label>
        Replicas (now {rc.desired})
        <input name="replicas" type="number" min={0} value={replicas} onInput={(e) => setReplicas((e.currentTarget as HTMLInputElement).value)} />
      </label>
    </ActionDialog>
  );
}
