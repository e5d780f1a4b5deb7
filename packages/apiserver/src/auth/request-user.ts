// The user a request is served for, reachable from the registry's strategies without
// threading it through every registry call: RBAC objects are checked against their
// writer's own permissions (privilege escalation) while they are admitted.

import { AsyncLocalStorage } from 'async_hooks';
import type { UserInfo } from './tokens';

const current = new AsyncLocalStorage<UserInfo>();

/** Runs fn (and everything it awaits) as a request of `user`. */
export function runAsUser<T>(user: UserInfo, fn: () => T): T {
  return current.run(user, fn);
}

/** The user of the request being served; undefined for the server's own writes and without authentication. */
export function requestUser(): UserInfo | undefined {
  return current.getStore();
}
