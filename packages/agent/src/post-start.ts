// What a failed postStart hook is called in its FailedPostStartHook event, worded as the
// kubelet words it ("Exec lifecycle hook ([cmd]) for Container "c" in Pod "p" failed - error: ...").
import type { Container } from '@peapod/api';
import type { HookResult } from './runtime';

export function postStartFailureMessage(container: Container, podRef: string, result: HookResult): string {
  const handler = container.lifecycle?.postStart;
  const error = result.message ?? result.status;
  const whose = `for Container ${JSON.stringify(container.name)} in Pod ${JSON.stringify(podRef)} failed - error: ${error}`;
  if (handler?.exec) return `Exec lifecycle hook ([${(handler.exec.command ?? []).join(' ')}]) ${whose}`;
  if (handler?.httpGet) return `HTTP lifecycle hook (${handler.httpGet.path ?? '/'}) ${whose}`;
  if (handler?.sleep) return `Sleep lifecycle hook (${handler.sleep.seconds}) ${whose}`;
  return `Lifecycle hook ${whose}`;
}
