// One pod up close: its state, the countdown to its grace deadline while it terminates,
// its timeline (its Events as they arrive, in order, then its removal), and its logs.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { failureFrom, failureText } from '../api';
import type { Store } from '../state/store';
import { clock, countdown, podTimeline } from '../state/views';
import { DeletePodDialog } from './DeletePodDialog';
import { Chip, age, podTone } from './common';

const maxLogChars = 200_000;

export function PodPanel({ store, now, podKey, uid, onClose }: { store: Store; now: number; podKey: string; uid: string; onClose: () => void }) {
  const pod = store.pods.get(podKey);
  const current = pod && pod.uid === uid ? pod : undefined;
  const timeline = useMemo(() => podTimeline(store, uid, current), [store.versions.events, store.versions.pods, uid]);
  const [deleting, setDeleting] = useState(false);
  const removed = store.removed.get(uid);
  const [namespace, name] = podKey.split('/');

  return (
    <aside class="panel" data-panel={podKey}>
      <header>
        <h2>{name}</h2>
        <button onClick={onClose} aria-label="close">
          ×
        </button>
      </header>
      <div class="muted">namespace {namespace}</div>
      {current ? (
        <div class="facts">
          <Chip tone={podTone(current.status, current.phase)}>{current.status}</Chip>
          <span>node {current.node || '(not scheduled)'}</span>
          <span>ready {current.ready}</span>
          <span>restarts {current.restarts}</span>
          <span>age {age(current.createdMs, now)}</span>
          {current.owner && <span>owner {current.owner}</span>}
        </div>
      ) : (
        <div class="facts">
          <Chip tone="gone">{removed ? 'Removed' : 'Not found'}</Chip>
        </div>
      )}
      {current?.deletionMs !== undefined && (
        <div class="deadline" data-deadline>
          <span>Terminating: grace deadline {clock(current.deletionMs)}</span>
          <strong data-countdown-big>{countdown(current.deletionMs, now)}</strong>
        </div>
      )}
      {current && !current.deletionMs && (
        <div class="buttons">
          <button class="danger" onClick={() => setDeleting(true)}>
            Delete…
          </button>
        </div>
      )}
      <h3>Timeline</h3>
      <ol class="timeline" data-timeline>
        {timeline.length === 0 && <li class="muted">no events yet</li>}
        {timeline.map((e) => (
          <li key={e.key} class={`${e.source} ${e.warning ? 'warning' : ''}`} data-reason={e.label} data-at={e.atMs}>
            <time>{clock(e.atMs)}</time>
            <strong>{e.label}</strong>
            <span>{e.detail}</span>
          </li>
        ))}
      </ol>
      {current && <Logs key={uid} namespace={namespace} name={name} containers={current.containers} />}
      {deleting && current && <DeletePodDialog pod={current} onClose={() => setDeleting(false)} />}
    </aside>
  );
}

function Logs({ namespace, name, containers }: { namespace: string; name: string; containers: string[] }) {
  const [container, setContainer] = useState(containers[0] ?? '');
  const [following, setFollowing] = useState(false);
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    if (!following) return;
    const abort = new AbortController();
    setText('');
    setError('');
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/log?follow=true&tailLines=500&container=${encodeURIComponent(container)}`;
    (async () => {
      const res = await fetch(path, { signal: abort.signal, credentials: 'same-origin' });
      if (!res.ok || !res.body) throw await failureFrom(res);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        setText((t) => (t + value).slice(-maxLogChars));
      }
    })().catch((err: unknown) => {
      if (!abort.signal.aborted) setError(failureText(err));
    });
    return () => abort.abort();
  }, [following, container, namespace, name]);

  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text]);

  return (
    <div class="logs">
      <h3>
        Logs
        {containers.length > 1 && (
          <select value={container} onChange={(e) => setContainer((e.currentTarget as HTMLSelectElement).value)}>
            {containers.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        )}
        <button onClick={() => setFollowing(!following)}>{following ? 'Stop following' : 'Follow logs'}</button>
      </h3>
      {error && (
        <div class="note error" role="alert">
          {error}
        </div>
      )}
      {following && (
        <pre ref={pre} data-logs>
          {text}
        </pre>
      )}
    </div>
  );
}
