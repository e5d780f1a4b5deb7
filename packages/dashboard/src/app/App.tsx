// The page: tabs for the views, the selected pod's panel beside them. Everything on it comes
// from the store, which the watches keep current.

import { useEffect, useState } from 'preact/hooks';
import { useLive, useNow } from './hooks';
import type { Live } from './live';
import { kinds } from './state/store';
import { ControllersView } from './views/ControllersView';
import { EventsView } from './views/EventsView';
import { NodesView } from './views/NodesView';
import { PodPanel } from './views/PodPanel';
import { PodsView } from './views/PodsView';
import { ServicesView } from './views/ServicesView';

const tabs = [
  ['pods', 'Pods'],
  ['nodes', 'Nodes'],
  ['services', 'Services'],
  ['controllers', 'Replication controllers'],
  ['events', 'Events'],
] as const;

type Tab = (typeof tabs)[number][0];

function tabFromHash(): Tab {
  const h = location.hash.slice(1);
  return (tabs.find(([t]) => t === h)?.[0] ?? 'pods') as Tab;
}

export function App({ live }: { live: Live }) {
  useLive(live);
  const now = useNow(1000);
  const [tab, setTab] = useState<Tab>(tabFromHash());
  const [selected, setSelected] = useState<{ key: string; uid: string } | undefined>();
  const store = live.store;

  useEffect(() => {
    const onHash = () => setTab(tabFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const failing = kinds.filter((k) => store.state[k].phase === 'error');
  return (
    <div class="app">
      <header class="top">
        <span class="brand">Peapod</span>
        <nav>
          {tabs.map(([t, label]) => (
            <a key={t} href={`#${t}`} class={tab === t ? 'active' : ''} data-tab={t}>
              {label}
            </a>
          ))}
        </nav>
        <span class="summary">
          {store.nodes.size} nodes · {store.pods.size} pods ·{' '}
          <span class={failing.length > 0 ? 'bad' : 'live'} title={failing.map((k) => `${k}: ${(store.state[k] as { message: string }).message}`).join('\n')}>
            {failing.length > 0 ? `${failing.length} watch${failing.length > 1 ? 'es' : ''} failing` : 'live'}
          </span>
        </span>
      </header>
      <main>
        {tab === 'pods' && (
          <PodsView
            store={store}
            now={now}
            selected={selected?.key}
            onSelect={(key) => setSelected({ key, uid: store.pods.get(key)?.uid ?? '' })}
          />
        )}
        {tab === 'nodes' && <NodesView store={store} now={now} />}
        {tab === 'services' && <ServicesView store={store} />}
        {tab === 'controllers' && <ControllersView store={store} now={now} />}
        {tab === 'events' && <EventsView store={store} now={now} />}
        {selected && tab === 'pods' && <PodPanel store={store} now={now} podKey={selected.key} uid={selected.uid} onClose={() => setSelected(undefined)} />}
      </main>
    </div>
  );
}
