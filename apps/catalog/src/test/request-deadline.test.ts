import { defaultEntryCodec } from '@memshop/cache/advanced';
import request from 'supertest';
import { startCatalogFixture, type CatalogFixture } from './catalog-fixture';

let f: CatalogFixture;

beforeAll(async () => {
  // A budget far below the lease wait (lease TTL + 1 s = 6 s), so which of the two ended the
  // wait is plain from the request's own timeout below.
  f = await startCatalogFixture({ products: 10, env: { REQUEST_DEADLINE_MS: '200' } });
});

afterAll(async () => {
  await f?.close();
});

describe("a request waiting on another instance's load", () => {
  it("stops waiting at its deadline and reads the database itself, leaving the holder's lease alone", async () => {
    const key = f.catalogCache.productKey(3);
    const holder = defaultEntryCodec.encodeLease('another-instance-loading');
    await f.cluster.add(key, holder, 30);

    const res = await request(f.app).get('/products/3').timeout(4000).expect(200);

    expect(res.headers['x-cache']).toBe('miss');
    expect(res.body).toMatchObject({ id: 3 });
    await f.cache.drain();
    expect((await f.cluster.get(key))?.value.equals(holder)).toBe(true);
  });
});
