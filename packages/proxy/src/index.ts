export * from './service-ports';
export * from './nft/ruleset';
export * from './nft/nft';
export * from './pod-network';
export * from './hairpin';
export * from './proxier';
