import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ServiceClient } from '../data/service-client';
import { DependencyUnavailableError } from '../domain/errors';

/** A real HTTP server whose answer each test chooses (no fetch mocks). */
let handler: http.RequestListener = (_req, res) => res.end();
const server = http.createServer((req, res) => handler(req, res));
let client: ServiceClient;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // Generous: a server that answers must never lose to a loaded machine; the timeout test below
  // uses a client of its own against a server that never answers.
  client = new ServiceClient({ service: 'catalog', baseUrl: `http://127.0.0.1:${port}/`, timeoutMs: 10_000 });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const productSchema = z.object({ id: z.number(), name: z.string() });

function answer(status: number, body: unknown): void {
  handler = (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

async function failure(promise: Promise<unknown>): Promise<DependencyUnavailableError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DependencyUnavailableError);
  return err as DependencyUnavailableError;
}

describe('ServiceClient', () => {
  it('parses a 200 body against the schema', async () => {
    answer(200, { id: 1, name: 'Lamp', extra: true });
    await expect(client.getJson('/products/1', productSchema)).resolves.toEqual({ id: 1, name: 'Lamp' });
  });

  it('maps 404 to null', async () => {
    answer(404, { error: { code: 'not_found' } });
    await expect(client.getJson('/products/1', productSchema)).resolves.toBeNull();
  });

  it('treats 5xx, an unexpected status and a body of the wrong shape as unavailable', async () => {
    answer(500, { error: 'boom' });
    expect((await failure(client.getJson('/products/1', productSchema))).message).toMatch(
      /catalog answered GET \/products\/1 with 500/,
    );
    answer(401, {});
    await failure(client.getJson('/products/1', productSchema));
    answer(200, { id: 'one' });
    expect((await failure(client.getJson('/products/1', productSchema))).message).toMatch(
      /unexpected body \(id:/,
    );
    answer(200, 'not json');
    await failure(client.getJson('/products/1', productSchema));
  });

  it('gives up after its timeout', async () => {
    handler = () => undefined; // never answers
    const impatient = new ServiceClient({ service: 'catalog', baseUrl: client.baseUrl, timeoutMs: 300 });
    const err = await failure(impatient.getJson('/products/1', productSchema));
    expect(err.message).toMatch(/no answer within 300 ms/);
    expect(err.service).toBe('catalog');
  });

  it('reports a refused connection as unavailable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const refused = new ServiceClient({
      service: 'user',
      baseUrl: `http://127.0.0.1:${port}`,
      timeoutMs: 1000,
    });
    const err = await failure(refused.getJson('/users/1', productSchema));
    expect(err.message).toMatch(/user is unavailable \(GET \/users\/1: ECONNREFUSED\)/);
  });

  it('hands 4xx answers of a POST to the caller, with JSON headers and its own', async () => {
    let seen: http.IncomingHttpHeaders = {};
    let received = '';
    handler = (req, res) => {
      seen = req.headers;
      req.on('data', (chunk: Buffer) => (received += chunk.toString()));
      req.on('end', () => {
        res.writeHead(409, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'conflict' } }));
      });
    };
    const response = await client.postJson(
      '/stock/reservations',
      { items: [] },
      { 'idempotency-key': 'abc' },
    );
    expect(response).toEqual({ status: 409, body: { error: { code: 'conflict' } } });
    expect(JSON.parse(received)).toEqual({ items: [] });
    expect(seen['content-type']).toBe('application/json');
    expect(seen['idempotency-key']).toBe('abc');
  });
});

describe('ServiceClient.fetch (for the typed openapi-fetch clients)', () => {
  it('passes path, query, body and idempotency key through request(), and answers a readable Response', async () => {
    let seen: { url?: string; method?: string; key?: string | string[]; body?: string } = {};
    handler = (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen = { url: req.url, method: req.method, key: req.headers['idempotency-key'], body };
        res.writeHead(409, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'conflict', message: 'no' } }));
      });
    };
    const response = await client.fetch(
      new Request(`${client.baseUrl}/stock/reservations?x=1`, {
        method: 'POST',
        headers: { 'idempotency-key': 'order-1', 'content-type': 'application/json' },
        body: JSON.stringify({ items: [] }),
      }),
    );
    expect(seen).toEqual({
      url: '/stock/reservations?x=1',
      method: 'POST',
      key: 'order-1',
      body: '{"items":[]}',
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ error: { code: 'conflict', message: 'no' } });
  });

  it('reports 5xx as unavailable, like every other call', async () => {
    answer(502, { error: 'bad gateway' });
    await failure(client.fetch(new Request(`${client.baseUrl}/products?ids=1`)));
  });
});
