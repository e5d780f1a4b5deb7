// Test scaffolding other packages' tests use (`@peapod/client/testing`): the components as
// real processes, Docker nodes, a cluster for services end to end, an in-memory API server,
// and waiting for conditions. Not part of the client's public API.
export * from './processes';
export * from './docker-node';
export * from './namespace-defaults';
export * from './http-server';
export * from './service-cluster';
export * from './fake-apiserver';
export * from './wait';
export * from './leader-election';
export * from './etcd-cluster';
export * from './kubectl-race';
