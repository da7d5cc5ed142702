// Shared Jest settings. Every project's jest.config.cjs spreads this and sets rootDir.
// @swc/jest strips types only (fast on 2 cores); `npm run typecheck` runs tsc for types.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias}$`] = path.join(__dirname, target);
}
// Sources written for Node's ESM resolution import `./x.js`; Jest resolves the `./x.ts` beside it.
moduleNameMapper['^(\\.{1,2}/.*)\\.js$'] = '$1';

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // jose ships ES modules only; the same swc transform turns it into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/generated/'],
  testTimeout: 60_000,
  // Integration tests share real servers; one worker per project keeps them predictable on 2 cores.
  maxWorkers: 1,
};
