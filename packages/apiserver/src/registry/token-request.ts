// POST serviceaccounts/NAME/token: an authentication.k8s.io/v1 TokenRequest in, the same with a
// signed token out, as Kubernetes' TokenREST answers it: audiences default to the API's, the
// lifetime to an hour (at least ten minutes), and a token may be bound to a Pod that runs as
// the service account, to a Secret or to a Node, so that it dies with that object.
//
// A dry run checks all of that but signs nothing: the status carries no token. (Kubernetes
// ignores dryRun here and returns a working token; a dry run must not mint a credential.)

import { invalidObjectMessage, rfc3339, validateObject } from '@peapod/api';
import type { Node, Pod, ServiceAccount, StatusCause, TokenRequest } from '@peapod/api';
import { badRequest, conflict, StatusError } from '../errors';
import type { KubernetesClaims, ServiceAccountTokens } from '../auth/service-account-tokens';
import type { Registry } from './registry';

/** The lifetime of the tokens the ServiceAccount admission mounts in pods. */
export const mountedTokenSeconds = 3607;
/** How long Kubernetes lets a mounted token live (while it warns after its requested hour), by default. */
const extendedSeconds = 365 * 24 * 3600;
const defaultSeconds = 3600;

const group = 'authentication.k8s.io';
const apiVersion = `${group}/v1`;

/** 422 as Kubernetes words it for a group's kind: `TokenRequest.authentication.k8s.io "x" is invalid: ...`. */
function invalidRequest(name: string, causes: StatusCause[]): StatusError {
  return new StatusError(422, invalidObjectMessage(`TokenRequest.${group}`, name, causes), { reason: 'Invalid', kind: 'TokenRequest', group, name, causes });
}

function invalid(name: string, field: string, value: unknown, detail: string): StatusError {
  return invalidRequest(name, [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` }]);
}

export interface TokenRequestOptions {
  /** --service-account-extend-token-expiration: mounted (3607 s) pod tokens live a year and warn after the hour */
  extendExpiration: boolean;
  now?: () => Date;
}

export class TokenRequests {
  private readonly now: () => Date;

  constructor(
    private readonly registry: Registry,
    private readonly tokens: ServiceAccountTokens,
    private readonly opts: TokenRequestOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  async create(namespace: string, name: string, body: unknown, dryRun: boolean): Promise<TokenRequest> {
    const req = this.decode(body);
    if (req.metadata.name && req.metadata.name !== name) throw invalid(name, 'metadata.name', req.metadata.name, 'must match the service account name if specified');
    if (req.metadata.namespace && req.metadata.namespace !== namespace) {
      throw invalid(name, 'metadata.namespace', req.metadata.namespace, 'must match the service account namespace if specified');
    }
    const sa = (await this.registry.get('serviceaccounts', namespace, name)).object as ServiceAccount;
    const spec = req.spec;
    if (!spec.audiences?.length) spec.audiences = [...this.tokens.apiAudiences];
    spec.expirationSeconds ??= defaultSeconds;
    if (spec.expirationSeconds < 600) throw invalid('', 'spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 10 minutes');
    if (spec.expirationSeconds > 2 ** 32) throw invalid('', 'spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration larger than 2^32 seconds');

    const claims: KubernetesClaims = { namespace, serviceaccount: { name, uid: sa.metadata.uid ?? '' } };
    const ref = spec.boundObjectRef;
    let boundPod: Pod | undefined;
    if (ref) {
      const refGroup = (ref.apiVersion ?? '').includes('/') ? (ref.apiVersion ?? '').split('/')[0] : '';
      const refName = ref.name ?? '';
      if (refGroup === '' && ref.kind === 'Pod') {
        boundPod = (await this.registry.get('pods', namespace, refName)).object as Pod;
        if (boundPod.spec.serviceAccountName !== name) {
          throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(name)} to pod running with different serviceaccount name.`);
        }
        claims.pod = { name: refName, uid: boundPod.metadata.uid ?? '' };
        const nodeName = boundPod.spec.nodeName;
        if (nodeName) {
          const node = (await this.registry.store.get(`/nodes/${nodeName}`))?.object as Node | undefined;
          claims.node = node?.metadata.uid ? { name: nodeName, uid: node.metadata.uid } : { name: nodeName };
        }
      } else if (refGroup === '' && ref.kind === 'Secret') {
        const secret = (await this.registry.get('secrets', namespace, refName)).object;
        claims.secret = { name: refName, uid: secret.metadata.uid ?? '' };
      } else if (refGroup === '' && ref.kind === 'Node') {
        const node = (await this.registry.get('nodes', undefined, refName)).object;
        claims.node = { name: refName, uid: node.metadata.uid ?? '' };
      } else {
        throw badRequest(`cannot bind token to object of type ${refGroup}/${(ref.apiVersion ?? '').split('/').pop()}, Kind=${ref.kind ?? ''}`);
      }
      const uid = claims.pod?.uid ?? claims.secret?.uid ?? claims.node?.uid;
      if (ref.uid && ref.uid !== uid) {
        throw conflict(
          ref.kind ?? '',
          refName,
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      }
    }

    const nowMs = this.now().getTime();
    let lifetime = spec.expirationSeconds;
    const forApi = spec.audiences.every((a) => this.tokens.apiAudiences.includes(a));
    if (this.opts.extendExpiration && boundPod && lifetime === mountedTokenSeconds && forApi) {
      claims.warnafter = Math.floor(nowMs / 1000) + lifetime;
      lifetime = extendedSeconds;
    }
    const token = dryRun ? '' : this.tokens.issue({ audiences: spec.audiences, lifetimeSeconds: lifetime, claims });
    return {
      kind: 'TokenRequest',
      apiVersion,
      metadata: { name, namespace, uid: sa.metadata.uid, creationTimestamp: rfc3339(new Date(nowMs)) },
      spec,
      status: { token, expirationTimestamp: rfc3339(new Date(nowMs + spec.expirationSeconds * 1000)) },
    };
  }

  /** The request as the schema has it; kind and apiVersion, when given, must be TokenRequest's. */
  private decode(body: unknown): TokenRequest {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be an authentication.k8s.io/v1 TokenRequest');
    const req = body as TokenRequest;
    if (req.apiVersion !== undefined && req.apiVersion !== apiVersion) {
      throw badRequest(`the API version in the data (${String(req.apiVersion)}) does not match the expected API version (${apiVersion})`);
    }
    if (req.kind !== undefined && req.kind !== 'TokenRequest') throw badRequest(`the kind in the data (${String(req.kind)}) does not match the expected kind (TokenRequest)`);
    req.metadata ??= {};
    req.spec ??= {};
    const causes = validateObject('TokenRequest', { ...req, status: undefined });
    if (causes.length) throw invalidRequest('', causes);
    return req;
  }
}
