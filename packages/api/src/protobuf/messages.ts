// The protobufjs types built from our message definitions (./proto), and which message a
// kind is: a kind of group G version V is a message of Kubernetes' package for G/V, and
// the kinds of meta/v1 (Status, DeleteOptions, WatchEvent) belong to every group-version,
// as Kubernetes registers them. Parsed once, on first use.

import protobuf from 'protobufjs';
import { intstrProto, metaProto, metaV1Proto, resourceProto } from './proto/meta';
import { coreV1Proto } from './proto/core';
import { authenticationV1Proto, authorizationV1Proto, autoscalingV1Proto, coordinationV1Proto, discoveryV1Proto, policyV1Proto, rbacV1Proto } from './proto/groups';
import { openapiV2Proto } from './proto/openapi';

export const metaPackage = 'k8s.io.apimachinery.pkg.apis.meta.v1';
export const runtimePackage = 'k8s.io.apimachinery.pkg.runtime';

let root: protobuf.Root | undefined;

export function protoRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  for (const text of [metaProto, resourceProto, intstrProto, metaV1Proto, coreV1Proto, autoscalingV1Proto, coordinationV1Proto, policyV1Proto, discoveryV1Proto, authenticationV1Proto, authorizationV1Proto, rbacV1Proto, openapiV2Proto]) {
    protobuf.parse(text, r, { keepCase: true });
  }
  r.resolveAll();
  root = r;
  return r;
}

/** Kubernetes' protobuf package of each API group we have definitions for. */
const groupPackages: Record<string, string> = {
  '': 'k8s.io.api.core',
  autoscaling: 'k8s.io.api.autoscaling',
  'coordination.k8s.io': 'k8s.io.api.coordination',
  policy: 'k8s.io.api.policy',
  'discovery.k8s.io': 'k8s.io.api.discovery',
  'authentication.k8s.io': 'k8s.io.api.authentication',
  'authorization.k8s.io': 'k8s.io.api.authorization',
  'rbac.authorization.k8s.io': 'k8s.io.api.rbac',
  'meta.k8s.io': 'k8s.io.apimachinery.pkg.apis.meta',
};

const byKind = new Map<string, protobuf.Type>();

/** The message type of a kind in a group-version, or undefined when there is none. */
export function messageType(apiVersion: string, kind: string): protobuf.Type | undefined {
  const key = `${apiVersion} ${kind}`;
  const cached = byKind.get(key);
  if (cached) return cached;
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const pkg = Object.hasOwn(groupPackages, group) ? groupPackages[group] : undefined;
  if (!pkg || !/^v\d+$/.test(version) || !/^[A-Z]\w*$/.test(kind)) return undefined;
  const t = lookupType(`${pkg}.${version}.${kind}`) ?? lookupType(`${metaPackage}.${kind}`);
  // Only hits are kept: the keys are bounded by our definitions, not by what clients send.
  if (t) byKind.set(key, t);
  return t;
}

function lookupType(name: string): protobuf.Type | undefined {
  const found = protoRoot().lookup(name);
  return found instanceof protobuf.Type ? found : undefined;
}

/** A type by its full name; throws when our definitions lack it (a programming error). */
export function typeNamed(name: string): protobuf.Type {
  const t = lookupType(name);
  if (!t) throw new Error(`no protobuf message ${name}`);
  return t;
}
