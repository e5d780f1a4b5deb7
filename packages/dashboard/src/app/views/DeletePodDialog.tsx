import { useState } from 'preact/hooks';
import { immediateDeletionWarning } from '@peapod/api/pod';
import { deletePod } from '../actions';
import { request } from '../api';
import type { PodRecord } from '../state/records';
import { ActionDialog } from './ActionDialog';

/** Delete a pod with a grace period; 0 forces it, with the warning kubectl prints. */
export function DeletePodDialog({ pod, onClose }: { pod: PodRecord; onClose: () => void }) {
  const [grace, setGrace] = useState(String(pod.specGraceSeconds));
  const seconds = Number(grace);
  const valid = grace.trim() !== '' && Number.isInteger(seconds) && seconds >= 0;
  return (
    <ActionDialog
      title={`Delete pod ${pod.namespace}/${pod.name}`}
      applyLabel={valid && seconds === 0 ? 'Force delete' : 'Delete'}
      warning={valid && seconds === 0 ? immediateDeletionWarning : undefined}
      onClose={onClose}
      run={(dryRun) => {
        if (!valid) return Promise.reject(new Error('the grace period must be a whole number of seconds, 0 or more'));
        return deletePod(request, pod, seconds, dryRun);
      }}
    >
      <label>
        Grace period (seconds; 0 = force)
        <input name="grace" type="number" min={0} value={grace} onInput={(e) => setGrace((e.currentTarget as HTMLInputElement).value)} />
      </label>
    </ActionDialog>
  );
}
