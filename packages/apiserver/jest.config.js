const preset = require('../../jest.preset.js');

// `npm test` runs every test on SQLite, then every test that starts an API server again with
// the servers on a three-member etcd cluster that the etcd project starts (and the etcd-only
// tests, *.etcd.test.ts, which start clusters of their own). Left out on etcd: unit tests of
// one module (storage/, auth/, registry/); and encryption-at-rest.test.ts, which reads the SQLite
// files (storage/etcd-store.etcd.test.ts checks etcd's values).
const sqliteOnly = ['/src/(storage|auth|registry)/[^/]*(?<!\\.etcd)\\.test\\.ts$', '/src/encryption-at-rest\\.test\\.ts$'];

module.exports = {
  projects: [
    { ...preset, displayName: 'sqlite', testPathIgnorePatterns: ['\\.etcd\\.test\\.ts$'] },
    {
      ...preset,
      displayName: 'etcd',
      testMatch: ['<rootDir>/src/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...sqliteOnly],
      globalSetup: '<rootDir>/src/testing/etcd-global-setup.ts',
      globalTeardown: '<rootDir>/src/testing/etcd-global-teardown.ts',
      setupFiles: ['<rootDir>/src/testing/etcd-env.ts'],
    },
  ],
};
