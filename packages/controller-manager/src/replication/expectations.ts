// Expectations: what a controller has asked the API server to do and not yet seen come back
// through its informer. While a controller's creations or deletions are outstanding its cache
// is known to be behind, so it must not act on it again (it would create or delete twice).
// An expectation is satisfied by the watch events it waits for, or expires after a timeout
// (an event lost for good must not freeze the controller forever).

export const defaultExpectationsTimeoutMs = 5 * 60_000;

interface Expected {
  /** Creations still to be observed. */
  adds: number;
  /** Keys (ns/name) of pods whose deletion is still to be observed. */
  deletes: Set<string>;
  /** When the expectation was last set (ms since the epoch). */
  setAt: number;
}

export interface ExpectationsOptions {
  timeoutMs?: number;
  now?: () => number;
}

export class Expectations {
  private readonly byController = new Map<string, Expected>();
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(opts: ExpectationsOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? defaultExpectationsTimeoutMs;
    this.now = opts.now ?? Date.now;
  }

  /**
   * True when the controller may act on its cache: nothing is outstanding, nothing was ever
   * recorded (a controller seen for the first time), or the record has expired.
   */
  satisfied(controllerKey: string): boolean {
    const e = this.byController.get(controllerKey);
    if (e === undefined) return true;
    if (e.adds <= 0 && e.deletes.size === 0) return true;
    return this.now() - e.setAt > this.timeoutMs;
  }

  /** Records that `count` pods are about to be created (replacing any earlier record). */
  expectCreations(controllerKey: string, count: number): void {
    this.byController.set(controllerKey, { adds: count, deletes: new Set(), setAt: this.now() });
  }

  /** Records that these pods are about to be deleted (replacing any earlier record). */
  expectDeletions(controllerKey: string, podKeys: readonly string[]): void {
    this.byController.set(controllerKey, { adds: 0, deletes: new Set(podKeys), setAt: this.now() });
  }

  /** A pod of the controller appeared (or a creation failed, so it never will). */
  creationObserved(controllerKey: string): void {
    const e = this.byController.get(controllerKey);
    if (e !== undefined && e.adds > 0) e.adds--;
  }

  /** A pod of the controller is going (terminating or gone), or its deletion failed. */
  deletionObserved(controllerKey: string, podKey: string): void {
    this.byController.get(controllerKey)?.deletes.delete(podKey);
  }

  /** Forgets the controller (it was deleted). */
  delete(controllerKey: string): void {
    this.byController.delete(controllerKey);
  }

  /** Outstanding creations and deletions, for logs and tests. */
  pending(controllerKey: string): { adds: number; deletes: number } | undefined {
    const e = this.byController.get(controllerKey);
    return e === undefined ? undefined : { adds: e.adds, deletes: e.deletes.size };
  }
}
