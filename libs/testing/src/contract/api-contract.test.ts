import express from 'express';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { ApiContract } from './api-contract';
import { contractCheckedApp } from './contract-checked-app';
import { checkFetchResponses } from './contract-fetch';

const document = {
  openapi: '3.1.0',
  info: { title: 'test', version: '1' },
  paths: {
    '/things/{id}': {
      get: {
        responses: {
          '200': {
            description: 'a thing',
            headers: { 'X-Cache': { required: true, schema: { type: 'string', enum: ['hit', 'miss'] } } },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
          },
          '404': { description: 'none', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
      delete: { responses: { '204': { description: 'gone' } } },
    },
    '/things/special': { get: { responses: { '200': { description: 'literal path' } } } },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        properties: { id: { type: 'integer' }, at: { type: 'string', format: 'date-time' } },
        required: ['id', 'at'],
      },
    },
  },
};

function appAnswering(status: number, body: unknown, headers: Record<string, string> = {}) {
  const app = express();
  app.use((_req, res) => {
    res.status(status).set(headers);
    if (body === undefined) res.end();
    else res.json(body);
  });
  return app;
}

async function check(app: express.Express, method: 'get' | 'delete', url: string) {
  const contract = new ApiContract(document);
  await request(contractCheckedApp(app, contract))[method](url);
  return contract;
}

describe('ApiContract', () => {
  it('accepts a response that matches the document, and records the operation', async () => {
    const contract = await check(
      appAnswering(200, { id: 1, at: '2026-01-01T00:00:00.000Z' }, { 'X-Cache': 'hit' }),
      'get',
      '/things/1',
    );
    expect(contract.violations).toEqual([]);
    expect([...contract.exercised]).toEqual(['GET /things/{id} 200']);
    expect(contract.unexercisedOperations()).toEqual(['DELETE /things/{id}', 'GET /things/special']);
  });

  it('rejects a body that breaks the schema (through a $ref), with the field named', async () => {
    const contract = await check(
      appAnswering(200, { id: 'one', at: 'yesterday' }, { 'X-Cache': 'hit' }),
      'get',
      '/things/1',
    );
    expect(contract.violations).toEqual([
      expect.stringMatching(/GET \/things\/1 -> 200: body: .*id must be integer/),
    ]);
    expect(contract.violations[0]).toMatch(/at must match format "date-time"/);
  });

  it('rejects an undocumented status, a missing or wrong required header, and an undocumented route', async () => {
    expect((await check(appAnswering(500, { error: {} }), 'get', '/things/1')).violations).toEqual([
      expect.stringContaining('status 500 is not documented (documented: 200, 404)'),
    ]);
    expect(
      (await check(appAnswering(200, { id: 1, at: '2026-01-01T00:00:00Z' }), 'get', '/things/1')).violations,
    ).toEqual([expect.stringContaining('missing header X-Cache')]);
    expect(
      (
        await check(
          appAnswering(200, { id: 1, at: '2026-01-01T00:00:00Z' }, { 'X-Cache': 'warm' }),
          'get',
          '/things/1',
        )
      ).violations,
    ).toEqual([expect.stringContaining('header X-Cache: data must be equal to one of the allowed values')]);
    expect((await check(appAnswering(200, {}), 'get', '/elsewhere')).violations).toEqual([
      expect.stringContaining('no documented operation GET /elsewhere'),
    ]);
  });

  it("accepts the app's JSON 404 for an unknown route, a documented empty 204, and prefers literal paths", async () => {
    const notFound = appAnswering(404, { error: { code: 'not_found', message: 'no route' } });
    expect((await check(notFound, 'get', '/elsewhere')).violations).toEqual([]);
    expect((await check(appAnswering(204, undefined), 'delete', '/things/1')).violations).toEqual([]);
    const literal = await check(appAnswering(200, undefined), 'get', '/things/special');
    expect([...literal.exercised]).toEqual(['GET /things/special 200']);
  });

  it('throws from assertNoViolations with every violation listed', async () => {
    const contract = await check(appAnswering(200, { id: 1 }, { 'X-Cache': 'hit' }), 'get', '/things/1');
    expect(() => contract.assertNoViolations()).toThrow(/1 response\(s\) do not match the OpenAPI document/);
  });
});

describe('checkFetchResponses', () => {
  it("checks what fetch receives from a documented route, leaves other routes alone, and keeps the caller's body", async () => {
    const server = appAnswering(200, { id: 'one' }, { 'X-Cache': 'hit' }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const contract = new ApiContract(document);
    const check = checkFetchResponses([contract]);
    try {
      const response = await fetch(`${base}/things/1`);
      expect(await response.json()).toEqual({ id: 'one' });
      await fetch(`${base}/not/documented`);
    } finally {
      check.restore();
      server.close();
    }
    await expect(check.assertNoViolations()).rejects.toThrow(
      /GET \/things\/1 -> 200: body: .*id must be integer/,
    );
    expect(check.violations()).toHaveLength(1);
  });
});
