export * from './cluster-zone';
export * from './forwarder';
export * from './server';
export * from './registration';
export * from './cluster-dns';
