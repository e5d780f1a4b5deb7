// Test scaffolding other packages' tests use (`@peapod/client/testing`): the components as
// real processes, and Docker nodes. Not part of the client's public API.
export * from './processes';
export * from './docker-node';
export * from './wait';
