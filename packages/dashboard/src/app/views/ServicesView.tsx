// Services and their endpoints: ready ones in the rotation, not-ready ones out of it, and a
// terminating one (EndpointSlice condition) shown leaving the rotation. A cluster that does
// not serve Services gets a note, not an empty or broken page.

import { useMemo } from 'preact/hooks';
import type { EndpointRecord } from '../state/records';
import type { Store } from '../state/store';
import { serviceEndpoints } from '../state/views';
import { Chip, Note } from './common';

function endpointTone(e: EndpointRecord): { tone: string; text: string } {
  if (e.terminating) return { tone: 'terminating', text: e.serving ? 'terminating, leaving the rotation' : 'terminating, out of the rotation' };
  return e.ready ? { tone: 'running', text: 'ready' } : { tone: 'pending', text: 'not ready' };
}

export function ServicesView({ store }: { store: Store }) {
  const state = store.state.services;
  const services = useMemo(() => [...store.services.values()].sort((a, b) => (a.key < b.key ? -1 : 1)), [store.versions.services]);
  if (state.phase === 'unavailable') {
    return (
      <section class="view" data-view="services">
        <Note>Services are not served by this cluster (the API server answered 404 for /api/v1/services).</Note>
      </section>
    );
  }
  return (
    <section class="view scroll" data-view="services">
      <div class="toolbar">
        <strong>{services.length} services</strong>
      </div>
      {state.phase === 'error' && <Note tone="error">{state.message}</Note>}
      {services.map((s) => {
        const { source, endpoints } = serviceEndpoints(store, s.key);
        return (
          <div class="card" key={s.key} data-service={s.key}>
            <div class="card-head">
              <strong>{s.name}</strong>
              <span class="muted">{s.namespace}</span>
              <span>{s.type}</span>
              <span>{s.clusterIP}</span>
              <span>{s.ports}</span>
              <span class="muted">{s.selector}</span>
            </div>
            {source === 'none' ? (
              <div class="muted">Endpoints are not served by this cluster.</div>
            ) : endpoints.length === 0 ? (
              <div class="muted">no endpoints</div>
            ) : (
              <div class="endpoints">
                {endpoints.map((e) => {
                  const t = endpointTone(e);
                  return (
                    <span key={`${e.ip}/${e.pod}`} class="endpoint" data-endpoint={e.pod}>
                      <Chip tone={t.tone}>{t.text}</Chip> {e.ip} {e.pod && <span class="muted">{e.pod}</span>}
                    </span>
                  );
                })}
              </div>
            )}
          </div>
        );
      })}
    </section>
  );
}
