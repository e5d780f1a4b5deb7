// The event stream, newest first, filtered by type and text.

import { useMemo, useState } from 'preact/hooks';
import type { Store } from '../state/store';
import type { EventFilter } from '../state/views';
import { filterEvents } from '../state/views';
import { Chip, Note, age } from './common';
import { VirtualList } from './VirtualList';

export function EventsView({ store, now }: { store: Store; now: number }) {
  const [filter, setFilter] = useState<EventFilter>({ type: 'all', text: '' });
  const events = useMemo(() => filterEvents(store.events.values(), filter), [store.versions.events, filter]);
  const state = store.state.events;
  const row = (i: number) => {
    const e = events[i];
    return (
      <div class="grid events" data-event={e.key}>
        <span>{age(e.lastMs, now)}</span>
        <span>
          <Chip tone={e.type === 'Warning' ? 'failed' : 'neutral'}>{e.type}</Chip>
        </span>
        <span class="name">{e.reason}</span>
        <span>
          {e.kind.toLowerCase()}/{e.objectName}
        </span>
        <span class="message" title={e.message}>
          {e.message}
          {e.count > 1 ? ` (x${e.count})` : ''}
        </span>
        <span class="muted">{e.source}</span>
      </div>
    );
  };
  return (
    <section class="view" data-view="events">
      <div class="toolbar">
        <strong>{events.length} events</strong>
        <select value={filter.type} onChange={(e) => setFilter({ ...filter, type: (e.currentTarget as HTMLSelectElement).value as EventFilter['type'] })}>
          <option value="all">all types</option>
          <option value="Normal">Normal</option>
          <option value="Warning">Warning</option>
        </select>
        <input placeholder="filter: reason, object, message, source" value={filter.text} onInput={(e) => setFilter({ ...filter, text: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      {state.phase === 'error' && <Note tone="error">{state.message}</Note>}
      <div class="grid events head">
        <span>LAST SEEN</span>
        <span>TYPE</span>
        <span>REASON</span>
        <span>OBJECT</span>
        <span>MESSAGE</span>
        <span>SOURCE</span>
      </div>
      <VirtualList count={events.length} rowHeight={28} row={row} />
    </section>
  );
}
