export * from './types';
export * from './resources';
export * from './status';
export * from './names';
export * from './quantity';
export * from './labels';
export * from './fields';
export * from './pod';
export * from './pod-references';
export * from './probes';
export * from './schemas';
export * from './validation';
export * from './service';
export * from './resolv-conf';
export * from './ipv4';
export { supportedServiceTypes } from './service-validation';
export { maxDNSNameservers, maxDNSSearchListChars, maxDNSSearchPaths } from './pod-dns-validation';
export {
  invalid as fieldInvalid,
  required as fieldRequired,
  forbidden as fieldForbidden,
  type CauseReason,
  type ValidationCause,
} from './field-rules';
export * from './openapi';
export * from './openapi-protobuf';
export * from './patch';
export * from './canonical';
export * from './deletion';
export * from './protobuf';
export * from './schema-descriptions';
export * from './field-sets';
export * from './time';
export * from './streams';
export * from './rbac';
export * from './paths';
export * from './string-interner';
