#!/usr/bin/env node
// Adds up Jest's JSON results (one file per Nx project, written by jest-project.cjs) and prints
// the line CI reads: "N passed, N failed". A test file that failed to run (syntax error, crash,
// failing beforeAll) counts as one failure, so a broken suite can't pass by running nothing.
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2] || 'reports/jest';
// Projects that should have reported (comma-separated); one with no report crashed before Jest wrote it.
const expected = (process.argv[3] || '').split(',').filter(Boolean);
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
let passed = 0;
let failed = 0;
for (const project of expected) {
  if (!files.includes(`${project}.json`)) {
    failed += 1;
    console.log(`no test report from project ${project}`);
  }
}
for (const file of files) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  for (const suite of r.testResults) {
    const counted = suite.assertionResults.some((a) => a.status === 'failed');
    if (suite.status === 'failed' && !counted) {
      failed += 1;
      console.log(`suite failed to run: ${path.relative(process.cwd(), suite.name)}`);
    }
  }
}
if (files.length === 0) failed += 1;
console.log(`projects: ${files.length}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
