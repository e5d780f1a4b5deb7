// One dialog for every action: its inputs, kubectl's warning where there is one, a Preview
// (the same request with dryRun=All) and the action itself. The result, or the API's Status
// message when the server refuses, stays on screen until the dialog is closed.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { failureText } from '../api';

export interface ActionDialogProps {
  title: string;
  children?: ComponentChildren;
  warning?: string;
  applyLabel: string;
  /** false for an action with nothing to preview */
  previewable?: boolean;
  run: (dryRun: boolean) => Promise<string[]>;
  onClose: () => void;
}

export function ActionDialog({ title, children, warning, applyLabel, previewable = true, run, onClose }: ActionDialogProps) {
  const [busy, setBusy] = useState(false);
  const [lines, setLines] = useState<string[]>([]);
  const [preview, setPreview] = useState(false);
  const [error, setError] = useState('');

  const go = async (dryRun: boolean): Promise<void> => {
    setBusy(true);
    setError('');
    setLines([]);
    try {
      setLines(await run(dryRun));
      setPreview(dryRun);
    } catch (err) {
      setError(failureText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-label={title}>
        <h2>{title}</h2>
        {children}
        {warning && <div class="note warn">{warning}</div>}
        {lines.length > 0 && (
          <div class={`result ${preview ? 'preview' : 'done'}`} data-result>
            <strong>{preview ? 'Preview (dry run, nothing changed):' : 'Done:'}</strong>
            {lines.map((l) => (
              <div key={l}>{l}</div>
            ))}
          </div>
        )}
        {error && (
          <div class="note error" role="alert">
            {error}
          </div>
        )}
        <div class="buttons">
          {previewable && (
            <button data-action="preview" disabled={busy} onClick={() => go(true)}>
              Preview
            </button>
          )}
          <button class="primary" data-action="apply" disabled={busy} onClick={() => go(false)}>
            {applyLabel}
          </button>
          <button data-action="close" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
