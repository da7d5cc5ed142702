module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'e2e',
  rootDir: __dirname,
  // Every response the suites receive from a service is checked against its OpenAPI document.
  setupFilesAfterEnv: ['<rootDir>/src/contract-setup.ts'],
};
