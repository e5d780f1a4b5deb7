export * from './types';
export * from './resources';
export * from './status';
