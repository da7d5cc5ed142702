import request from 'supertest';
import { seedProduct } from '../prisma/seed';
import { startCatalogFixture, type CatalogFixture } from './catalog-fixture';

let f: CatalogFixture;

beforeAll(async () => {
  f = await startCatalogFixture({ products: 30 });
});

afterAll(async () => {
  await f?.close();
});

describe('GET /products/:id', () => {
  it('answers a miss from Postgres, then a hit from memcached', async () => {
    const first = await request(f.app).get('/products/1').expect(200);
    expect(first.headers['x-cache']).toBe('miss');
    const seeded = seedProduct(1);
    expect(first.body).toMatchObject({
      id: 1,
      sku: seeded.sku,
      name: seeded.name,
      description: seeded.description,
      priceCents: seeded.priceCents,
      currency: 'EUR',
      categoryId: 1,
      category: { id: 1, name: 'Books' },
      version: 1,
    });
    expect(typeof first.body.stock).toBe('number');
    expect(typeof first.body.updatedAt).toBe('string');
    await f.cache.drain();
    const second = await request(f.app).get('/products/1').expect(200);
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.body).toEqual(first.body);
  });

  it('sends a hit as the stored bytes: the body res.json would send for the decoded value', async () => {
    const miss = await request(f.app).get('/products/4').expect(200);
    expect(miss.headers['x-cache']).toBe('miss');
    await f.cache.drain();
    const hit = await request(f.app).get('/products/4').expect(200);
    expect(hit.headers['x-cache']).toBe('hit');
    expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
    const decoded = await f.cache.getOrLoad(f.catalogCache.productKey(4), async () => null);
    expect(decoded.status).toBe('hit');
    expect(hit.text).toBe(JSON.stringify(decoded.value));
    expect(miss.text).toBe(hit.text);
    expect(hit.headers['content-length']).toBe(String(Buffer.byteLength(hit.text)));
  });

  it('rejects malformed ids with 400', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '1e3', '0x10', '99999999999', '%20']) {
      const res = await request(f.app).get(`/products/${id}`).expect(400);
      expect(res.body.error.message).toMatch(/id|integer|large/);
    }
  });

  it('answers 404 for an unknown id and caches the absence', async () => {
    const first = await request(f.app).get('/products/9999').expect(404);
    expect(first.body.error.code).toBe('not_found');
    await f.cache.drain();
    const second = await request(f.app).get('/products/9999').expect(404);
    expect(second.headers['x-cache']).toBe('hit');
  });

  it('treats garbage, a wrong format and a truncated value under the key as a miss', async () => {
    const key = f.catalogCache.productKey(2);
    const good = await request(f.app).get('/products/2').expect(200);
    await f.cache.drain();
    const entry = (await f.cluster.get(key))!.value;
    const corruptions = [
      Buffer.from('garbage \x00\xff'),
      Buffer.from('{"v":999,"value":{}}'),
      entry.subarray(0, entry.length / 2),
    ];
    for (const bad of corruptions) {
      await f.cluster.set(key, bad, 60);
      const res = await request(f.app).get('/products/2').expect(200);
      expect(res.body).toEqual(good.body);
      await f.cache.drain();
    }
  });

  it('counts views in memcached and writes them back to Postgres', async () => {
    await f.flusher.idle();
    await f.flusher.flush({ all: true });
    for (let i = 0; i < 5; i += 1) await request(f.app).get('/products/3').expect(200);
    await request(f.app).get('/products/9999').expect(404);
    await f.flusher.idle();
    const written = await f.flusher.flush({ all: true });
    expect(written).toBe(5);
    expect(await f.repository.productViews(3)).toBe(5);
    // A second flush finds nothing new: no double counting.
    expect(await f.flusher.flush({ all: true })).toBe(0);
    expect(await f.repository.productViews(3)).toBe(5);
  });
});

describe('GET /products?ids=', () => {
  it('reads a batch with one multi-get and reports missing ids', async () => {
    const res = await request(f.app).get('/products?ids=4,5,6,9998').expect(200);
    expect(res.body.products.map((p: { id: number }) => p.id)).toEqual([4, 5, 6]);
    expect(res.body.missing).toEqual([9998]);
    expect(res.headers['x-cache']).toBe('miss');
    await f.cache.drain();
    const again = await request(f.app).get('/products?ids=4,5,6').expect(200);
    expect(again.headers['x-cache']).toBe('hit');
    expect(again.body.products).toEqual(res.body.products);
  });

  it('rejects bad and oversized batches with 400, and an all-unknown batch with 404', async () => {
    await request(f.app).get('/products').expect(400);
    await request(f.app).get('/products?ids=').expect(400);
    await request(f.app).get('/products?ids=1,x').expect(400);
    const tooMany = Array.from({ length: 101 }, (_, i) => i + 1).join(',');
    const res = await request(f.app).get(`/products?ids=${tooMany}`).expect(400);
    expect(res.body.error.message).toMatch(/at most 100/);
    await request(f.app).get('/products?ids=9990,9991').expect(404);
  });
});

describe('GET /categories/:id/products', () => {
  it('pages a category, cached under its namespace version', async () => {
    const first = await request(f.app).get('/categories/2/products?limit=10').expect(200);
    expect(first.headers['x-cache']).toBe('miss');
    expect(first.body.category).toEqual({ id: 2, name: 'Electronics' });
    expect(first.body.total).toBe(6);
    expect(first.body.items.map((p: { id: number }) => p.id)).toEqual([2, 7, 12, 17, 22, 27]);
    await f.cache.drain();
    await request(f.app).get('/categories/2/products?limit=10').expect(200).expect('X-Cache', 'hit');
  });

  it('400 for bad paging, 404 for an unknown category', async () => {
    await request(f.app).get('/categories/2/products?limit=0').expect(400);
    await request(f.app).get('/categories/2/products?limit=101').expect(400);
    await request(f.app).get('/categories/2/products?offset=-1').expect(400);
    await request(f.app).get('/categories/x/products').expect(400);
    await request(f.app).get('/categories/77/products').expect(404);
  });

  it('serves only the page grid (sizes 10, 20, 50, 100 at whole-page offsets up to 1000), 400 off it', async () => {
    const offGrid = [
      ['limit=7', 'limit: must be one of 10, 20, 50, 100'],
      ['limit=30', 'limit: must be one of 10, 20, 50, 100'],
      ['limit=20&offset=5', 'offset: must be a multiple of limit'],
      ['limit=50&offset=20', 'offset: must be a multiple of limit'],
      ['limit=10&offset=1010', 'offset: must be at most 1000'],
    ];
    for (const [query, message] of offGrid) {
      const res = await request(f.app).get(`/categories/2/products?${query}`).expect(400);
      expect({ query, message: res.body.error.message }).toEqual({ query, message });
    }
    for (const query of [
      'limit=10&offset=0',
      'limit=20&offset=40',
      'limit=50&offset=1000',
      'limit=100&offset=100',
    ]) {
      await request(f.app).get(`/categories/2/products?${query}`).expect(200);
    }
  });
});

describe('service endpoints', () => {
  it('reports readiness per dependency on the admin app, the status alone on the public one', async () => {
    expect((await request(f.app).get('/health/ready').expect(200)).body).toEqual({ status: 'ready' });
    const res = await request(f.adminApp).get('/health/ready').expect(200);
    expect(res.body).toMatchObject({ status: 'ready', degraded: false });
    expect(Object.keys(res.body.checks).sort()).toEqual(['database', 'memcached', 'rabbitmq']);
    await request(f.app).get('/health/live').expect(200);
  });

  it('moves the cache counters by exactly one miss and one hit', async () => {
    const read = async () => {
      const text = (await request(f.adminApp).get('/metrics').expect(200)).text;
      const count = (result: string) => {
        const line = text
          .split('\n')
          .find(
            (l) =>
              l.startsWith('memshop_cache_requests_total{') &&
              l.includes('namespace="product"') &&
              l.includes(`result="${result}"`),
          );
        return line ? Number(line.split(' ').pop()) : 0;
      };
      return { hit: count('hit'), miss: count('miss') };
    };
    const before = await read();
    await request(f.app).get('/products/10').expect(200).expect('X-Cache', 'miss');
    await f.cache.drain();
    await request(f.app).get('/products/10').expect(200).expect('X-Cache', 'hit');
    const after = await read();
    expect(after.miss - before.miss).toBe(1);
    expect(after.hit - before.hit).toBe(1);
    expect((await request(f.adminApp).get('/metrics')).text).toMatch(
      /http_request_duration_seconds_count\{service="catalog",method="GET",route="\/products\/:id",status_code="200"\}/,
    );
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await request(f.app).get('/nope').expect(404);
    expect(res.body.error.code).toBe('not_found');
  });
});
