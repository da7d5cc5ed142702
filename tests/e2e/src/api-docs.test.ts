/**
 * The API contract on the native stack, as a user meets it: each service's `/openapi.json`
 * passes Redocly's linter, its `/docs` page renders every operation in a real headless Chromium
 * with no console error, and the committed generated files are what the code generates.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import {
  loadedMachineMemcachedEnv,
  relaxedRateLimitEnv,
  startMemcachedCluster,
  uniqueName,
  type MemcachedCluster,
} from '@memshop/testing';
import { launchChromium } from '@memshop/testing/browser';
import { SERVICES, startStack, type Stack } from '../../../scripts/stack';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..', '..');

let memcached: MemcachedCluster | undefined;
let stack: Stack | undefined;
let browser: Browser | undefined;
let scratch: string | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'memshop-openapi-'));
  memcached = await startMemcachedCluster(3);
  stack = await startStack({
    env: { ...relaxedRateLimitEnv, ...loadedMachineMemcachedEnv },
    ports: { catalog: 0, user: 0, order: 0 },
    databases: 'fresh',
    rabbit: 'isolated',
    memcached: { servers: memcached.servers },
    logLevel: 'warn',
    logDir: path.join(os.tmpdir(), uniqueName('e2e-api-docs-logs')),
  });
}, 120_000);

afterAll(async () => {
  try {
    await browser?.close();
    await stack?.stop();
  } finally {
    await memcached?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}, 60_000);

interface Document {
  paths: Record<string, Record<string, { summary?: string }>>;
}

async function served(service: (typeof SERVICES)[number]): Promise<Document> {
  const response = await fetch(`${stack!.urls[service]}/openapi.json`, {
    signal: AbortSignal.timeout(10_000),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

describe.each(SERVICES)('%s-service', (service) => {
  it('serves /openapi.json that Redocly lints clean', async () => {
    const file = path.join(scratch!, `${service}.json`);
    await writeFile(file, JSON.stringify(await served(service)));
    const redocly = path.join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
    // Exit code 0 is the verdict; a failure's output says which rule failed where.
    const result = await run(process.execPath, [redocly, 'lint', '--format=summary', file], {
      cwd: ROOT,
    }).then(
      () => 'valid',
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    expect(result).toBe('valid');
  }, 60_000);

  it('shows every operation on /docs in Chromium, with no console error', async () => {
    const document = await served(service);
    const operations = Object.entries(document.paths).flatMap(([p, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${p}`),
    );
    browser ??= await launchChromium();
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    try {
      const response = await page.goto(`${stack!.urls[service]}/docs`);
      expect(response?.status()).toBe(200);
      // Swagger UI renders one .opblock per operation once it has fetched /openapi.json.
      const blocks = page.locator('.opblock');
      await blocks.nth(operations.length - 1).waitFor({ timeout: 30_000 });
      const shown = await blocks.evaluateAll((elements) =>
        elements.map((element) => {
          const method = element.querySelector('.opblock-summary-method')?.textContent ?? '';
          const summaryPath = element.querySelector('.opblock-summary-path');
          return `${method.trim()} ${summaryPath?.getAttribute('data-path') ?? summaryPath?.textContent ?? ''}`;
        }),
      );
      expect(shown.sort()).toEqual(operations.sort());
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});

it('commits the generated documents and types as the code generates them (`npm run openapi`)', async () => {
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/openapi.ts', '--check'], {
    cwd: ROOT,
  }).then(
    ({ stdout }) => stdout.trim(),
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`.trim(),
  );
  expect(result).toBe('openapi: every generated file is up to date');
}, 120_000);
