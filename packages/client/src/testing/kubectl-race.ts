// kubectl's WebSocket executor (client-go 1.32) starts reading the connection before it has
// created its streams, and drops any message that comes for a stream not made yet, saying
// so on stderr. On a loaded machine a short command's output can come that early: the
// command ran, its output is gone. That is kubectl's race, not the server's; tests that
// check what an exec printed run it again then. Any other loss still fails them.

/** Whether kubectl said it dropped a message of an exec (or cp) session. */
export function droppedByKubectl(stderr: string): boolean {
  return /Unknown stream id \d+, discarding message/.test(stderr);
}

/** Runs an idempotent kubectl exec or cp, again (at most twice more) while kubectl dropped its output. */
export async function againWhileKubectlDropped<R extends { stderr: string }>(once: () => Promise<R>): Promise<R> {
  let result = await once();
  for (let i = 0; i < 2 && droppedByKubectl(result.stderr); i++) result = await once();
  return result;
}
