/** Jest configuration for the construct library (the container workspace has its own). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 120000,
  // One temporary directory per run, removed at the end (CDK and cdk8s leave their synth output there).
  globalSetup: '<rootDir>/test/jest/tmpdir-setup.js',
  globalTeardown: '<rootDir>/test/jest/tmpdir-teardown.js',
};
