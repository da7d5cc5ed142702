/**
 * The seed's workflow across the three real services (child processes started by startStack,
 * as `npm run stack` runs them): an order shows the product's price through order-service's own
 * cache; a PATCH in catalog deletes that copy before it answers, and its event goes through the
 * outbox and RabbitMQ to order-service, which purges it too; the next read shows the new price.
 * Nothing sleeps: every wait polls for the thing it waits for.
 */
import os from 'node:os';
import path from 'node:path';
import {
  bearer,
  loadedMachineMemcachedEnv,
  relaxedRateLimitEnv,
  startMemcachedCluster,
  uniqueName,
  waitFor,
  type MemcachedCluster,
} from '@memshop/testing';
import { startStack, type Stack } from '../../../scripts/stack';

let memcached: MemcachedCluster | undefined;
let stack: Stack | undefined;

beforeAll(async () => {
  memcached = await startMemcachedCluster(3);
  stack = await startStack({
    env: { ...relaxedRateLimitEnv, ...loadedMachineMemcachedEnv },
    ports: { catalog: 0, user: 0, order: 0 },
    databases: 'fresh',
    rabbit: 'isolated',
    memcached: { servers: memcached.servers },
    logLevel: 'warn',
    logDir: path.join(os.tmpdir(), uniqueName('e2e-workflow-logs')),
  });
}, 120_000);

afterAll(async () => {
  // Each step runs even when an earlier one fails: stop() collects errors and rethrows at the end.
  try {
    await stack?.stop();
  } finally {
    await memcached?.stop();
  }
}, 60_000);

interface Reply<T> {
  status: number;
  cache: string | null;
  body: T;
}

/** A request sent with the credential `as` (an Authorization header). */
async function http<T>(
  as: { authorization: string },
  method: string,
  url: string,
  body?: unknown,
): Promise<Reply<T>> {
  const response = await fetch(url, {
    method,
    headers: { ...as, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: response.status,
    cache: response.headers.get('x-cache'),
    body: (await response.json()) as T,
  };
}

interface OrderView {
  id: number;
  userId: number;
  totalCents: number;
  user: { id: number; name: string } | null;
  items: Array<{
    productId: number;
    quantity: number;
    unitPriceCents: number;
    product: { id: number; name: string; priceCents: number } | null;
  }>;
}

/** order-service's `memshop_invalidations_consumed_total{entity=...}`, summed. */
async function consumedEvents(entity: string): Promise<number> {
  const text = await (await fetch(`${stack!.adminUrls.order}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('memshop_invalidations_consumed_total{') && line.includes(`entity="${entity}"`)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

describe('workflow across catalog, user and order', () => {
  it("shows the old price, then the new one as soon as catalog's PATCH has answered", async () => {
    const { catalog, order } = stack!.urls;
    const productId = 7;
    const asUser = bearer(await stack!.auth.userToken(2));
    const asAdmin = bearer(await stack!.auth.adminToken());
    const product = await http<{ priceCents: number; version: number }>(
      asUser,
      'GET',
      `${catalog}/products/${productId}`,
    );
    expect(product.status).toBe(200);
    const oldPrice = product.body.priceCents;

    const created = await http<OrderView>(asUser, 'POST', `${order}/orders`, {
      userId: 2,
      items: [{ productId, quantity: 3 }],
    });
    expect(created.status).toBe(201);
    const orderUrl = `${order}/orders/${created.body.id}`;

    // Taking the stock published catalog.stock.updated, which order-service does not bind: its
    // copy of the product stays, and only the price change below can purge it.
    expect(await consumedEvents('product')).toBe(0);

    const cached = await waitFor(
      async () => {
        const reply = await http<OrderView>(asUser, 'GET', orderUrl);
        return reply.cache === 'hit' && reply;
      },
      { intervalMs: 20, message: "order-service's cached copy of the order" },
    );
    expect(cached.status).toBe(200);
    expect(cached.body.items).toEqual([
      {
        productId,
        quantity: 3,
        unitPriceCents: oldPrice,
        product: expect.objectContaining({ id: productId, priceCents: oldPrice }),
      },
    ]);

    const consumedBefore = await consumedEvents('product');
    const newPrice = oldPrice + 1234;
    const patched = await http<{ priceCents: number }>(asAdmin, 'PATCH', `${catalog}/products/${productId}`, {
      priceCents: newPrice,
    });
    expect(patched.status).toBe(200);
    expect(patched.body.priceCents).toBe(newPrice);

    // catalog deleted order-service's copy before it answered (INVALIDATION_PRODUCT_COPIES), after its
    // own entry held the new row: the very next read misses and shows the new price, whether or
    // not the event has arrived yet.
    const fresh = await http<OrderView>(asUser, 'GET', orderUrl);
    expect(fresh.cache).toBe('miss');
    expect(fresh.body.items[0]).toEqual({
      productId,
      quantity: 3,
      unitPriceCents: oldPrice,
      product: expect.objectContaining({ id: productId, priceCents: newPrice }),
    });
    expect(fresh.body.totalCents).toBe(3 * oldPrice);
    // The event reaches order-service as well, and purges on its own terms (floor and purge).
    await waitFor(async () => (await consumedEvents('product')) > consumedBefore, {
      message: "order-service to consume catalog's event",
    });
  });
});
