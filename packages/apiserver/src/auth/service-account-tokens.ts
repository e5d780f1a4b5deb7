// Service account tokens: JWTs with Kubernetes' claims, signed with the API server's key, and
// their authentication. A token is accepted while it is within its lifetime (a minute of
// leeway, as Kubernetes allows), was issued by this issuer for one of the API's audiences, and
// the service account, and the pod, secret or node it is bound to, still exist with the uid it
// names (an object being deleted stops its tokens a minute after its deletion time).

import crypto from 'crypto';
import jwt from 'jsonwebtoken';
import type { KubeObject } from '@peapod/api';
import type { ServiceAccountKeys } from '../pki/service-account-key';
import type { UserInfo } from './tokens';

/** Kubernetes' leeway on times and on deletions. */
const leewaySeconds = 60;

export interface ObjectRef {
  name: string;
  uid: string;
}

/** The private claims Kubernetes puts under "kubernetes.io". */
export interface KubernetesClaims {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  /** the node of a bound pod; no uid when the Node object was not found */
  node?: { name: string; uid?: string };
  /** the time after which a token that was given a longer life is used past its requested one */
  warnafter?: number;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti?: string;
  'kubernetes.io': KubernetesClaims;
}

export const serviceAccountUserPrefix = 'system:serviceaccount:';

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${serviceAccountUserPrefix}${namespace}:${name}`;
}

export interface IssueRequest {
  audiences: string[];
  /** seconds from now until the token expires */
  lifetimeSeconds: number;
  claims: KubernetesClaims;
}

/** The stored objects a token names (nodes have no namespace). */
export type ObjectGetter = (resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string | undefined, name: string) => KubeObject | undefined;

export interface ServiceAccountTokensOptions {
  keys: ServiceAccountKeys;
  /** the `iss` of new tokens; tokens of other issuers are not accepted */
  issuer: string;
  /** the audiences the API server accepts tokens for */
  apiAudiences: string[];
  objects: ObjectGetter;
  now?: () => Date;
}

export class ServiceAccountTokens {
  private readonly now: () => Date;
  private readonly algorithms: jwt.Algorithm[];

  constructor(private readonly opts: ServiceAccountTokensOptions) {
    if (opts.apiAudiences.length === 0) throw new Error('the API server needs at least one audience');
    this.now = opts.now ?? (() => new Date());
    this.algorithms = ['RS256', 'ES256'];
  }

  get apiAudiences(): string[] {
    return this.opts.apiAudiences;
  }

  /** A signed token; `iat`, `nbf` and `exp` count from now. */
  issue(req: IssueRequest): string {
    const now = Math.floor(this.now().getTime() / 1000);
    const { namespace, serviceaccount } = req.claims;
    const claims: TokenClaims = {
      iss: this.opts.issuer,
      sub: serviceAccountUsername(namespace, serviceaccount.name),
      aud: req.audiences,
      exp: now + req.lifetimeSeconds,
      iat: now,
      nbf: now,
      jti: crypto.randomUUID(),
      'kubernetes.io': req.claims,
    };
    return jwt.sign(claims, this.opts.keys.signing, { algorithm: this.opts.keys.algorithm, keyid: this.opts.keys.keyId });
  }

  /** The user of a valid service account token, or undefined for anything else. */
  authenticate(token: string): UserInfo | undefined {
    const claims = this.verify(token);
    if (!claims) return undefined;
    const k = claims['kubernetes.io'];
    const nowMs = this.now().getTime();
    const live = (obj: KubeObject | undefined, ref: ObjectRef): boolean => {
      if (!obj || obj.metadata.uid !== ref.uid) return false;
      const deleted = obj.metadata.deletionTimestamp;
      return !deleted || Date.parse(deleted) > nowMs - leewaySeconds * 1000;
    };
    if (!live(this.opts.objects('serviceaccounts', k.namespace, k.serviceaccount.name), k.serviceaccount)) return undefined;
    if (k.pod && !live(this.opts.objects('pods', k.namespace, k.pod.name), k.pod)) return undefined;
    if (k.secret && !live(this.opts.objects('secrets', k.namespace, k.secret.name), k.secret)) return undefined;
    // A token bound to a node alone dies with the node; a pod's token only names the pod's node.
    if (k.node && !k.pod && !live(this.opts.objects('nodes', undefined, k.node.name), { name: k.node.name, uid: k.node.uid ?? '' })) return undefined;
    const extra: Record<string, string[]> = {};
    if (k.pod) {
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (k.node) {
      extra['authentication.kubernetes.io/node-name'] = [k.node.name];
      if (k.node.uid) extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
    }
    if (claims.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];
    return {
      name: serviceAccountUsername(k.namespace, k.serviceaccount.name),
      uid: k.serviceaccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
      extra,
    };
  }

  /** The claims of a token this server signed, within its lifetime, for the API; undefined otherwise. */
  private verify(token: string): TokenClaims | undefined {
    let decoded: jwt.Jwt | null;
    try {
      decoded = jwt.decode(token, { complete: true });
    } catch {
      return undefined;
    }
    const kid = decoded?.header.kid;
    const keys = kid !== undefined ? [this.opts.keys.verifying.get(kid)].filter((k) => k !== undefined) : [...this.opts.keys.verifying.values()];
    for (const key of keys) {
      try {
        const claims = jwt.verify(token, key, {
          algorithms: this.algorithms,
          issuer: this.opts.issuer,
          audience: this.opts.apiAudiences as [string, ...string[]],
          clockTolerance: leewaySeconds,
          clockTimestamp: Math.floor(this.now().getTime() / 1000),
        }) as Partial<TokenClaims>;
        if (isTokenClaims(claims)) return claims;
      } catch {
        // the next key, if any, may verify it
      }
    }
    return undefined;
  }
}

function isRef(x: unknown): x is ObjectRef {
  return typeof x === 'object' && x !== null && typeof (x as ObjectRef).name === 'string' && typeof (x as ObjectRef).uid === 'string';
}

function isTokenClaims(c: Partial<TokenClaims>): c is TokenClaims {
  const k = c['kubernetes.io'];
  return (
    typeof k === 'object' &&
    k !== null &&
    typeof k.namespace === 'string' &&
    isRef(k.serviceaccount) &&
    (k.pod === undefined || isRef(k.pod)) &&
    (k.secret === undefined || isRef(k.secret))
  );
}
