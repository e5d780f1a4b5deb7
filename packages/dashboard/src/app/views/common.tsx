// Small pieces every view uses: usage bars, status chips, sizes and durations.

import type { ComponentChildren } from 'preact';
import { formatDuration } from '@peapod/api/pod';
import { fraction } from '../state/views';

export function age(fromMs: number, now: number): string {
  return fromMs > 0 ? formatDuration(now - fromMs) : '';
}

export function cpu(millis: number): string {
  return millis % 1000 === 0 ? `${millis / 1000}` : `${(millis / 1000).toFixed(2).replace(/0$/, '')}`;
}

export function bytes(n: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 10 || u === 0 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')}${units[u]}`;
}

export function Bar({ used, capacity, label }: { used: number; capacity: number; label: string }) {
  const f = fraction(used, capacity);
  const level = f >= 0.9 ? 'high' : f >= 0.7 ? 'mid' : 'low';
  return (
    <div class="bar" title={`${label} (${Math.round(f * 100)}%)`}>
      <div class={`fill ${level}`} style={{ width: `${Math.round(f * 100)}%` }} />
      <span>{label}</span>
    </div>
  );
}

/** A pod's STATUS with its colour: by phase, Terminating and waiting reasons apart. */
export function podTone(status: string, phase: string): string {
  if (status === 'Terminating') return 'terminating';
  if (status === 'Running') return 'running';
  if (status === 'Completed' || phase === 'Succeeded') return 'succeeded';
  if (phase === 'Failed' || /Err|BackOff|Error|OOM|Failed/.test(status)) return 'failed';
  if (phase === 'Pending' || status === 'ContainerCreating' || status === 'Pending') return 'pending';
  return 'unknown';
}

export function Chip({ tone, children, title }: { tone: string; children: ComponentChildren; title?: string }) {
  return (
    <span class={`chip ${tone}`} title={title}>
      {children}
    </span>
  );
}

export function Note({ children, tone = 'info' }: { children: ComponentChildren; tone?: 'info' | 'error' }) {
  return <div class={`note ${tone}`} role={tone === 'error' ? 'alert' : undefined}>{children}</div>;
}
