export * from './errors';
export * from './log';
export * from './rest';
export * from './watch';
export * from './informer';
export * from './workqueue';
export * from './kubeconfig';
export * from './signals';
