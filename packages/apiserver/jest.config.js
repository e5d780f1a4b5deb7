const preset = require('../../jest.preset.js');

// `npm test` runs every test on SQLite, then every test that starts an API server again with
// the servers on a three-member etcd cluster that the etcd project starts (and the etcd-only
// tests, *.etcd.test.ts, which start clusters of their own). Left out on etcd: unit tests of
// one module (storage/, auth/, registry/, http/); and encryption-at-rest.test.ts, which reads the SQLite
// files (storage/etcd-store.etcd.test.ts checks etcd's values).
const sqliteOnly = ['/src/(storage|auth|registry|http)/[^/]*(?<!\\.etcd)\\.test\\.ts$', '/src/encryption-at-rest\\.test\\.ts$'];

module.exports = {
  // Two test files at a time even on two cores (jest's default there is one): the tests wait on
  // etcd, child processes and timers more than they compute, and the two projects' 700-odd
  // tests took 8 minutes of CI one at a time, 5.5 two at a time.
  maxWorkers: 2,
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
