import type { KubeObject, ResourceInfo, StatusCause } from '@peapod/api';

export interface StrategyOptions {
  allowPrivileged: boolean;
}

/**
 * What differs between resources, in the manner of the apiserver's registry strategies:
 * defaulting, validation and how an update is folded into the stored object. The
 * generic Registry does the rest (storage, preconditions, deletion, watch).
 */
export interface Strategy {
  readonly resource: ResourceInfo;
  /** fills defaults; called on every object a client sends (create and update) */
  applyDefaults(obj: KubeObject): void;
  /** resets what a client may not set on create (status), after defaults */
  prepareForCreate(obj: KubeObject): void;
  /** keeps what the main resource may not change (status) */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** keeps what the status subresource may not change (spec, most metadata) */
  prepareForStatusUpdate(obj: KubeObject, old: KubeObject): void;
  validate(obj: KubeObject): StatusCause[];
  validateUpdate(obj: KubeObject, old: KubeObject): StatusCause[];
  /** whether a spec change bumps metadata.generation */
  readonly tracksGeneration: boolean;
}
