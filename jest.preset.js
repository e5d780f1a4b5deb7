// Shared jest settings: ts-jest without diagnostics (tsc -b type-checks; isolatedModules in tsconfig.base.json makes ts-jest transpile each file alone, which is fast).
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
