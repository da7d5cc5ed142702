import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import request from 'supertest';
import type { ApiDocument } from '../openapi/api-document';
import { apiDocsRouter } from '../openapi/docs-router';

const run = promisify(execFile);

const document = {
  openapi: '3.1.0',
  info: { title: 'test', version: '1' },
  paths: {},
} as ApiDocument;

describe('apiDocsRouter', () => {
  it('serves the document, the page and Swagger UI files from node_modules', async () => {
    const app = express();
    app.use(apiDocsRouter(document));
    await request(app).get('/openapi.json').expect(200, document);
    await request(app).get('/docs').expect(200).expect('Content-Type', /html/);
    await request(app)
      .get('/docs/assets/swagger-ui-bundle.js')
      .expect(200)
      .expect('Content-Type', /javascript/);
  });

  it("does not load Swagger UI's browser bundle into the service process", async () => {
    // A process of its own: Jest's module registry is not require.cache.
    const script = `require(${JSON.stringify(path.join(__dirname, '..', 'openapi', 'docs-router.ts'))});
      const loaded = Object.keys(require.cache).filter((file) => file.includes('swagger-ui-dist'));
      process.stdout.write(JSON.stringify(loaded.map((file) => path.basename(file))));`;
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '-e', `const path = require('node:path'); ${script}`],
      {
        cwd: path.join(__dirname, '..', '..', '..', '..'),
      },
    );
    expect(JSON.parse(stdout)).toEqual(['absolute-path.js']);
  }, 30_000);
});
