// Impersonation (Impersonate-User, Impersonate-Group, Impersonate-Uid and
// Impersonate-Extra-KEY headers), as Kubernetes' filter does it: the caller must be allowed
// the `impersonate` verb on each thing it asks to be (users, groups and serviceaccounts in
// the core group, uids and userextras in authentication.k8s.io); the request is then served,
// and authorized, as that user. `kubectl --as/--as-group/--as-uid` send these headers.

import type { IncomingMessage } from 'http';
import { StatusError } from '../errors';
import type { Authorizer, RequestAttributes } from './authorizer';
import { serviceAccountUserPrefix } from './service-account-tokens';
import type { UserInfo } from './tokens';

const extraPrefix = 'impersonate-extra-';

function values(req: IncomingMessage, header: string): string[] {
  return req.headersDistinct[header] ?? [];
}

/** Whether a request asks to impersonate anyone. */
export function wantsImpersonation(req: IncomingMessage): boolean {
  for (const h of Object.keys(req.headers)) if (h === 'impersonate-user' || h === 'impersonate-group' || h === 'impersonate-uid' || h.startsWith(extraPrefix)) return true;
  return false;
}

/**
 * The user a request acts as: the caller itself, or whom its impersonation headers name once
 * every one of them is allowed. Throws a 400 for headers that name no user, a 403 for one not allowed.
 */
export function impersonatedUser(caller: UserInfo, req: IncomingMessage, authorizer: Authorizer): UserInfo {
  if (!wantsImpersonation(req)) return caller;
  const users = values(req, 'impersonate-user');
  const groups = values(req, 'impersonate-group');
  const uids = values(req, 'impersonate-uid');
  const extra: Record<string, string[]> = {};
  for (const h of Object.keys(req.headers)) {
    if (h.startsWith(extraPrefix)) extra[decodeURIComponent(h.slice(extraPrefix.length))] = values(req, h);
  }
  if (users.length !== 1 || !users[0] || uids.length > 1) {
    throw new StatusError(400, 'impersonation needs exactly one Impersonate-User (and at most one Impersonate-Uid)', { reason: 'BadRequest' });
  }
  const name = users[0];
  const check = (a: RequestAttributes) => {
    const d = authorizer.authorize(caller, a);
    if (!d.allowed) throw new StatusError(403, d.message!, { reason: 'Forbidden', name: a.name, group: a.group || undefined, kind: a.resource });
  };
  const impersonatedGroups = [...groups];
  if (name.startsWith(serviceAccountUserPrefix)) {
    const [namespace, account] = name.slice(serviceAccountUserPrefix.length).split(':');
    if (!namespace || !account) throw new StatusError(400, `invalid service account user name "${name}"`, { reason: 'BadRequest' });
    check({ verb: 'impersonate', resource: 'serviceaccounts', namespace, name: account });
    if (groups.length === 0) impersonatedGroups.push('system:serviceaccounts', `system:serviceaccounts:${namespace}`);
  } else {
    check({ verb: 'impersonate', resource: 'users', name });
  }
  for (const g of groups) check({ verb: 'impersonate', resource: 'groups', name: g });
  for (const uid of uids) check({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: uid });
  for (const [key, vals] of Object.entries(extra)) {
    for (const v of vals) check({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
  }
  // Every impersonated user but the anonymous one is authenticated.
  const everyone = name === 'system:anonymous' ? 'system:unauthenticated' : 'system:authenticated';
  if (!impersonatedGroups.includes(everyone)) impersonatedGroups.push(everyone);
  return { name, uid: uids[0] ?? '', groups: impersonatedGroups, ...(Object.keys(extra).length ? { extra } : {}) };
}
