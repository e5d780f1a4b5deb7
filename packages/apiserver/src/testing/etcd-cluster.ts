// The etcd cluster helper is built with the benches (they start a cluster too); tests take it from here.
export * from '../bench/etcd-cluster';
