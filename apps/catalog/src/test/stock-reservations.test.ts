import { waitFor } from '@memshop/testing';
import request from 'supertest';
import { startCatalogFixture, type CatalogFixture } from './catalog-fixture';

let f: CatalogFixture;

beforeAll(async () => {
  f = await startCatalogFixture({ products: 30 });
});

afterAll(async () => {
  await f?.close();
});

async function stockOf(productId: number): Promise<number> {
  const row = await f.adminPrisma.stock.findUnique({ where: { productId } });
  return row!.quantity;
}

const reserve = (body: object) =>
  request(f.app).post('/stock/reservations').set(f.as.orderService).send(body);

describe('stock reservations by reference', () => {
  it('takes the stock once for a reference sent many times at once, and answers each the same', async () => {
    await request(f.app).patch('/products/3').set(f.as.admin).send({ stock: 20 }).expect(200);
    const body = { reference: 'same-ref-1', items: [{ productId: 3, quantity: 4 }] };
    const answers = await Promise.all(Array.from({ length: 8 }, () => reserve(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    // `stock` is what is left now (a replay reads it again); everything else is the record.
    const shapes = answers.map(({ body: b }) => ({
      ...b,
      items: (b.items as Array<{ stock: number }>).map(({ stock: _stock, ...item }) => item),
    }));
    expect(new Set(shapes.map((s) => JSON.stringify(s))).size).toBe(1);
    expect(shapes[0]).toMatchObject({ reference: 'same-ref-1', status: 'active' });
    expect(await stockOf(3)).toBe(16);
    // The Idempotency-Key header is the reference when the body has none.
    await request(f.app)
      .post('/stock/reservations')
      .set(f.as.orderService)
      .set('Idempotency-Key', 'same-ref-1')
      .send({ items: [{ productId: 3, quantity: 4 }] })
      .expect(200);
    expect(await stockOf(3)).toBe(16);
    const other = await reserve({ reference: 'same-ref-1', items: [{ productId: 3, quantity: 5 }] });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('reservation_mismatch');
  });

  it('confirms and releases idempotently; a release gives the stock back once', async () => {
    await request(f.app).patch('/products/4').set(f.as.admin).send({ stock: 10 }).expect(200);
    await reserve({ reference: 'conf-1', items: [{ productId: 4, quantity: 3 }] }).expect(200);
    for (let i = 0; i < 2; i += 1) {
      const confirmed = await request(f.app)
        .post('/stock/confirmations')
        .set(f.as.orderService)
        .send({ reference: 'conf-1' })
        .expect(200);
      expect(confirmed.body.status).toBe('confirmed');
    }
    expect(await stockOf(4)).toBe(7);
    const releases = await Promise.all(
      Array.from({ length: 4 }, () =>
        request(f.app).post('/stock/releases').set(f.as.orderService).send({ reference: 'conf-1' }),
      ),
    );
    expect(releases.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(releases.every((r) => r.body.status === 'released')).toBe(true);
    expect(await stockOf(4)).toBe(10);
    const late = await request(f.app)
      .post('/stock/confirmations')
      .set(f.as.orderService)
      .send({ reference: 'conf-1' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('reservation_released');
    const got = await request(f.app).get('/stock/reservations/conf-1').set(f.as.orderService).expect(200);
    expect(got.body).toMatchObject({ reference: 'conf-1', status: 'released' });
    await request(f.app).get('/stock/reservations/nope-1').set(f.as.orderService).expect(404);
  });

  it('refuses a reservation that arrives after its reference was confirmed or released unseen', async () => {
    await request(f.app).patch('/products/5').set(f.as.admin).send({ stock: 10 }).expect(200);
    await request(f.app)
      .post('/stock/confirmations')
      .set(f.as.orderService)
      .send({ reference: 'late-1' })
      .expect(409);
    await request(f.app)
      .post('/stock/releases')
      .set(f.as.orderService)
      .send({ reference: 'late-2' })
      .expect(200);
    for (const reference of ['late-1', 'late-2']) {
      const refused = await reserve({ reference, items: [{ productId: 5, quantity: 1 }] });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('reservation_released');
    }
    expect(await stockOf(5)).toBe(10);
  });

  it('gives the stock of expired reservations back once, with two sweepers racing', async () => {
    await request(f.app).patch('/products/6').set(f.as.admin).send({ stock: 100 }).expect(200);
    const references = Array.from({ length: 20 }, (_, i) => `expiring-${i}`);
    for (const reference of references) {
      await reserve({ reference, ttlSeconds: 1, items: [{ productId: 6, quantity: 2 }] }).expect(200);
    }
    await reserve({ reference: 'kept-1', ttlSeconds: 1, items: [{ productId: 6, quantity: 5 }] }).expect(200);
    await request(f.app)
      .post('/stock/confirmations')
      .set(f.as.orderService)
      .send({ reference: 'kept-1' })
      .expect(200);
    expect(await stockOf(6)).toBe(55);
    // Two catalog instances sweeping the same table at once (SKIP LOCKED shares the rows).
    const sweepers = [f.repository.reservations, f.repository.reservations];
    let released = 0;
    await waitFor(
      async () => {
        const counts = await Promise.all(
          sweepers.map(async (repo) => {
            let n = 0;
            while (await repo.releaseOneExpired()) n += 1;
            return n;
          }),
        );
        released += counts[0]! + counts[1]!;
        return released === references.length;
      },
      { message: 'the expired reservations to be released', intervalMs: 200 },
    );
    expect(released).toBe(20);
    expect(await stockOf(6)).toBe(95);
    const kept = await request(f.app).get('/stock/reservations/kept-1').set(f.as.orderService).expect(200);
    expect(kept.body.status).toBe('confirmed');
  });

  it('answers a storm of stock PATCHes racing reservations on one product without a 500 or a hang', async () => {
    await request(f.app).patch('/products/7').set(f.as.admin).send({ stock: 1000 }).expect(200);
    const ROUNDS = 25;
    const statuses: number[] = [];
    // Each answer must come within the service's bound (a lock wait is capped at 4 s, and the
    // transaction at Prisma's 5 s): a request still open at 6 s is a hang.
    const send = async (req: request.Test) => {
      const res = await req.timeout(6000);
      statuses.push(res.status);
    };
    const patcher = async (client: number) => {
      for (let i = 0; i < ROUNDS; i += 1) {
        await send(
          request(f.app)
            .patch('/products/7')
            .set(f.as.admin)
            .send({ stock: 500 + client * 100 + i, name: `Storm ${i}` }),
        );
      }
    };
    const reserver = async (client: number) => {
      for (let i = 0; i < ROUNDS; i += 1) {
        const items = [
          { productId: 7, quantity: 1 },
          { productId: 8, quantity: 1 },
        ];
        await send(
          i % 2 === 0
            ? reserve({ items })
            : reserve({ reference: `storm-${client}-${i}`, items: [...items].reverse() }),
        );
      }
    };
    await Promise.all([0, 1, 2].flatMap((c) => [patcher(c), reserver(c)]));
    expect(statuses).toHaveLength(6 * ROUNDS);
    // One lock order (product, then stock) leaves no deadlock to retry: every answer is a 200.
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('rejects a malformed reference and both reference and items in a release', async () => {
    await reserve({ reference: 'bad ref', items: [{ productId: 3, quantity: 1 }] }).expect(400);
    await request(f.app)
      .post('/stock/reservations')
      .set(f.as.orderService)
      .set('Idempotency-Key', 'x'.repeat(101))
      .send({ items: [{ productId: 3, quantity: 1 }] })
      .expect(400);
    await request(f.app)
      .post('/stock/releases')
      .set(f.as.orderService)
      .send({ reference: 'r', items: [{ productId: 3, quantity: 1 }] })
      .expect(400);
  });
});
