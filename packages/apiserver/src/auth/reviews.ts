// The review APIs: requests that ask a question and store nothing. TokenReview (who a token
// belongs to), SelfSubjectReview (who am I), SelfSubjectAccessReview and SubjectAccessReview
// (may this user do that?) and SelfSubjectRulesReview. Access reviews are answered by the
// same authorizer that guards every request, never by rules of their own, so an answer
// always matches what the request itself would get.

import express from 'express';
import type { Request, Response, Router } from 'express';
import { requestUrl } from '@peapod/api';
import type { KubeObject } from '@peapod/api';
import { badRequest, invalid, StatusError } from '../errors';
import { readObject } from '../http/body';
import { sendObject } from '../http/negotiation';
import { mastersGroup, nodeUserPrefix } from './authorizer';
import type { Authorizer, Decision } from './authorizer';
import type { UserInfo } from './tokens';

export interface ReviewOptions {
  /** who a bearer token belongs to; without it there is no authentication and no authorization */
  authenticate?: (token: string) => UserInfo | undefined;
  /** the authorizer of every request; set with authenticate */
  authorizer?: Authorizer;
  /** rejects an unknown dryRun value (a review stores nothing, so a dry run is the same request) */
  checkDryRun: (q: URLSearchParams) => void;
}

type Spec = Record<string, unknown>;

interface Review {
  group: string;
  resource: string;
  kind: string;
  /** the status of the review of `spec` asked by `caller` (undefined: no authentication) */
  answer(spec: Spec, caller: UserInfo | undefined): unknown;
}

/** How Kubernetes names a caller that did not authenticate, as a server without authentication treats everyone. */
const anonymous: UserInfo = { name: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] };

function userInfo(user: UserInfo): Record<string, unknown> {
  return {
    username: user.name,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.groups.length ? { groups: user.groups } : {}),
    ...(user.extra ? { extra: user.extra } : {}),
  };
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function object(v: unknown): Spec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Spec) : undefined;
}

/** The authorizer's decision on spec.resourceAttributes or spec.nonResourceAttributes, for `user`. */
function decide(kind: string, spec: Spec, user: UserInfo | undefined, authorizer: Authorizer | undefined): Decision {
  const resource = object(spec.resourceAttributes);
  const nonResource = object(spec.nonResourceAttributes);
  if (!resource === !nonResource) {
    throw invalid(kind, '', [{ reason: 'FieldValueInvalid', field: 'spec.resourceAttributes', message: 'Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
  }
  const attrs = (resource ?? nonResource)!;
  const verb = text(attrs.verb) ?? '';
  // Without authentication nothing is checked: every request is allowed, so every question is.
  if (!user || !authorizer) return { allowed: true };
  if (nonResource) return authorizer.authorizeNonResource(user, { verb, path: text(attrs.path) ?? '' });
  const fieldSelector = object(attrs.fieldSelector);
  return authorizer.authorize(
    user,
    {
      verb,
      group: text(attrs.group) ?? '',
      resource: text(attrs.resource) ?? '',
      subresource: text(attrs.subresource),
      namespace: text(attrs.namespace),
      name: text(attrs.name),
      fieldSelector: text(fieldSelector?.rawSelector),
    },
  );
}

function accessStatus(d: Decision): Record<string, unknown> {
  return d.allowed ? { allowed: true } : { allowed: false, ...(d.reason ? { reason: d.reason } : {}) };
}

function reviews(opts: ReviewOptions): Review[] {
  return [
    {
      group: 'authentication.k8s.io',
      resource: 'tokenreviews',
      kind: 'TokenReview',
      answer(spec) {
        const token = text(spec.token);
        if (!token) throw invalid('TokenReview', '', [{ reason: 'FieldValueRequired', field: 'spec.token', message: 'Required value' }]);
        const user = opts.authenticate?.(token);
        return user ? { authenticated: true, user: userInfo(user) } : { authenticated: false };
      },
    },
    {
      group: 'authentication.k8s.io',
      resource: 'selfsubjectreviews',
      kind: 'SelfSubjectReview',
      answer: (_spec, caller) => ({ userInfo: userInfo(caller ?? anonymous) }),
    },
    {
      group: 'authorization.k8s.io',
      resource: 'selfsubjectaccessreviews',
      kind: 'SelfSubjectAccessReview',
      answer: (spec, caller) => accessStatus(decide('SelfSubjectAccessReview', spec, caller, opts.authorizer)),
    },
    {
      group: 'authorization.k8s.io',
      resource: 'subjectaccessreviews',
      kind: 'SubjectAccessReview',
      answer(spec) {
        const name = text(spec.user);
        const groups = Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [];
        if (!name && groups.length === 0) {
          throw invalid('SubjectAccessReview', '', [{ reason: 'FieldValueInvalid', field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' }]);
        }
        const subject: UserInfo = { name: name ?? '', uid: text(spec.uid) ?? '', groups };
        return accessStatus(decide('SubjectAccessReview', spec, opts.authenticate ? subject : undefined, opts.authorizer));
      },
    },
    {
      group: 'authorization.k8s.io',
      resource: 'selfsubjectrulesreviews',
      kind: 'SelfSubjectRulesReview',
      answer: (spec, caller) => rulesReview(caller, text(spec.namespace), opts.authorizer),
    },
  ];
}

const everything = { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] };

/**
 * What the caller may do in a namespace (kubectl auth can-i --list): the rules RBAC grants it
 * there and cluster-wide; everything for system:masters. A node's rules depend on the pods
 * bound to it and are not listed: its answer says it is incomplete.
 */
function rulesReview(user: UserInfo | undefined, namespace: string | undefined, authorizer: Authorizer | undefined): Record<string, unknown> {
  if (!user || !authorizer || user.groups.includes(mastersGroup)) return { ...everything, incomplete: false };
  const resourceRules: unknown[] = [];
  const nonResourceRules: unknown[] = [];
  for (const r of authorizer.rbac.rulesFor(user, namespace)) {
    if (r.nonResourceURLs?.length) {
      if (namespace === undefined || authorizer.rbac.rulesFor(user, undefined).includes(r)) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
    } else {
      resourceRules.push({ verbs: r.verbs, ...(r.apiGroups ? { apiGroups: r.apiGroups } : {}), ...(r.resources ? { resources: r.resources } : {}), ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) });
    }
  }
  if (user.name.startsWith(nodeUserPrefix) && user.groups.includes('system:nodes')) {
    return { resourceRules, nonResourceRules, incomplete: true, evaluationError: 'the node authorizer grants a node access to the objects of its pods, which are not listed' };
  }
  return { resourceRules, nonResourceRules, incomplete: false };
}

/** POST routes for the reviews under /apis/{group}/v1/{resource}, and those paths. */
export function reviewRouter(opts: ReviewOptions): { router: Router; paths: ReadonlySet<string> } {
  const router = express.Router();
  const paths = new Set<string>();
  for (const review of reviews(opts)) {
    const apiVersion = `${review.group}/v1`;
    const path = `/apis/${apiVersion}/${review.resource}`;
    paths.add(path);
    router.post(path, (req: Request, res: Response, next) => {
      handle(req, res, review, apiVersion).catch(next);
    });
  }

  async function handle(req: Request, res: Response, review: Review, apiVersion: string): Promise<void> {
    const caller = res.locals.user as UserInfo | undefined;
    if (opts.authenticate) {
      if (!caller) throw new StatusError(401, 'Unauthorized', { reason: 'Unauthorized' });
      const d = opts.authorizer!.authorize(caller, { verb: 'create', group: review.group, resource: review.resource });
      if (!d.allowed) throw new StatusError(403, d.message!, { reason: 'Forbidden', group: review.group, kind: review.resource });
    }
    opts.checkDryRun(requestUrl(req.url).searchParams);
    // kubectl sends these as protobuf (and takes protobuf back), which readObject decodes too.
    const body = object(await readObject(req));
    if (!body) throw badRequest(`${review.kind} in version "v1" cannot be handled as a ${review.kind}: the body must be a JSON object`);
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
    }
    if (body.kind !== undefined && body.kind !== review.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${review.kind})`);
    }
    const spec = object(body.spec) ?? {};
    const status = review.answer(spec, caller);
    const reply = { kind: review.kind, apiVersion, metadata: {}, spec, status };
    sendObject(req, res, 201, reply as KubeObject);
  }

  return { router, paths };
}
