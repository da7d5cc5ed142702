#!/usr/bin/env node
// Runs test projects again and again and counts, per project, how many runs passed: the way to
// tell a flaky test from a real regression. Each run goes through the whole list of projects in
// turn, as `npm test` does.
//
//   node scripts/hunt-flakes.cjs [--runs 5] [--projects resilience,e2e] [--node /path/to/node]
//                                [--busy 1] [--out reports/flakes/name.json]
//
// --node runs Jest (and so every process the tests spawn with process.execPath) on another Node
// binary, e.g. the one `bash scripts/fetch-node.sh` prints. --busy N keeps N busy-loop processes
// running beside the tests, to see what a loaded CI machine does to timing-sensitive tests.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

const root = path.join(__dirname, '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    projects: { type: 'string' },
    node: { type: 'string', default: process.execPath },
    busy: { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});

function allProjects() {
  const out = spawnSync('npx', ['nx', 'show', 'projects', '--with-target', 'test', '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  if (out.status !== 0) throw new Error(`nx show projects failed: ${out.stderr}`);
  return JSON.parse(out.stdout).sort();
}

function projectRoot(name) {
  const out = spawnSync('npx', ['nx', 'show', 'project', name, '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  if (out.status !== 0) throw new Error(`nx show project ${name} failed: ${out.stderr}`);
  return JSON.parse(out.stdout).root;
}

/** Failed test titles from Jest's JSON report; a suite that did not run counts by its file name. */
function failuresIn(reportFile) {
  if (!fs.existsSync(reportFile)) return ['(no report: Jest crashed)'];
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  const failures = [];
  for (const suite of report.testResults) {
    const failed = suite.assertionResults.filter((a) => a.status === 'failed');
    for (const a of failed) {
      // The first lines of the assertion's message say what went wrong without the stack.
      const why = (a.failureMessages[0] ?? '')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('at '))
        .slice(0, 4)
        .join(' | ');
      failures.push(`${path.relative(root, suite.name)} > ${a.fullName}: ${why.slice(0, 400)}`);
    }
    if (suite.status === 'failed' && failed.length === 0)
      failures.push(`${path.relative(root, suite.name)} (did not run)`);
  }
  return failures;
}

function runProject(name, dir, reportDir) {
  const reportFile = path.join(reportDir, `${name}.json`);
  fs.rmSync(reportFile, { force: true });
  const started = Date.now();
  const result = spawnSync(
    values.node,
    [
      require.resolve('jest/bin/jest'),
      '--config',
      path.join(dir, 'jest.config.cjs'),
      '--json',
      `--outputFile=${reportFile}`,
      '--silent',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, CI: 'true' } },
  );
  const failures = result.status === 0 ? [] : failuresIn(reportFile);
  if (result.status !== 0 && failures.length === 0) failures.push(`jest exited ${result.status}`);
  return { seconds: (Date.now() - started) / 1000, failures };
}

function main() {
  const runs = Number(values.runs);
  const projects = values.projects ? values.projects.split(',') : allProjects();
  const roots = new Map(projects.map((p) => [p, projectRoot(p)]));
  const nodeVersion = spawnSync(values.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const reportDir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'hunt-'));
  const busy = Array.from({ length: Number(values.busy) }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  const stopBusy = () => busy.forEach((child) => child.kill('SIGKILL'));
  process.on('exit', stopBusy);
  process.on('SIGINT', () => process.exit(130));

  const tally = new Map(projects.map((p) => [p, { passed: 0, runs: 0, seconds: [], failures: [] }]));
  console.log(
    `hunting flakes: ${runs} runs of ${projects.join(', ')} on Node ${nodeVersion}, ${busy.length} busy loop(s)`,
  );
  for (let run = 1; run <= runs; run += 1) {
    for (const project of projects) {
      const { seconds, failures } = runProject(project, roots.get(project), reportDir);
      const t = tally.get(project);
      t.runs += 1;
      t.seconds.push(seconds);
      if (failures.length === 0) t.passed += 1;
      else t.failures.push(...failures.map((f) => `run ${run}: ${f}`));
      console.log(
        `run ${run} ${project}: ${failures.length === 0 ? 'passed' : `FAILED (${failures.join('; ')})`} in ${seconds.toFixed(0)} s`,
      );
    }
  }
  stopBusy();

  console.log(`\nproject        passed/runs  median s   (Node ${nodeVersion}, busy loops ${busy.length})`);
  for (const [project, t] of tally) {
    const sorted = [...t.seconds].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    console.log(
      `${project.padEnd(14)} ${`${t.passed}/${t.runs}`.padEnd(12)} ${median.toFixed(0).padStart(8)}`,
    );
  }
  if (values.out) {
    fs.mkdirSync(path.dirname(values.out), { recursive: true });
    const summary = { node: nodeVersion, busyLoops: busy.length, runs, projects: Object.fromEntries(tally) };
    fs.writeFileSync(values.out, JSON.stringify(summary, null, 2));
  }
  const flaky = [...tally.values()].some((t) => t.passed < t.runs);
  process.exitCode = flaky ? 1 : 0;
}

main();
