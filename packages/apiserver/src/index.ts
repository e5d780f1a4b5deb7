export * from './server';
export * from './storage/types';
export { SqliteStore } from './storage/sqlite-store';
export { Registry } from './registry/registry';
