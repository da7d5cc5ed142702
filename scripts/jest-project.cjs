#!/usr/bin/env node
// Runs one Nx project's Jest suite and leaves its JSON results in reports/jest/<project>.json,
// which .ci/run adds up into the "N passed, N failed" line. Extra args go through to Jest.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const [projectName, projectRoot, ...jestArgs] = process.argv.slice(2);
const reportDir = path.join(__dirname, '..', 'reports', 'jest');
fs.mkdirSync(reportDir, { recursive: true });
const outputFile = path.join(reportDir, `${projectName}.json`);
fs.rmSync(outputFile, { force: true });

const result = spawnSync(
  process.execPath,
  [
    require.resolve('jest/bin/jest'),
    '--config',
    path.join(projectRoot, 'jest.config.cjs'),
    '--json',
    `--outputFile=${outputFile}`,
    ...jestArgs,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
