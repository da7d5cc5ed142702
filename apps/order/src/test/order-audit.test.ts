import { waitFor } from '@memshop/testing';
import { Client } from 'pg';
import request from 'supertest';
import { orderCacheKeys } from '../data/cache-keys';
import { startOrderFixture, type OrderFixture } from './order-fixture';

let f: OrderFixture;

beforeAll(async () => {
  // No grace window: the test changes rows behind every cache's back, nothing is in flight.
  f = await startOrderFixture({ env: { CACHE_AUDIT_GRACE_MS: '0' } });
}, 120_000);

afterAll(async () => {
  await f?.close();
});

async function sql(databaseUrl: string, query: string, values: unknown[]): Promise<void> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(query, values);
  } finally {
    await db.end();
  }
}

/** An owner's read as an admin (user reads are not public). */
function ownerRead(url: string): Promise<Response> {
  return fetch(url, { headers: f.as.admin });
}

/** Until the owner's own cache serves `url` (a hit), so a later change behind its back leaves it stale. */
async function ownerCacheHolds(url: string): Promise<void> {
  await waitFor(async () => (await ownerRead(url)).headers.get('x-cache') === 'hit', {
    message: `${url} served from the owner's cache`,
  });
}

async function audit() {
  const reports = await f.service.auditor.auditOnce(1000);
  return Object.fromEntries(reports.map((r) => [r.namespace, r]));
}

describe("the staleness audit of order-service's copies", () => {
  it("finds a stale copy although the owner's cache is just as stale (it reads the owners' databases)", async () => {
    const productId = 5;
    const userId = 3;
    const placed = await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(userId))
      .send({ userId, items: [{ productId, quantity: 1 }] })
      .expect(201);
    await request(f.service.app).get(`/orders/${placed.body.id}`).set(f.as.admin).expect(200);
    await f.service.cache.drain();
    const keys = orderCacheKeys(1);
    for (const key of [keys.product(productId), keys.user(userId)]) {
      await waitFor(async () => (await f.service.cache.peek(key)) !== undefined, {
        message: `order-service's copy ${key} cached`,
      });
    }
    const productUrl = `${f.catalogUrl}/products/${productId}`;
    const userUrl = `${f.userUrl}/users/${userId}`;
    await ownerCacheHolds(productUrl);
    await ownerCacheHolds(userUrl);

    const before = await audit();
    expect(before['order-product-copy']?.staleIds).not.toContain(String(productId));
    expect(before['order-user-copy']?.staleIds).not.toContain(String(userId));

    // A change no event announces (as when one is lost): every cache still holds the old value.
    await sql(f.catalogDatabaseUrl, 'UPDATE products SET price_cents = price_cents + 1 WHERE id = $1', [
      productId,
    ]);
    await sql(f.stack.databases.user.url, "UPDATE users SET name = name || ' (renamed)' WHERE id = $1", [
      userId,
    ]);
    const ownerProduct = await ownerRead(productUrl);
    expect(ownerProduct.headers.get('x-cache')).toBe('hit');
    const ownerUser = await ownerRead(userUrl);
    expect(ownerUser.headers.get('x-cache')).toBe('hit');
    expect(((await ownerUser.json()) as { name: string }).name).not.toMatch(/\(renamed\)$/);

    const after = await audit();
    expect(after['order-product-copy']?.staleIds).toContain(String(productId));
    expect(after['order-user-copy']?.staleIds).toContain(String(userId));
  });
});
