const preset = require('../../jest.preset.js');

// `npm test` runs every test on SQLite, then the tests of storage, watch, the registry, kubectl
// and client-node again with the API servers on a three-member etcd cluster that the etcd
// project starts (and the etcd-only tests, *.etcd.test.ts, which start clusters of their own).
const onEtcd = [
  'api', 'watch', 'deletion', 'dry-run', 'rc', 'server-side-apply', 'errors', 'kubectl', 'client-node',
].map((name) => `<rootDir>/src/${name}.test.ts`);

module.exports = {
  projects: [
    { ...preset, displayName: 'sqlite', testPathIgnorePatterns: ['\\.etcd\\.test\\.ts$'] },
    {
      ...preset,
      displayName: 'etcd',
      testMatch: [...onEtcd, '<rootDir>/src/**/*.etcd.test.ts'],
      globalSetup: '<rootDir>/src/testing/etcd-global-setup.ts',
      globalTeardown: '<rootDir>/src/testing/etcd-global-teardown.ts',
      setupFiles: ['<rootDir>/src/testing/etcd-env.ts'],
    },
  ],
};
